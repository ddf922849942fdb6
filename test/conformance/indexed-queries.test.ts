// An index never changes a query's answer: the same queries over an indexed collection and an unindexed twin agree,
// before and after updates and deletes move documents between index keys. Every query sorts to a total order.
import t from 'tap'
import mongoose from 'mongoose'
import { startTestMongo } from '../helpers/mongo.js'

const { Int32, Long, Double } = mongoose.mongo
const mongo = await startTestMongo(t)
const { db } = mongo
const indexed = db.collection<any>('iq_indexed')
const plain = db.collection<any>('iq_plain')

await indexed.createIndex({ conv: 1, seq: 1 }, { unique: true })
await indexed.createIndex({ tags: 1 })
await indexed.createIndex({ at: -1 })

// Deterministic pseudo-random data with the awkward cases mixed in.
let state = 42
// High bits of an LCG: the low bits cycle with a short period.
const rnd = (n: number): number => { state = (state * 1103515245 + 12345) % 2 ** 31; return Math.floor((state / 2 ** 31) * n) }
const seqValue = (i: number): unknown => {
  switch (i % 7) {
    case 0: return new Int32(i)
    case 1: return new Double(i)
    case 2: return Long.fromNumber(i)
    default: return i
  }
}
const docs: any[] = []
for (let i = 0; i < 600; i++) {
  const doc: any = { _id: i, conv: `c${i % 6}`, seq: seqValue(i), at: new Date(1_700_000_000_000 + rnd(100_000)) }
  if (i % 5 === 0) doc.tags = ['a', `t${rnd(4)}`]
  else if (i % 5 === 1) doc.tags = `t${rnd(4)}`
  else if (i % 5 === 2) doc.tags = []
  docs.push(doc)
}
// Documents the unique {conv, seq} index allows once each: missing seq, null seq, string seq.
docs.push({ _id: 1000, conv: 'c0' }, { _id: 1001, conv: 'c1', seq: null }, { _id: 1002, conv: 'c2', seq: '5' }, { _id: 1003, conv: 'c3', seq: 2.5 })
await indexed.insertMany(docs)
await plain.insertMany(docs)

type Q = [label: string, filter: object, options: object]
const queries: Q[] = [
  ['latest 50 of a conversation', { conv: 'c3' }, { sort: { seq: -1 }, limit: 50 }],
  ['page before seq N', { conv: 'c3', seq: { $lt: 300 } }, { sort: { seq: -1 }, limit: 50 }],
  ['page after seq N', { conv: 'c4', seq: { $gt: 100 } }, { sort: { seq: 1 }, limit: 20 }],
  ['closed range', { conv: 'c1', seq: { $gte: 121, $lte: 241 } }, { sort: { seq: 1 } }],
  ['skip + limit on the index order', { conv: 'c2' }, { sort: { seq: -1 }, skip: 10, limit: 5 }],
  ['$in on the prefix', { conv: { $in: ['c0', 'c5'] } }, { sort: { seq: 1, _id: 1 }, limit: 80 }],
  ['$in on seq with mixed numeric types', { conv: 'c0', seq: { $in: [6, new Double(12), Long.fromNumber(18), new Int32(42)] } }, { sort: { _id: 1 } }],
  ['non-prefix field only', { seq: { $gt: 590 } }, { sort: { _id: 1 } }],
  ['range does not cross types', { seq: { $gte: '' } }, { sort: { _id: 1 } }],
  ['null matches missing and null', { conv: { $in: ['c0', 'c1'] }, seq: null }, { sort: { _id: 1 } }],
  ['$ne on an indexed field', { conv: 'c5', seq: { $ne: 5 } }, { sort: { _id: -1 }, limit: 30 }],
  ['$exists false', { seq: { $exists: false } }, { sort: { _id: 1 } }],
  ['fractional bound', { conv: 'c3', seq: { $gt: 2, $lt: 4 } }, { sort: { _id: 1 } }],
  ['multikey equality', { tags: 'a' }, { sort: { _id: 1 } }],
  ['multikey $in', { tags: { $in: ['t1', 't3'] } }, { sort: { _id: 1 } }],
  ['multikey range', { tags: { $gt: 't1' } }, { sort: { _id: 1 } }],
  ['empty array', { tags: [] }, { sort: { _id: 1 } }],
  ['descending date index', { at: { $gte: new Date(1_700_000_050_000) } }, { sort: { at: -1, _id: 1 }, limit: 40 }],
  ['sort on an indexed field, no filter', {}, { sort: { at: 1, _id: 1 }, limit: 25 }],
  ['$or across indexes', { $or: [{ conv: 'c1', seq: { $lt: 50 } }, { tags: 't2' }] }, { sort: { _id: 1 } }]
]

interface Answer { label: string, indexed: any[], plain: any[], indexedCount: number, plainCount: number }
const answers = async (): Promise<Answer[]> => await Promise.all(queries.map(async ([label, filter, options]) => ({
  label,
  indexed: await indexed.find(filter, options).toArray(),
  plain: await plain.find(filter, options).toArray(),
  indexedCount: await indexed.countDocuments(filter),
  plainCount: await plain.countDocuments(filter)
})))

t.test('indexed and unindexed collections answer alike', async (t) => {
  for (const a of await answers()) {
    t.same(a.indexed, a.plain, `fresh: ${a.label} (${a.plain.length} docs)`)
    t.same(a.indexed.map((d) => d._id), a.plain.map((d) => d._id), `fresh: ${a.label}, same order`)
    t.equal(a.indexedCount, a.plainCount, `fresh: ${a.label}, same count`)
  }
  const latest = await indexed.find({ conv: 'c3' }, { sort: { seq: -1 }, limit: 3 }).toArray()
  t.same(latest.map((d) => d._id), [597, 591, 585], 'spot check: highest seq first')
})

t.test('still alike after updates and deletes move index keys', async (t) => {
  for (const c of [indexed, plain]) {
    await c.updateMany({ conv: 'c3', seq: { $lt: 100 } }, { $inc: { seq: 10_000 } })
    await c.updateMany({ tags: 't1' }, { $set: { tags: ['moved', 't9'] } })
    await c.updateOne({ _id: 1000 }, { $set: { seq: -1 } })
    await c.deleteMany({ conv: 'c4', seq: { $gt: 300 } })
    await c.updateMany({ conv: 'c5' }, { $set: { at: new Date(1_800_000_000_000) } })
    await c.replaceOne({ _id: 7 }, { conv: 'c1', seq: 7000, tags: 'a' })
  }
  for (const a of await answers()) {
    t.same(a.indexed, a.plain, `after writes: ${a.label} (${a.plain.length} docs)`)
    t.same(a.indexed.map((d) => d._id), a.plain.map((d) => d._id), `after writes: ${a.label}, same order`)
    t.equal(a.indexedCount, a.plainCount, `after writes: ${a.label}, same count`)
  }
  const moved = await indexed.find({ conv: 'c3' }, { sort: { seq: -1 }, limit: 1 }).toArray()
  t.ok(moved[0].seq >= 10_000, 'the updated sequence numbers lead')
  t.equal(await indexed.countDocuments({ tags: 't1' }), 0, 'no stale multikey entries')
})
