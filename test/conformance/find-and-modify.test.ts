// findOneAndUpdate / findOneAndDelete / findOneAndReplace, and atomic upserted counters (Parley's per-conversation seq).
import t from 'tap'
import mongoose from 'mongoose'
import { startTestMongo } from '../helpers/mongo.js'

const mongo = await startTestMongo(t)
const { db, connection } = mongo

t.test('driver findOneAndUpdate returns before or after', async (t) => {
  const c = db.collection<any>('fam')
  await c.insertMany([{ _id: 1, n: 1, g: 'a' }, { _id: 2, n: 5, g: 'a' }])
  const before = await c.findOneAndUpdate({ _id: 1 }, { $inc: { n: 1 } })
  t.same(before, { _id: 1, n: 1, g: 'a' }, 'default returns the document before the update')
  const after = await c.findOneAndUpdate({ _id: 1 }, { $inc: { n: 1 } }, { returnDocument: 'after' })
  t.same(after, { _id: 1, n: 3, g: 'a' })
  const sorted = await c.findOneAndUpdate({ g: 'a' }, { $set: { hit: true } }, { sort: { n: -1 }, returnDocument: 'after' })
  t.equal(sorted?._id, 2, 'sort picks which document is modified')
  const projected = await c.findOneAndUpdate({ _id: 2 }, { $inc: { n: 1 } }, { projection: { n: 1, _id: 0 }, returnDocument: 'after' })
  t.same(projected, { n: 6 })
  const none = await c.findOneAndUpdate({ _id: 404 }, { $set: { x: 1 } })
  t.equal(none, null, 'no match, no upsert: null')
  t.equal(await c.countDocuments(), 2)
  const meta = await c.findOneAndUpdate({ _id: 1 }, { $set: { m: 1 } }, { includeResultMetadata: true })
  t.equal(meta.ok, 1)
  t.equal(meta.lastErrorObject?.n, 1)
  t.equal(meta.lastErrorObject?.updatedExisting, true)
  t.same(meta.value, { _id: 1, n: 3, g: 'a' })
})

t.test('findOneAndUpdate upsert', async (t) => {
  const c = db.collection<any>('fam_up')
  const before = await c.findOneAndUpdate({ _id: 'k' }, { $inc: { n: 1 } }, { upsert: true })
  t.equal(before, null, 'upsert without returnDocument after returns null')
  const after = await c.findOneAndUpdate({ _id: 'j', kind: 'x' }, { $inc: { n: 1 } }, { upsert: true, returnDocument: 'after' })
  t.same(after, { _id: 'j', kind: 'x', n: 1 })
  const meta = await c.findOneAndUpdate({ name: 'new' }, { $set: { v: 1 } }, { upsert: true, includeResultMetadata: true })
  t.equal(meta.lastErrorObject?.n, 1)
  t.equal(meta.lastErrorObject?.updatedExisting, false)
  t.ok(meta.lastErrorObject?.upserted instanceof mongoose.Types.ObjectId, 'lastErrorObject.upserted holds the new _id')
  t.equal(await c.countDocuments(), 3)
})

t.test('findOneAndDelete and findOneAndReplace', async (t) => {
  const c = db.collection<any>('fad')
  await c.insertMany([{ _id: 1, p: 1 }, { _id: 2, p: 3 }, { _id: 3, p: 2 }])
  const del = await c.findOneAndDelete({}, { sort: { p: -1 } })
  t.same(del, { _id: 2, p: 3 }, 'deletes and returns the first by sort')
  t.equal(await c.countDocuments(), 2)
  t.equal(await c.findOneAndDelete({ _id: 404 }), null)
  const rep = await c.findOneAndReplace({ _id: 1 }, { q: 'new' }, { returnDocument: 'after' })
  t.same(rep, { _id: 1, q: 'new' })
})

t.test('mongoose findOneAndUpdate with new / returnDocument, findOneAndDelete', async (t) => {
  const Doc = connection.model('FamDoc', new mongoose.Schema({ name: String, n: Number }))
  const d = await Doc.create({ name: 'a', n: 1 })
  const withNew = await Doc.findOneAndUpdate({ _id: d._id }, { $inc: { n: 1 } }, { new: true }).lean()
  t.equal(withNew?.n, 2)
  const after = await Doc.findOneAndUpdate({ _id: d._id }, { $inc: { n: 1 } }, { returnDocument: 'after' }).lean()
  t.equal(after?.n, 3)
  const old = await Doc.findOneAndUpdate({ _id: d._id }, { $inc: { n: 1 } }).lean()
  t.equal(old?.n, 3, 'default is the document before')
  const up = await Doc.findOneAndUpdate({ name: 'b' }, { $set: { n: 10 } }, { upsert: true, returnDocument: 'after' }).lean()
  t.equal(up?.name, 'b')
  t.equal(up?.n, 10)
  t.ok(up?._id instanceof mongoose.Types.ObjectId)
  const gone = await Doc.findOneAndDelete({ name: 'a' }).lean()
  t.equal(gone?.n, 4)
  t.equal(await Doc.countDocuments(), 1)
})

t.test('200 concurrent $inc upserts on one counter give exactly 1..200 (mongoose)', async (t) => {
  const Counter = connection.model('SeqCounter', new mongoose.Schema({ _id: mongoose.Schema.Types.ObjectId, seq: Number }))
  const conversationId = new mongoose.Types.ObjectId()
  const results = await Promise.all(Array.from({ length: 200 }, async () => {
    const doc = await Counter.findOneAndUpdate(
      { _id: conversationId },
      { $inc: { seq: 1 } },
      { upsert: true, returnDocument: 'after' }
    ).lean()
    return doc?.seq as number
  }))
  const sorted = [...results].sort((a, b) => a - b)
  t.same(sorted, Array.from({ length: 200 }, (_, i) => i + 1), 'no duplicates, no gaps')
  t.equal(await Counter.countDocuments(), 1, 'one counter document')
  t.equal((await Counter.findById(conversationId).lean())?.seq, 200)
})

t.test('concurrent counters on many keys via the raw driver', async (t) => {
  const c = db.collection<any>('counters')
  const keys = ['a', 'b', 'c', 'd']
  const results = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
    const key = keys[i % keys.length]
    const doc = await c.findOneAndUpdate({ _id: key }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' })
    return { key, seq: doc?.seq as number }
  }))
  for (const key of keys) {
    const seqs = results.filter((r) => r.key === key).map((r) => r.seq).sort((a, b) => a - b)
    t.same(seqs, Array.from({ length: 50 }, (_, i) => i + 1), `counter ${key}: 1..50`)
  }
  t.equal(await c.countDocuments(), 4)
})

t.test('concurrent updateOne $inc loses no increments', async (t) => {
  const c = db.collection<any>('incs')
  await c.insertOne({ _id: 1, n: 0 })
  await Promise.all(Array.from({ length: 150 }, async () => await c.updateOne({ _id: 1 }, { $inc: { n: 1 } })))
  t.equal((await c.findOne({ _id: 1 }))?.n, 150)
})
