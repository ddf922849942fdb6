// aggregate through the store: mongoose's countDocuments pipeline (with wire-typed Int32 literals),
// group accumulators over BSON numbers, $lookup across collections, and refused stages.
import t from 'tap'
import { BSON, Double, Int32, Long, ObjectId } from 'bson'
import { MemoryStore } from '../../../src/storage/embedded/store.js'
import type { Document } from '../../../src/storage/embedded/store.types.js'

const wire = (d: Document): Document => BSON.deserialize(BSON.serialize(d), { promoteValues: false })

const store = new MemoryStore()
const ann = new ObjectId()
const bob = new ObjectId()
await store.createIndexes('db', 'msgs', [{ key: { from: 1 }, name: 'from_1' }])
await store.insert('db', 'msgs', [
  wire({ from: ann, n: new Int32(2), w: new Double(1.5), tags: ['a', 'b'] }),
  wire({ from: ann, n: new Int32(3), w: new Double(2.5), tags: ['b'] }),
  wire({ from: bob, n: Long.fromNumber(10), w: new Double(0.5), tags: [] })
], true)
await store.insert('db', 'users', [wire({ _id: ann, name: 'Ann' }), wire({ _id: bob, name: 'Bob' })], true)

t.test("mongoose countDocuments pipeline, as it arrives from the wire", async t => {
  const pipeline = wire({ p: [{ $match: { from: ann } }, { $skip: 0 }, { $limit: 100 }, { $group: { _id: 1, n: { $sum: 1 } } }] }).p
  t.same(store.aggregate('db', 'msgs', pipeline), [{ _id: 1, n: 2 }])
  t.same(store.aggregate('db', 'msgs', wire({ p: [{ $match: { from: new ObjectId() } }, { $group: { _id: 1, n: { $sum: 1 } } }] }).p), [])
  t.same(store.aggregate('db', 'nope', [{ $group: { _id: 1, n: { $sum: 1 } } }]), [])
})

t.test('group accumulators read Int32/Long/Double values', async t => {
  const out = store.aggregate('db', 'msgs', wire({
    p: [{ $group: { _id: '$from', total: { $sum: '$n' }, avg: { $avg: '$w' }, top: { $max: '$n' }, count: { $sum: 1 } } }, { $sort: { total: 1 } }]
  }).p)
  t.equal(out.length, 2)
  t.ok(out[0]._id.equals(ann), 'grouped by ObjectId value')
  t.same([out[0].total, out[0].avg, out[0].count], [5, 2, 2])
  t.ok(out[0].top instanceof Int32 && out[0].top.value === 3, '$max returns the original typed value')
  t.same([out[1].total, out[1].count], [10, 1])
})

t.test('projection arithmetic, unwind, lookup, facet', async t => {
  t.same(store.aggregate('db', 'msgs', wire({ p: [{ $match: { from: ann } }, { $project: { _id: 0, x: { $add: ['$n', 1] } } }] }).p), [{ x: 3 }, { x: 4 }])
  t.same(store.aggregate('db', 'msgs', [{ $unwind: '$tags' }, { $group: { _id: '$tags', c: { $sum: 1 } } }, { $sort: { _id: 1 } }]), [{ _id: 'a', c: 1 }, { _id: 'b', c: 2 }])
  t.same(store.aggregate('db', 'msgs', [
    { $sort: { n: -1 } }, { $limit: 1 },
    { $lookup: { from: 'users', localField: 'from', foreignField: '_id', as: 'user' } },
    { $project: { _id: 0, name: { $first: '$user.name' } } }
  ]), [{ name: 'Bob' }])
  t.same(store.aggregate('db', 'msgs', [{ $facet: { all: [{ $count: 'c' }], big: [{ $match: { n: { $gt: 2 } } }, { $count: 'c' }] } }]), [{ all: [{ c: 3 }], big: [{ c: 2 }] }])
})

t.test('leading $match and $sort return the stored documents unchanged', async t => {
  const out = store.aggregate('db', 'msgs', [{ $match: { from: bob } }])
  t.ok(out[0].n instanceof Long)
  t.same(out, store.find('db', 'msgs', { filter: { from: bob } }))
})

t.test('unsupported or malformed stages fail as command errors', async t => {
  t.throws(() => store.aggregate('db', 'msgs', [{ $out: 'x' }]), { code: 2 })
  t.throws(() => store.aggregate('db', 'msgs', [{ $merge: { into: 'x' } }]), { code: 2 })
  t.throws(() => store.aggregate('db', 'msgs', [{ $match: {}, $limit: 1 }]), { code: 40323 })
  t.throws(() => store.aggregate('db', 'msgs', [{ $bogusStage: {} }]), { name: 'MongoCommandError' })
})
