// Inserts: ordered vs unordered batches with a duplicate in the middle, and the shape of E11000.
import t from 'tap'
import mongoose from 'mongoose'
import { startTestMongo } from '../helpers/mongo.js'

const mongo = await startTestMongo(t)
const { db, connection } = mongo

const ids = async (coll: string): Promise<unknown[]> =>
  (await db.collection(coll).find({}, { sort: { _id: 1 } }).toArray()).map((d) => d._id)

t.test('insertOne returns the id and the document is stored as sent', async (t) => {
  const c = db.collection('ins_one')
  const r = await c.insertOne({ name: 'ada', n: 1 })
  t.ok(r.acknowledged)
  t.ok(r.insertedId instanceof mongoose.Types.ObjectId, 'driver generated an ObjectId _id')
  const back = await c.findOne({ _id: r.insertedId })
  t.same(back, { _id: r.insertedId, name: 'ada', n: 1 })
})

t.test('insertOne with a duplicate _id fails with 11000, keyPattern and keyValue', async (t) => {
  const c = db.collection('ins_dup')
  await c.insertOne({ _id: 7 as never, a: 1 })
  const err = await c.insertOne({ _id: 7 as never, a: 2 }).then(() => null, (e: unknown) => e) as any
  t.ok(err, 'second insert rejected')
  t.equal(err.code, 11000)
  t.match(err.message, /E11000 duplicate key error/)
  t.same(err.keyPattern, { _id: 1 })
  t.same(err.keyValue, { _id: 7 })
  t.same(await c.findOne({ _id: 7 as never }), { _id: 7, a: 1 }, 'first document untouched')
})

t.test('ordered insertMany stops at the duplicate', async (t) => {
  const c = db.collection('ins_ordered')
  const docs = [{ _id: 1 }, { _id: 2 }, { _id: 2 }, { _id: 3 }] as never[]
  const err = await c.insertMany(docs).then(() => null, (e: unknown) => e) as any
  t.ok(err instanceof mongoose.mongo.MongoBulkWriteError, 'MongoBulkWriteError')
  t.equal(err.code, 11000)
  t.equal(err.insertedCount, 2)
  t.equal(err.writeErrors.length, 1)
  t.equal(err.writeErrors[0].index, 2)
  t.equal(err.writeErrors[0].code, 11000)
  t.same(await ids('ins_ordered'), [1, 2], 'docs after the duplicate are not inserted')
})

t.test('unordered insertMany inserts everything but the duplicate', async (t) => {
  const c = db.collection('ins_unordered')
  const docs = [{ _id: 1 }, { _id: 2 }, { _id: 2 }, { _id: 3 }, { _id: 1 }, { _id: 4 }] as never[]
  const err = await c.insertMany(docs, { ordered: false }).then(() => null, (e: unknown) => e) as any
  t.ok(err instanceof mongoose.mongo.MongoBulkWriteError)
  t.equal(err.code, 11000)
  t.equal(err.insertedCount, 4)
  t.same(err.writeErrors.map((w: any) => w.index), [2, 4])
  t.same(err.writeErrors.map((w: any) => w.code), [11000, 11000])
  t.same(await ids('ins_unordered'), [1, 2, 3, 4])
})

t.test('raw insert command reports writeErrors with keyPattern/keyValue on a compound unique index', async (t) => {
  const c = db.collection('ins_raw')
  await c.createIndex({ conv: 1, seq: 1 }, { unique: true })
  const res = await db.command({
    insert: 'ins_raw',
    documents: [
      { _id: 1, conv: 'a', seq: 1 },
      { _id: 2, conv: 'a', seq: 2 },
      { _id: 3, conv: 'a', seq: 1 },
      { _id: 4, conv: 'b', seq: 1 }
    ],
    ordered: false
  })
  t.equal(res.ok, 1, 'per-document failures do not fail the command')
  t.equal(res.n, 3)
  t.equal(res.writeErrors.length, 1)
  const [we] = res.writeErrors
  t.equal(we.index, 2)
  t.equal(we.code, 11000)
  t.type(we.errmsg, 'string')
  t.same(we.keyPattern, { conv: 1, seq: 1 })
  t.same(we.keyValue, { conv: 'a', seq: 1 })
  t.same(await ids('ins_raw'), [1, 2, 4])

  const ordered = await db.command({
    insert: 'ins_raw',
    documents: [{ _id: 5, conv: 'c', seq: 1 }, { _id: 1 }, { _id: 6, conv: 'c', seq: 2 }]
  })
  t.equal(ordered.n, 1, 'ordered is the default: stops at the first error')
  t.equal(ordered.writeErrors[0].index, 1)
  t.same(ordered.writeErrors[0].keyPattern, { _id: 1 })
  t.same(ordered.writeErrors[0].keyValue, { _id: 1 })
  t.same(await ids('ins_raw'), [1, 2, 4, 5])
})

t.test('mongoose create / insertMany surface 11000', async (t) => {
  const User = connection.model('InsUser', new mongoose.Schema({
    email: { type: String, unique: true },
    name: String
  }))
  await User.init()
  const a = await User.create({ email: 'a@x.io', name: 'A' })
  t.ok(a._id instanceof mongoose.Types.ObjectId)
  const err = await User.create({ email: 'a@x.io', name: 'B' }).then(() => null, (e: unknown) => e) as any
  t.equal(err?.code, 11000)
  t.same(err?.keyPattern, { email: 1 })
  t.same(err?.keyValue, { email: 'a@x.io' })

  const bulkErr = await User.insertMany(
    [{ email: 'b@x.io' }, { email: 'a@x.io' }, { email: 'c@x.io' }],
    { ordered: false }
  ).then(() => null, (e: unknown) => e) as any
  t.equal(bulkErr?.code, 11000)
  const emails = (await User.find().sort({ email: 1 }).lean()).map((u) => u.email)
  t.same(emails, ['a@x.io', 'b@x.io', 'c@x.io'])
  t.equal(await User.countDocuments(), 3)
})

t.test('a document without _id gets one; _id of any non-array type is accepted', async (t) => {
  const c = db.collection('ins_ids')
  await c.insertMany([{ _id: 'str' }, { _id: { a: 1 } }, { _id: 3.5 }, { v: 1 }] as never[])
  t.equal(await c.countDocuments(), 4)
  const generated = await c.findOne({ v: 1 })
  t.ok(generated?._id instanceof mongoose.Types.ObjectId)
  t.same(await c.findOne({ _id: { a: 1 } as never }), { _id: { a: 1 } })
  const arrErr = await c.insertOne({ _id: [1, 2] as never }).then(() => null, (e: unknown) => e) as any
  t.ok(arrErr, 'an array _id is rejected')
  t.equal(await c.countDocuments(), 4)
})
