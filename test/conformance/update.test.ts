// Update operators, upserts, arrayFilters, replaceOne, counts, and the immutable _id.
import t from 'tap'
import mongoose from 'mongoose'
import { startTestMongo } from '../helpers/mongo.js'

const mongo = await startTestMongo(t)
const { db, connection } = mongo
let n = 0
// Untyped on purpose: the driver's update-operator types reject schemaless documents.
const fresh = (): any => db.collection(`upd_${++n}`)
const strip = ({ _id, ...rest }: any): any => rest

t.test('$set and $unset, including dotted paths', async (t) => {
  const c = fresh()
  await c.insertOne({ _id: 1, a: 1, b: { c: 1, d: 2 } })
  let r = await c.updateOne({ _id: 1 }, { $set: { a: 2, 'b.c': 5, 'x.y.z': true } })
  t.equal(r.matchedCount, 1)
  t.equal(r.modifiedCount, 1)
  t.same(await c.findOne({ _id: 1 }), { _id: 1, a: 2, b: { c: 5, d: 2 }, x: { y: { z: true } } }, '$set creates missing parents')
  r = await c.updateOne({ _id: 1 }, { $set: { a: 2 } })
  t.equal(r.matchedCount, 1)
  t.equal(r.modifiedCount, 0, 'setting the same value modifies nothing')
  r = await c.updateOne({ _id: 1 }, { $unset: { a: '', 'b.d': 1 } })
  t.equal(r.modifiedCount, 1)
  t.same(await c.findOne({ _id: 1 }), { _id: 1, b: { c: 5 }, x: { y: { z: true } } })
  r = await c.updateOne({ _id: 1 }, { $unset: { nothere: '' } })
  t.equal(r.matchedCount, 1)
  t.equal(r.modifiedCount, 0, 'unsetting a missing field modifies nothing')
  r = await c.updateOne({ _id: 99 }, { $set: { a: 1 } })
  t.equal(r.matchedCount, 0)
  t.equal(r.upsertedCount, 0)
  t.equal(r.upsertedId, null)
})

t.test('$inc', async (t) => {
  const c = fresh()
  await c.insertOne({ _id: 1, n: 5, s: 'str' })
  await c.updateOne({ _id: 1 }, { $inc: { n: 2, m: 3, 'deep.k': -1 } })
  t.same(await c.findOne({ _id: 1 }), { _id: 1, n: 7, s: 'str', m: 3, deep: { k: -1 } }, 'missing fields start at the increment')
  await c.updateOne({ _id: 1 }, { $inc: { n: 0.5 } })
  t.equal((await c.findOne({ _id: 1 }))?.n, 7.5)
  const err = await c.updateOne({ _id: 1 }, { $inc: { s: 1 } }).then(() => null, (e: unknown) => e) as any
  t.equal(err?.code, 14, '$inc on a string: TypeMismatch')
  const err2 = await c.updateOne({ _id: 1 }, { $inc: { n: 'x' } } as any).then(() => null, (e: unknown) => e) as any
  t.ok(err2, '$inc by a non-number is rejected')
  t.equal((await c.findOne({ _id: 1 }))?.n, 7.5, 'failed updates change nothing')
})

t.test('$push, $addToSet, $pull', async (t) => {
  const c = fresh()
  await c.insertOne({ _id: 1, tags: ['a'], items: [{ k: 1, q: 1 }, { k: 2, q: 5 }, { k: 3, q: 0 }] })
  await c.updateOne({ _id: 1 }, { $push: { tags: 'b', newArr: 1 } })
  t.same((await c.findOne({ _id: 1 }))?.tags, ['a', 'b'])
  t.same((await c.findOne({ _id: 1 }))?.newArr, [1], '$push creates the array')
  await c.updateOne({ _id: 1 }, { $push: { tags: { $each: ['c', 'd', 'e'], $slice: -4 } } })
  t.same((await c.findOne({ _id: 1 }))?.tags, ['b', 'c', 'd', 'e'], '$each with $slice keeps the last 4')
  await c.updateOne({ _id: 1 }, { $push: { tags: { $each: ['z'], $position: 0 } } })
  t.same((await c.findOne({ _id: 1 }))?.tags, ['z', 'b', 'c', 'd', 'e'], '$position')
  let r = await c.updateOne({ _id: 1 }, { $addToSet: { tags: 'c' } })
  t.equal(r.modifiedCount, 0, '$addToSet of a present value modifies nothing')
  await c.updateOne({ _id: 1 }, { $addToSet: { tags: { $each: ['c', 'f', 'f'] } } })
  t.same((await c.findOne({ _id: 1 }))?.tags, ['z', 'b', 'c', 'd', 'e', 'f'])
  await c.updateOne({ _id: 1 }, { $pull: { tags: { $in: ['z', 'd'] } } })
  t.same((await c.findOne({ _id: 1 }))?.tags, ['b', 'c', 'e', 'f'])
  await c.updateOne({ _id: 1 }, { $pull: { tags: 'e' } })
  t.same((await c.findOne({ _id: 1 }))?.tags, ['b', 'c', 'f'])
  await c.updateOne({ _id: 1 }, { $pull: { items: { q: { $lt: 2 } } } })
  t.same((await c.findOne({ _id: 1 }))?.items, [{ k: 2, q: 5 }], '$pull by condition on subdocuments')
  r = await c.updateOne({ _id: 1 }, { $pull: { tags: 'nope' } })
  t.equal(r.modifiedCount, 0)
  const err = await c.updateOne({ _id: 1 }, { $push: { 'items.0.k': 1 } }).then(() => null, (e: unknown) => e) as any
  t.ok(err, '$push onto a non-array is rejected')
  await c.updateOne({ _id: 1 }, { $pop: { tags: 1 } })
  t.same((await c.findOne({ _id: 1 }))?.tags, ['b', 'c'], '$pop 1 removes the last')
})

t.test('upsert builds the new document from the query equalities', async (t) => {
  const c = fresh()
  const r = await c.updateOne(
    { name: 'x', age: { $gt: 5 }, 'a.b': 3, kind: { $eq: 'k' }, $and: [{ z: 1 }] },
    { $set: { c: 1 }, $setOnInsert: { created: true } },
    { upsert: true }
  )
  t.equal(r.matchedCount, 0)
  t.equal(r.modifiedCount, 0)
  t.equal(r.upsertedCount, 1)
  t.ok(r.upsertedId instanceof mongoose.Types.ObjectId, 'generated ObjectId')
  const doc = await c.findOne({ _id: r.upsertedId })
  t.same(strip(doc), { name: 'x', a: { b: 3 }, kind: 'k', z: 1, c: 1, created: true }, 'equalities copied, $gt not')

  const again = await c.updateOne({ name: 'x' }, { $set: { c: 2 }, $setOnInsert: { created: false } }, { upsert: true })
  t.equal(again.matchedCount, 1)
  t.equal(again.upsertedCount, 0)
  t.same(strip(await c.findOne({ name: 'x' })), { name: 'x', a: { b: 3 }, kind: 'k', z: 1, c: 2, created: true },
    '$setOnInsert ignored when the document exists')

  const withId = await c.updateOne({ _id: 'fixed' }, { $inc: { n: 1 } }, { upsert: true })
  t.equal(withId.upsertedId, 'fixed', '_id from the query')
  t.same(await c.findOne({ _id: 'fixed' }), { _id: 'fixed', n: 1 })

  const repl = await c.replaceOne({ slug: 's' }, { slug: 's', body: 'b' }, { upsert: true })
  t.equal(repl.upsertedCount, 1)
  t.same(strip(await c.findOne({ slug: 's' })), { slug: 's', body: 'b' }, 'replacement upsert')
})

t.test('arrayFilters, $[] and positional $', async (t) => {
  const c = fresh()
  await c.insertOne({ _id: 1, grades: [95, 80, 92], items: [{ k: 'a', q: 1 }, { k: 'b', q: 2 }, { k: 'a', q: 3 }] })
  await c.updateOne({ _id: 1 }, { $set: { 'grades.$[g]': 100 } }, { arrayFilters: [{ g: { $gte: 90 } }] })
  t.same((await c.findOne({ _id: 1 }))?.grades, [100, 80, 100])
  await c.updateOne({ _id: 1 }, { $inc: { 'items.$[it].q': 10 } }, { arrayFilters: [{ 'it.k': 'a' }] })
  t.same((await c.findOne({ _id: 1 }))?.items, [{ k: 'a', q: 11 }, { k: 'b', q: 2 }, { k: 'a', q: 13 }])
  await c.updateOne({ _id: 1 }, { $inc: { 'grades.$[]': -1 } })
  t.same((await c.findOne({ _id: 1 }))?.grades, [99, 79, 99], '$[] updates every element')
  await c.updateOne({ _id: 1, 'items.k': 'b' }, { $set: { 'items.$.q': 0 } })
  t.same((await c.findOne({ _id: 1 }))?.items[1], { k: 'b', q: 0 }, 'positional $ updates the first matched element')
  const err = await c.updateOne({ _id: 1 }, { $set: { 'grades.$[nope]': 1 } }).then(() => null, (e: unknown) => e) as any
  t.equal(err?.code, 2, 'an identifier without an arrayFilter is BadValue')
})

t.test('replaceOne keeps _id and replaces everything else', async (t) => {
  const c = fresh()
  await c.insertOne({ _id: 1, a: 1, b: 2 })
  const r = await c.replaceOne({ _id: 1 }, { c: 3 })
  t.equal(r.matchedCount, 1)
  t.equal(r.modifiedCount, 1)
  t.same(await c.findOne({ _id: 1 }), { _id: 1, c: 3 })
  const same = await c.replaceOne({ _id: 1 }, { _id: 1, c: 3 })
  t.equal(same.modifiedCount, 0, 'identical replacement modifies nothing')
})

t.test('updateMany counts matched and modified separately', async (t) => {
  const c = fresh()
  await c.insertMany([{ _id: 1, g: 'x', v: 1 }, { _id: 2, g: 'x', v: 2 }, { _id: 3, g: 'x', v: 1 }, { _id: 4, g: 'y', v: 2 }])
  const r = await c.updateMany({ g: 'x' }, { $set: { v: 2 } })
  t.equal(r.matchedCount, 3)
  t.equal(r.modifiedCount, 2)
  t.equal(await c.countDocuments({ v: 2 }), 4)
  const one = await c.updateOne({ g: 'x' }, { $set: { w: 1 } })
  t.equal(one.matchedCount, 1, 'updateOne touches one of several matches')
  t.equal(await c.countDocuments({ w: 1 }), 1)
  const none = await c.updateMany({ g: 'nope' }, { $set: { v: 0 } })
  t.equal(none.matchedCount, 0)
  t.equal(none.modifiedCount, 0)
})

t.test('an update that would change _id fails with ImmutableField (66)', async (t) => {
  const c = fresh()
  await c.insertOne({ _id: 1, a: 1 })
  const e1 = await c.updateOne({ _id: 1 }, { $set: { _id: 2 } }).then(() => null, (e: unknown) => e) as any
  t.equal(e1?.code, 66)
  const e2 = await c.replaceOne({ _id: 1 }, { _id: 2, a: 1 }).then(() => null, (e: unknown) => e) as any
  t.equal(e2?.code, 66)
  t.same(await c.find({}).toArray(), [{ _id: 1, a: 1 }], 'nothing changed')
  const ok = await c.updateOne({ _id: 1 }, { $set: { _id: 1, a: 5 } })
  t.equal(ok.modifiedCount, 1, 'setting _id to its current value is allowed')
})

t.test('conflicting update paths and empty updates are rejected', async (t) => {
  const c = fresh()
  await c.insertOne({ _id: 1, a: { b: 1 } })
  const e1 = await c.updateOne({ _id: 1 }, { $set: { a: 1 }, $inc: { 'a.b': 1 } }).then(() => null, (e: unknown) => e) as any
  t.equal(e1?.code, 40, 'ConflictingUpdateOperators')
  const e2 = await db.command({ update: c.collectionName, updates: [{ q: { _id: 1 }, u: { $bogus: { a: 1 } } }] })
    .then((r) => r.writeErrors?.[0], (e: unknown) => e) as any
  t.ok(e2, 'unknown update operator fails')
  t.same(await c.findOne({ _id: 1 }), { _id: 1, a: { b: 1 } })
})

t.test('mongoose updateOne / updateMany / upsert', async (t) => {
  const Item = connection.model('UpdItem', new mongoose.Schema({ name: String, qty: Number, tags: [String] }))
  const a = await Item.create({ name: 'a', qty: 1, tags: [] })
  const r = await Item.updateOne({ _id: a._id }, { $inc: { qty: 2 }, $push: { tags: 't' } })
  t.equal(r.matchedCount, 1)
  t.equal(r.modifiedCount, 1)
  const back = await Item.findById(a._id).lean()
  t.equal(back?.qty, 3)
  t.same(back?.tags, ['t'])
  const up = await Item.updateOne({ name: 'b' }, { $set: { qty: 9 } }, { upsert: true })
  t.equal(up.upsertedCount, 1)
  t.equal((await Item.findOne({ name: 'b' }).lean())?.qty, 9)
  const many = await Item.updateMany({}, { $set: { qty: 0 } })
  t.equal(many.matchedCount, 2)
  t.equal(many.modifiedCount, 2)
})
