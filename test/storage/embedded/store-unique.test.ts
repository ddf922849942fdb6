// Unique indexes (single, compound, sparse, partial) enforced on insert, update and upsert with
// MongoDB's E11000 error shape; failed updates leave documents untouched; index option conflicts.
import t from 'tap'
import { Int32, ObjectId } from 'bson'
import { MemoryStore } from '../../../src/storage/embedded/store.js'

t.test('single-field unique: E11000 message, keyPattern and keyValue', async t => {
  const store = new MemoryStore()
  await store.createIndexes('app', 'users', [{ key: { name: 1 }, name: 'name_1', unique: true }])
  await store.insert('app', 'users', [{ name: 'x' }], true)
  const res = await store.insert('app', 'users', [{ name: 'x' }], true)
  t.same(res.writeErrors, [{
    index: 0,
    code: 11000,
    errmsg: 'E11000 duplicate key error collection: app.users index: name_1 dup key: { name: "x" }',
    keyPattern: { name: 1 },
    keyValue: { name: 'x' }
  }])
})

t.test('compound unique allows partial overlap, rejects the full duplicate', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'm', [{ key: { conv: 1, seq: -1 }, name: 'conv_1_seq_-1', unique: true }])
  const conv = new ObjectId()
  const ok = await store.insert('db', 'm', [{ conv, seq: new Int32(1) }, { conv, seq: new Int32(2) }, { conv: new ObjectId(), seq: new Int32(1) }], true)
  t.equal(ok.n, 3)
  const dup = await store.insert('db', 'm', [{ conv: new ObjectId(conv.toHexString()), seq: 1 }], true)
  t.equal(dup.writeErrors[0]?.code, 11000, 'numbers of different BSON types are the same key')
  t.match(dup.writeErrors[0].errmsg, /index: conv_1_seq_-1 dup key: \{ conv: ObjectId\('[0-9a-f]{24}'\), seq: 1 \}/)
  t.same(dup.writeErrors[0].keyPattern, { conv: 1, seq: -1 })
})

t.test('missing fields index as null: two docs without the field collide unless sparse', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'a', [{ key: { email: 1 }, name: 'email_1', unique: true }])
  const r = await store.insert('db', 'a', [{ n: 1 }, { n: 2 }], false)
  t.equal(r.n, 1)
  t.same(r.writeErrors[0].keyValue, { email: null })
  await store.createIndexes('db', 'b', [{ key: { email: 1 }, name: 'email_1', unique: true, sparse: true }])
  const s = await store.insert('db', 'b', [{ n: 1 }, { n: 2 }, { email: 'e' }, { email: 'e' }], false)
  t.equal(s.n, 3, 'sparse skips documents without the field')
  t.equal(s.writeErrors[0].index, 3)
})

t.test('partialFilterExpression: only matching documents are constrained', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'p', [{ key: { slug: 1 }, name: 'slug_1', unique: true, partialFilterExpression: { active: true } }])
  const r = await store.insert('db', 'p', [{ slug: 'a', active: false }, { slug: 'a', active: false }, { slug: 'a', active: true }, { slug: 'a', active: true }], false)
  t.equal(r.n, 3)
  t.same(r.writeErrors.map(e => e.index), [3])
  // the filter still finds the unindexed ones
  t.equal(store.find('db', 'p', { filter: { slug: 'a' } }).length, 3)
})

t.test('an update that would duplicate a key fails and leaves the document unchanged', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'u', [{ key: { name: 1 }, name: 'name_1', unique: true }])
  await store.insert('db', 'u', [{ _id: 1, name: 'a', v: 1 }, { _id: 2, name: 'b', v: 1 }], true)
  const res = await store.update('db', 'u', [{ q: { _id: 2 }, u: { $set: { name: 'a', v: 2 } } }], true)
  t.equal(res.n, 0)
  t.equal(res.nModified, 0)
  t.equal(res.writeErrors[0].code, 11000)
  t.same(store.find('db', 'u', { filter: { _id: 2 } }), [{ _id: 2, name: 'b', v: 1 }])
  t.same(store.find('db', 'u', { filter: { name: 'b' } }).map(d => d._id), [2], 'index still points at the old key')
  // and the key is free again after a legitimate change
  await store.update('db', 'u', [{ q: { _id: 1 }, u: { $set: { name: 'c' } } }], true)
  const again = await store.update('db', 'u', [{ q: { _id: 2 }, u: { $set: { name: 'a' } } }], true)
  t.same(again.writeErrors, [])
  t.same(store.find('db', 'u', { filter: { name: 'a' } }).map(d => d._id), [2])
})

t.test('multi update stops at the failing document; earlier ones stay updated', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'u', [{ key: { k: 1 }, name: 'k_1', unique: true }])
  await store.insert('db', 'u', [{ _id: 1, k: 1, g: 1 }, { _id: 2, k: 2, g: 1 }, { _id: 3, k: 10, g: 0 }], true)
  // doc 1: k 1 -> 9 is fine; doc 2: k 2 -> 10 collides with doc 3
  const res = await store.update('db', 'u', [{ q: { g: 1 }, u: { $inc: { k: 8 } }, multi: true }], true)
  t.equal(res.nModified, 1)
  t.equal(res.n, 1)
  t.equal(res.writeErrors[0].code, 11000)
  t.same(store.find('db', 'u', { sort: { _id: 1 } }).map(d => d.k), [9, 2, 10])
})

t.test('upsert that would duplicate a key fails with 11000', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'u', [{ key: { email: 1 }, name: 'email_1', unique: true }])
  await store.insert('db', 'u', [{ email: 'a@x' }], true)
  const res = await store.update('db', 'u', [{ q: { name: 'new' }, u: { $set: { email: 'a@x' } }, upsert: true }], true)
  t.equal(res.writeErrors[0].code, 11000)
  t.same(res.upserted, [])
  t.equal(store.count('db', 'u'), 1)
  await t.rejects(store.findAndModify('db', 'u', { query: { name: 'n2' }, update: { $set: { email: 'a@x' } }, upsert: true }),
    { code: 11000, extra: { keyPattern: { email: 1 }, keyValue: { email: 'a@x' } } })
})

t.test('creating a unique index over existing duplicates fails and creates nothing', async t => {
  const store = new MemoryStore()
  await store.insert('db', 'd', [{ a: 1 }, { a: 1 }], true)
  await t.rejects(store.createIndexes('db', 'd', [{ key: { b: 1 }, name: 'b_1' }, { key: { a: 1 }, name: 'a_1', unique: true }]), { code: 11000 })
  t.same(store.listIndexes('db', 'd').map(i => i.name), ['_id_'], 'the whole batch is rolled back')
})

t.test('_id is always unique', async t => {
  const store = new MemoryStore()
  const id = new ObjectId()
  const r = await store.insert('db', 'i', [{ _id: id }, { _id: new ObjectId(id.toHexString()) }], true)
  t.equal(r.writeErrors[0].code, 11000)
  t.match(r.writeErrors[0].errmsg, /index: _id_ dup key: \{ _id: ObjectId\(/)
})

t.test('index name/key clashes: 85 and 86; identical requests are no-ops', async t => {
  const store = new MemoryStore()
  const first = await store.createIndexes('db', 'x', [{ key: { a: 1 }, name: 'a_1' }])
  t.same(first, { numIndexesBefore: 1, numIndexesAfter: 2, createdCollectionAutomatically: true })
  const same = await store.createIndexes('db', 'x', [{ key: { a: 1 }, name: 'a_1' }])
  t.same(same, { numIndexesBefore: 2, numIndexesAfter: 2, createdCollectionAutomatically: false })
  await t.rejects(store.createIndexes('db', 'x', [{ key: { b: 1 }, name: 'a_1' }]), { code: 86, codeName: 'IndexKeySpecsConflict' })
  await t.rejects(store.createIndexes('db', 'x', [{ key: { a: 1 }, name: 'other' }]), { code: 85, codeName: 'IndexOptionsConflict' })
  await t.rejects(store.createIndexes('db', 'x', [{ key: { a: 1 }, name: 'a_1', unique: true }]), { code: 85 })
  await t.rejects(store.createIndexes('db', 'x', [{ key: {}, name: 'empty' }]), { code: 67 })
  t.same(store.listIndexes('db', 'x'), [{ v: 2, key: { _id: 1 }, name: '_id_' }, { v: 2, key: { a: 1 }, name: 'a_1' }])
  t.same(await store.dropIndexes('db', 'x', { a: 1 }), { nIndexesWas: 2 })
  await store.createIndexes('db', 'x', [{ key: { a: 1 }, name: 'a_1' }, { key: { b: -1 }, name: 'b_-1', expireAfterSeconds: 60 }])
  t.same(store.listIndexes('db', 'x')[2], { v: 2, key: { b: -1 }, name: 'b_-1', expireAfterSeconds: 60 }, 'options are echoed')
  await store.dropIndexes('db', 'x', '*')
  t.same(store.listIndexes('db', 'x').map(i => i.name), ['_id_'])
})

t.test('compound index over two array fields is refused (cannot index parallel arrays)', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'pa', [{ key: { a: 1, b: 1 }, name: 'a_1_b_1' }])
  const r = await store.insert('db', 'pa', [{ a: [1, 2], b: [3, 4] }, { a: [1, 2], b: 3 }], false)
  t.equal(r.n, 1)
  t.equal(r.writeErrors[0].code, 171)
})
