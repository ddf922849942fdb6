// Updates through the store: operators (with BSON numeric types kept), upsert seeds, arrayFilters,
// positional, replacement and pipeline updates, _id immutability, error codes, findAndModify.
import t from 'tap'
import { Double, Int32, Long, ObjectId } from 'bson'
import { MemoryStore } from '../../../src/storage/embedded/store.js'
import type { Document } from '../../../src/storage/embedded/store.types.js'

async function withDoc (doc: Document): Promise<MemoryStore> {
  const store = new MemoryStore()
  await store.insert('db', 'c', [doc], true)
  return store
}

const one = (s: MemoryStore, filter: Document = {}): Document => s.find('db', 'c', { filter })[0]

t.test('$inc and $mul keep BSON numeric types, promoting as MongoDB does', async t => {
  const s = await withDoc({ _id: 1, i: new Int32(5), l: new Long(7), d: new Double(1.5), max: new Int32(2147483647) })
  const u = {
    $inc: { i: new Int32(1), l: new Int32(1), d: new Int32(1), max: new Int32(1), fresh: new Int32(3) },
    $mul: { mul: new Double(2) }
  }
  const r = await s.update('db', 'c', [{ q: { _id: 1 }, u }], true)
  t.same([r.n, r.nModified], [1, 1])
  const d = one(s)
  t.ok(d.i instanceof Int32 && d.i.value === 6, 'int32 + int32 stays int32')
  t.ok(d.l instanceof Long && d.l.toNumber() === 8, 'long + int32 is long')
  t.ok(d.d instanceof Double && d.d.value === 2.5, 'double stays double')
  t.ok(d.max instanceof Long && d.max.toString() === '2147483648', 'int32 overflow becomes long')
  t.ok(d.fresh instanceof Int32 && d.fresh.value === 3, 'missing field takes the increment')
  t.ok(d.mul instanceof Double && d.mul.value === 0, '$mul on a missing field sets 0 of the operand type')
})

t.test('array operators compare BSON values by value', async t => {
  const u = new ObjectId()
  const s = await withDoc({ _id: 1, members: [u], tags: ['a'], scores: [new Int32(3), new Int32(10)] })
  await s.update('db', 'c', [{
    q: { _id: 1 },
    u: {
      $addToSet: { members: new ObjectId(u.toHexString()), tags: { $each: ['a', 'b'] } },
      $push: { scores: { $each: [new Int32(7)], $sort: 1 } }
    }
  }], true)
  let d = one(s)
  t.equal(d.members.length, 1, '$addToSet sees the equal ObjectId')
  t.same(d.tags, ['a', 'b'])
  t.same(d.scores.map((x: Int32) => x.value), [3, 7, 10], '$push $sort orders numbers numerically')
  await s.update('db', 'c', [{ q: { _id: 1 }, u: { $pull: { members: new ObjectId(u.toHexString()), scores: { $gte: new Int32(7) } }, $pop: { tags: -1 } } }], true)
  d = one(s)
  t.same(d.members, [])
  t.same(d.scores.map((x: Int32) => x.value), [3])
  t.same(d.tags, ['b'])
})

t.test('arrayFilters and the positional operators', async t => {
  const s = await withDoc({ _id: 1, items: [{ k: new Int32(1), q: 1 }, { k: new Int32(20), q: 2 }, { k: new Int32(30), q: 3 }] })
  await s.update('db', 'c', [{ q: { _id: 1 }, u: { $set: { 'items.$[big].q': 0 } }, arrayFilters: [{ 'big.k': { $gte: new Int32(20) } }] }], true)
  t.same(one(s).items.map((i: Document) => i.q), [1, 0, 0])
  await s.update('db', 'c', [{ q: { 'items.k': new Int32(1) }, u: { $set: { 'items.$.q': 9 } } }], true)
  t.same(one(s).items.map((i: Document) => i.q), [9, 0, 0])
  await s.update('db', 'c', [{ q: {}, u: { $inc: { 'items.$[].q': 1 } } }], true)
  t.same(one(s).items.map((i: Document) => i.q), [10, 1, 1])
})

t.test('$rename, $unset, $min, $max, $currentDate, $setOnInsert ignored on update', async t => {
  const s = await withDoc({ _id: 1, a: 1, b: 2, lo: new Int32(5), hi: new Int32(5) })
  await s.update('db', 'c', [{ q: { _id: 1 }, u: { $rename: { a: 'z' }, $unset: { b: '' }, $min: { lo: new Int32(3) }, $max: { hi: new Int32(4) }, $currentDate: { at: true }, $setOnInsert: { never: 1 } } }], true)
  const d = one(s)
  t.same(Object.keys(d).sort(), ['_id', 'at', 'hi', 'lo', 'z'])
  t.equal(d.lo.value, 3)
  t.equal(d.hi.value, 5)
  t.ok(d.at instanceof Date)
})

t.test('upsert seeds the new document from the query equality fields', async t => {
  const s = new MemoryStore()
  const conv = new ObjectId()
  const r = await s.update('db', 'c', [{
    q: { $and: [{ conversationId: conv }, { 'meta.kind': { $eq: 'dm' } }], score: { $gt: 5 }, name: /regex-ignored/ },
    u: { $set: { x: 1 }, $setOnInsert: { created: true }, $inc: { n: new Int32(1) } },
    upsert: true
  }], true)
  t.equal(r.n, 1)
  t.equal(r.nModified, 0)
  t.equal(r.upserted.length, 1)
  t.equal(r.upserted[0].index, 0)
  const d = one(s)
  t.same(d._id, r.upserted[0]._id)
  t.ok(d._id instanceof ObjectId, 'generated _id')
  t.same(Object.keys(d), ['_id', 'conversationId', 'meta', 'x', 'created', 'n'])
  t.same(d.meta, { kind: 'dm' })
  t.ok(d.conversationId.equals(conv))
  t.equal(d.n.value, 1)
  // second run matches the seeded document instead of inserting again
  const r2 = await s.update('db', 'c', [{ q: { conversationId: conv, 'meta.kind': 'dm' }, u: { $inc: { n: new Int32(1) } }, upsert: true }], true)
  t.same([r2.n, r2.nModified, r2.upserted.length], [1, 1, 0])
  t.equal(one(s).n.value, 2)
})

t.test('upsert with _id in the query, and replacement upserts take only _id from it', async t => {
  const s = new MemoryStore()
  await s.update('db', 'c', [{ q: { _id: 'k1', a: 1 }, u: { $set: { b: 2 } }, upsert: true }], true)
  t.same(one(s, { _id: 'k1' }), { _id: 'k1', a: 1, b: 2 })
  await s.update('db', 'c', [{ q: { _id: 'k2', a: 1 }, u: { b: 3 }, upsert: true }], true)
  t.same(one(s, { _id: 'k2' }), { _id: 'k2', b: 3 })
  await s.update('db', 'c', [{ q: { a: 7 }, u: { $setOnInsert: { _id: 'chosen' } }, upsert: true }], true)
  t.same(one(s, { a: 7 }), { _id: 'chosen', a: 7 })
})

t.test('replacement documents keep _id; changing _id is ImmutableField (66)', async t => {
  const s = await withDoc({ _id: 1, a: 1, b: 2 })
  await s.update('db', 'c', [{ q: { _id: 1 }, u: { c: 3 } }], true)
  t.same(one(s), { _id: 1, c: 3 })
  const r = await s.update('db', 'c', [{ q: { _id: 1 }, u: { _id: 2, c: 3 } }], true)
  t.equal(r.writeErrors[0].code, 66)
  const r2 = await s.update('db', 'c', [{ q: { _id: 1 }, u: { $set: { _id: 5 } } }], true)
  t.equal(r2.writeErrors[0].code, 66)
  for (const u of [{ $unset: { _id: '' } }, { $inc: { _id: 1 } }, { $rename: { _id: 'x' } }, { $set: { '_id.a': 1 } }]) {
    const bad = await s.update('db', 'c', [{ q: { _id: 1 }, u }], true)
    t.equal(bad.writeErrors[0]?.code, 66, JSON.stringify(u))
  }
  const r3 = await s.update('db', 'c', [{ q: { _id: 1 }, u: { $set: { _id: 1, d: 4 } } }], true)
  t.same(r3.writeErrors, [], 'setting _id to its own value is allowed')
  t.same(one(s), { _id: 1, c: 3, d: 4 })
})

t.test('pipeline updates run through mingo', async t => {
  const s = await withDoc({ _id: 1, a: 2, b: 3 })
  await s.update('db', 'c', [{ q: { _id: 1 }, u: [{ $set: { sum: { $add: ['$a', '$b'] } } }, { $unset: 'b' }] }], true)
  t.same(one(s), { _id: 1, a: 2, sum: 5 })
})

t.test('malformed updates are per-statement write errors with MongoDB codes', async t => {
  const s = await withDoc({ _id: 1, a: 'text', arr: 1 })
  const codes = async (u: Document): Promise<number | undefined> =>
    (await s.update('db', 'c', [{ q: { _id: 1 }, u }], true)).writeErrors[0]?.code
  t.equal(await codes({ $set: 5 }), 9)
  t.equal(await codes({ $bogus: { a: 1 } }), 9)
  t.equal(await codes({ $inc: { a: 1 } }), 14, '$inc on a string field')
  t.equal(await codes({ $inc: { n: 'x' } }), 14, '$inc with a non-number')
  t.equal(await codes({ $push: { arr: 2 } }), 2, '$push to a non-array')
  t.equal(await codes({ $set: { a: 1 }, $unset: { a: '' } }), 40, 'conflicting paths')
  t.equal(await codes({ $set: { 'x.$[nope].y': 1 } }), 2, 'unknown array filter identifier')
  const res = await s.update('db', 'c', [{ q: { _id: 1 }, u: { $set: 5 } }, { q: { _id: 1 }, u: { $set: { ok: true } } }], false)
  t.equal(res.nModified, 1, 'unordered continues past the bad statement')
  t.same(one(s), { _id: 1, a: 'text', arr: 1, ok: true }, 'nothing else changed')
})

t.test('findAndModify: sort, new, fields, remove, upsert', async t => {
  const s = new MemoryStore()
  await s.insert('db', 'c', [{ _id: 1, g: 'a', n: new Int32(1) }, { _id: 2, g: 'a', n: new Int32(2) }], true)
  const before = await s.findAndModify('db', 'c', { query: { g: 'a' }, sort: { n: -1 }, update: { $inc: { n: new Int32(10) } }, fields: { n: 1 } })
  t.same(before.lastErrorObject, { n: 1, updatedExisting: true })
  t.equal(before.value?._id, 2)
  t.equal(before.value?.n.value, 2, 'old version by default')
  t.same(Object.keys(before.value ?? {}), ['_id', 'n'])
  const after = await s.findAndModify('db', 'c', { query: { _id: 1 }, update: { $set: { x: 1 } }, new: true })
  t.same(after.value, { _id: 1, g: 'a', n: new Int32(1), x: 1 })
  const up = await s.findAndModify('db', 'c', { query: { g: 'b' }, update: { $set: { y: 1 } }, upsert: true, new: true })
  t.equal(up.lastErrorObject.updatedExisting, false)
  t.same(up.value?.g, 'b')
  t.same(up.lastErrorObject.upserted, up.value?._id)
  const none = await s.findAndModify('db', 'c', { query: { g: 'zzz' }, update: { $set: { y: 1 } } })
  t.same(none, { value: null, lastErrorObject: { n: 0, updatedExisting: false } })
  const removed = await s.findAndModify('db', 'c', { query: { g: 'a' }, sort: { n: 1 }, remove: true })
  t.equal(removed.value?._id, 1)
  t.same(s.find('db', 'c', { sort: { _id: 1 } }).map(d => d._id), [2, up.value?._id])
  await t.rejects(s.findAndModify('db', 'c', { query: {} }), { code: 9 })
  await t.rejects(s.findAndModify('db', 'c', { query: { _id: 2 }, update: { $set: 1 } }), { code: 9 })
})
