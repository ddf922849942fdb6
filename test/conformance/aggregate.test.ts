// Aggregation stages Parley uses: $match $group $sort $limit $skip $project $lookup $unwind $count.
import t from 'tap'
import mongoose from 'mongoose'
import { startTestMongo } from '../helpers/mongo.js'

const mongo = await startTestMongo(t)
const { db, connection } = mongo
const messages = db.collection<any>('agg_messages')
const users = db.collection<any>('agg_users')

await users.insertMany([
  { _id: 'u1', name: 'ann' },
  { _id: 'u2', name: 'bob' },
  { _id: 'u3', name: 'cid' }
])
await messages.insertMany([
  { _id: 1, conv: 'c1', sender: 'u1', seq: 1, len: 10, tags: ['hi', 'x'] },
  { _id: 2, conv: 'c1', sender: 'u2', seq: 2, len: 20, tags: ['x'] },
  { _id: 3, conv: 'c1', sender: 'u1', seq: 3, len: 30, tags: [] },
  { _id: 4, conv: 'c2', sender: 'u2', seq: 1, len: 5 },
  { _id: 5, conv: 'c2', sender: 'u9', seq: 2, len: 15, tags: ['y'] }
])

t.test('$match $group $sort', async (t) => {
  const out = await messages.aggregate([
    { $match: { len: { $gte: 10 } } },
    { $group: { _id: '$conv', count: { $sum: 1 }, total: { $sum: '$len' }, avg: { $avg: '$len' }, last: { $max: '$seq' }, senders: { $addToSet: '$sender' } } },
    { $sort: { _id: 1 } }
  ]).toArray()
  t.equal(out.length, 2)
  t.match(out[0], { _id: 'c1', count: 3, total: 60, avg: 20, last: 3 })
  t.same([...out[0].senders].sort(), ['u1', 'u2'])
  t.match(out[1], { _id: 'c2', count: 1, total: 15, avg: 15, last: 2 })
  const all = await messages.aggregate([{ $group: { _id: null, n: { $sum: 1 }, minLen: { $min: '$len' }, firstSeq: { $first: '$seq' } } }]).toArray()
  t.match(all, [{ _id: null, n: 5, minLen: 5 }])
  const pushed = await messages.aggregate([{ $sort: { seq: -1, _id: 1 } }, { $group: { _id: '$conv', seqs: { $push: '$seq' } } }, { $sort: { _id: -1 } }]).toArray()
  t.same(pushed, [{ _id: 'c2', seqs: [2, 1] }, { _id: 'c1', seqs: [3, 2, 1] }], '$push keeps input order')
})

t.test('$sort $skip $limit $project', async (t) => {
  const out = await messages.aggregate([
    { $sort: { len: -1 } },
    { $skip: 1 },
    { $limit: 2 },
    { $project: { _id: 0, seq: 1, conv: 1, double: { $multiply: ['$len', 2] }, who: { $concat: ['$conv', ':', '$sender'] } } }
  ]).toArray()
  t.same(out, [
    { conv: 'c1', seq: 2, double: 40, who: 'c1:u2' },
    { conv: 'c2', seq: 2, double: 30, who: 'c2:u9' }
  ])
  const excl = await messages.aggregate([{ $match: { _id: 4 } }, { $project: { len: 0, sender: 0 } }]).toArray()
  t.same(excl, [{ _id: 4, conv: 'c2', seq: 1 }], 'exclusion $project')
})

t.test('$lookup and $unwind', async (t) => {
  const out = await messages.aggregate([
    { $match: { conv: 'c2' } },
    { $lookup: { from: 'agg_users', localField: 'sender', foreignField: '_id', as: 'user' } },
    { $sort: { seq: 1 } },
    { $project: { _id: 1, user: 1 } }
  ]).toArray()
  t.same(out, [{ _id: 4, user: [{ _id: 'u2', name: 'bob' }] }, { _id: 5, user: [] }], 'unmatched lookup gives []')

  const unwound = await messages.aggregate([
    { $match: { conv: 'c1' } },
    { $lookup: { from: 'agg_users', localField: 'sender', foreignField: '_id', as: 'user' } },
    { $unwind: '$user' },
    { $sort: { seq: 1 } },
    { $project: { _id: 0, seq: 1, name: '$user.name' } }
  ]).toArray()
  t.same(unwound, [{ seq: 1, name: 'ann' }, { seq: 2, name: 'bob' }, { seq: 3, name: 'ann' }])

  const tags = await messages.aggregate([{ $unwind: '$tags' }, { $sort: { _id: 1, tags: 1 } }, { $project: { tags: 1 } }]).toArray()
  t.same(tags, [{ _id: 1, tags: 'hi' }, { _id: 1, tags: 'x' }, { _id: 2, tags: 'x' }, { _id: 5, tags: 'y' }],
    'empty and missing arrays drop the document')
  const kept = await messages.aggregate([
    { $unwind: { path: '$tags', preserveNullAndEmptyArrays: true } },
    { $match: { conv: 'c2' } },
    { $sort: { _id: 1 } },
    { $project: { tags: 1 } }
  ]).toArray()
  t.same(kept, [{ _id: 4 }, { _id: 5, tags: 'y' }], 'preserveNullAndEmptyArrays keeps them')
})

t.test('$count', async (t) => {
  t.same(await messages.aggregate([{ $match: { conv: 'c1' } }, { $count: 'n' }]).toArray(), [{ n: 3 }])
  t.same(await messages.aggregate([{ $match: { conv: 'none' } }, { $count: 'n' }]).toArray(), [], 'no input, no output document')
})

t.test('aggregate on a missing collection is empty; an unknown stage is an error', async (t) => {
  t.same(await db.collection('agg_none').aggregate([{ $match: {} }]).toArray(), [])
  const err = await messages.aggregate([{ $bogus: {} }]).toArray().then(() => null, (e: unknown) => e) as any
  t.ok(err, 'rejected')
  t.equal(err?.code, 40324, 'Unrecognized pipeline stage name')
})

t.test('mongoose Model.aggregate', async (t) => {
  const Msg = connection.model('AggMsg', new mongoose.Schema({ conv: String, sender: String, seq: Number, len: Number }), 'agg_messages')
  const out = await Msg.aggregate<{ _id: string, n: number }>([
    { $group: { _id: '$sender', n: { $sum: 1 } } },
    { $sort: { n: -1, _id: 1 } },
    { $limit: 2 }
  ])
  t.same(out, [{ _id: 'u1', n: 2 }, { _id: 'u2', n: 2 }])
})
