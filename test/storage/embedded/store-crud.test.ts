// MemoryStore driven directly: inserts, finds (filter, sort, projection, skip, limit), deletes, counts,
// catalog commands, immutability of what reads return, and the journal records each write emits.
import t from 'tap'
import { Int32, ObjectId } from 'bson'
import { MemoryStore } from '../../../src/storage/embedded/store.js'
import { MongoCommandError, type Document, type JournalRecord } from '../../../src/storage/embedded/store.types.js'

function recordingStore (): { store: MemoryStore; batches: JournalRecord[][] } {
  const batches: JournalRecord[][] = []
  const store = new MemoryStore({ durability: { append: async (records) => { batches.push(records) } } })
  return { store, batches }
}

t.test('insert generates an ObjectId _id first, keeps a given _id, and find returns them', async t => {
  const { store } = recordingStore()
  const res = await store.insert('db', 'c', [{ name: 'a' }, { _id: 7, name: 'b' }, { name: 'c', _id: 'x' }], true)
  t.same(res, { n: 3, writeErrors: [] })
  const docs = store.find('db', 'c', {})
  t.equal(docs.length, 3)
  t.type(docs[0]._id, ObjectId)
  t.same(Object.keys(docs[0]), ['_id', 'name'])
  t.equal(docs[1]._id, 7)
  t.same(Object.keys(docs[2]), ['_id', 'name'], '_id is moved first')
  t.equal(store.documentCount(), 3)
})

t.test('find: filter, sort, projection, skip and limit', async t => {
  const { store } = recordingStore()
  await store.insert('db', 'c', Array.from({ length: 10 }, (_, i) => ({ _id: i, n: new Int32(i % 4), s: `s${i}`, sub: { a: i, b: -i } })), true)
  const ids = (q: Document): unknown[] => store.find('db', 'c', q).map(d => d._id)
  t.same(ids({ filter: { n: new Int32(1) } }), [1, 5, 9])
  t.same(ids({ filter: { n: { $gte: 2 } }, sort: { n: -1, _id: 1 } }), [3, 7, 2, 6])
  t.same(ids({ sort: { _id: -1 }, skip: 2, limit: 3 }), [7, 6, 5])
  t.same(ids({ filter: { 'sub.a': { $lt: 3 } } }), [0, 1, 2])
  t.same(store.find('db', 'c', { filter: { _id: 3 }, projection: { s: 1 } }), [{ _id: 3, s: 's3' }])
  t.same(store.find('db', 'c', { filter: { _id: 3 }, projection: { s: 1, _id: 0, 'sub.b': 1 } }), [{ s: 's3', sub: { b: -3 } }])
  t.same(store.find('db', 'c', { filter: { _id: 3 }, projection: { sub: 0, n: 0 } }), [{ _id: 3, s: 's3' }])
  t.throws(() => store.find('db', 'c', { projection: { a: 1, b: 0 } }), { code: 31254 })
  t.same(store.find('db', 'nope', { filter: { a: 1 } }), [], 'unknown collection reads as empty')
})

t.test('projection operators: $slice, $elemMatch and positional', async t => {
  const { store } = recordingStore()
  await store.insert('db', 'c', [{ _id: 1, arr: [{ k: 1 }, { k: 2 }, { k: 3 }], other: 'x' }], true)
  t.same(store.find('db', 'c', { projection: { arr: { $slice: -1 } } }), [{ _id: 1, arr: [{ k: 3 }], other: 'x' }])
  t.same(store.find('db', 'c', { projection: { arr: { $elemMatch: { k: { $gt: 1 } } } } }), [{ _id: 1, arr: [{ k: 2 }] }])
  t.same(store.find('db', 'c', { filter: { 'arr.k': 3 }, projection: { 'arr.$': 1 } }), [{ _id: 1, arr: [{ k: 3 }] }])
})

t.test('documents handed out cannot change the store', async t => {
  const { store } = recordingStore()
  const input = { _id: 1, tags: ['a'], sub: { x: 1 }, at: new Date(1000) }
  await store.insert('db', 'c', [input], true)
  input.tags.push('mutated-input')
  const [doc] = store.find('db', 'c', {})
  t.throws(() => { (doc.tags as string[]).push('b') }, TypeError)
  t.throws(() => { doc.sub.x = 2 }, TypeError)
  t.throws(() => { doc.at.setTime(0) }, TypeError, 'dates are read-only too')
  input.at.setTime(5)
  t.same(store.find('db', 'c', {}), [{ _id: 1, tags: ['a'], sub: { x: 1 }, at: new Date(1000) }])
  t.equal(store.find('db', 'c', {})[0].at.getTime(), 1000)
  const [projected] = store.find('db', 'c', { projection: { sub: 1 } })
  t.throws(() => { projected.sub.x = 3 }, TypeError, 'shared sub-documents are frozen too')
})

t.test('ordered insert stops at the first error; unordered continues; records follow what applied', async t => {
  const { store, batches } = recordingStore()
  await store.createIndexes('db', 'c', [{ key: { k: 1 }, name: 'k_1', unique: true }])
  batches.length = 0
  const ordered = await store.insert('db', 'c', [{ _id: 1, k: 1 }, { _id: 2, k: 1 }, { _id: 3, k: 3 }], true)
  t.equal(ordered.n, 1)
  t.equal(ordered.writeErrors.length, 1)
  t.equal(ordered.writeErrors[0].index, 1)
  t.equal(ordered.writeErrors[0].code, 11000)
  t.same(batches, [[{ t: 'put', db: 'db', coll: 'c', doc: { _id: 1, k: 1 } }]])
  const unordered = await store.insert('db', 'c', [{ _id: 4, k: 1 }, { _id: 5, k: 5 }, { _id: 1, k: 9 }], false)
  t.equal(unordered.n, 1)
  t.same(unordered.writeErrors.map(e => [e.index, e.code]), [[0, 11000], [2, 11000]])
  t.same(store.find('db', 'c', {}).map(d => d._id), [1, 5])
})

t.test('every write emits its records, and resolves only after append', async t => {
  let release!: () => void
  const appended: JournalRecord[][] = []
  const store = new MemoryStore({
    durability: {
      append: async (records) => {
        appended.push(records)
        await new Promise<void>(resolve => { release = resolve })
      }
    }
  })
  let done = false
  const p = store.insert('db', 'c', [{ _id: 1, a: 1 }], true).then(() => { done = true })
  await new Promise(resolve => setImmediate(resolve))
  t.equal(done, false, 'not resolved before the journal acknowledges')
  t.same(store.find('db', 'c', {}), [{ _id: 1, a: 1 }], 'already applied in memory')
  release()
  await p
  t.same(appended[0], [
    { t: 'createColl', db: 'db', coll: 'c', options: {} },
    { t: 'put', db: 'db', coll: 'c', doc: { _id: 1, a: 1 } }
  ])
  const next = async <T>(fn: () => Promise<T>): Promise<JournalRecord[]> => {
    const before = appended.length
    const pending = fn()
    await new Promise(resolve => setImmediate(resolve))
    release()
    await pending
    return appended.length > before ? appended[appended.length - 1] : []
  }
  t.same(await next(() => store.update('db', 'c', [{ q: { _id: 1 }, u: { $set: { a: 2 } } }], true)),
    [{ t: 'put', db: 'db', coll: 'c', doc: { _id: 1, a: 2 } }])
  t.same(await next(() => store.update('db', 'c', [{ q: { _id: 1 }, u: { $set: { a: 2 } } }], true)), [], 'a no-op update journals nothing')
  t.same(await next(() => store.delete('db', 'c', [{ q: { _id: 1 }, limit: 1 }], true)), [{ t: 'del', db: 'db', coll: 'c', id: 1 }])
  t.same(await next(() => store.createIndexes('db', 'c', [{ key: { a: 1 }, name: 'a_1' }])),
    [{ t: 'createIndex', db: 'db', coll: 'c', spec: { key: { a: 1 }, name: 'a_1' } }])
  t.same(await next(() => store.dropIndexes('db', 'c', 'a_1')), [{ t: 'dropIndex', db: 'db', coll: 'c', name: 'a_1' }])
  t.same(await next(() => store.dropCollection('db', 'c')), [{ t: 'dropColl', db: 'db', coll: 'c' }])
  t.same(await next(() => store.createCollection('db', 'd', { capped: false })), [{ t: 'createColl', db: 'db', coll: 'd', options: { capped: false } }])
  t.same(await next(() => store.dropDatabase('db')), [{ t: 'dropDb', db: 'db' }])
})

t.test('delete with limit 1 and 0', async t => {
  const { store } = recordingStore()
  await store.insert('db', 'c', [{ _id: 1, g: 1 }, { _id: 2, g: 1 }, { _id: 3, g: 1 }, { _id: 4, g: 2 }], true)
  t.same(await store.delete('db', 'c', [{ q: { g: 1 }, limit: 1 }], true), { n: 1, writeErrors: [] })
  t.same(await store.delete('db', 'c', [{ q: { g: 1 }, limit: 0 }], true), { n: 2, writeErrors: [] })
  t.same(await store.delete('db', 'nope', [{ q: {}, limit: 0 }], true), { n: 0, writeErrors: [] })
  t.same(store.find('db', 'c', {}).map(d => d._id), [4])
})

t.test('count and distinct', async t => {
  const { store } = recordingStore()
  await store.insert('db', 'c', [{ a: 1, t: ['x', 'y'] }, { a: 2, t: ['y'] }, { a: 2, t: 'z' }, { b: 1 }], true)
  t.equal(store.count('db', 'c'), 4)
  t.equal(store.count('db', 'c', { a: 2 }), 2)
  t.equal(store.count('db', 'c', {}, 1, 2), 2)
  t.equal(store.count('db', 'nope'), 0)
  t.same(store.distinct('db', 'c', 'a'), [1, 2])
  t.same(store.distinct('db', 'c', 't'), ['x', 'y', 'z'], 'arrays are unwound')
  t.same(store.distinct('db', 'c', 't', { a: 2 }), ['y', 'z'])
})

t.test('catalog: create, list, drop; errors as MongoDB codes', async t => {
  const { store } = recordingStore()
  await store.createCollection('db', 'a', { validator: {} })
  await t.rejects(store.createCollection('db', 'a'), { code: 48, codeName: 'NamespaceExists' })
  await store.insert('db', 'b', [{ x: 1 }], true)
  t.same(store.listCollections('db').map(c => c.name).sort(), ['a', 'b'])
  t.same(store.listCollections('db', { name: 'a' }).map(c => c.options), [{ validator: {} }])
  t.same(store.listDatabases().map(d => d.name), ['db'])
  t.throws(() => store.listIndexes('db', 'zzz'), { code: 26 })
  await t.rejects(store.dropIndexes('db', 'zzz', '*'), { code: 26 })
  await t.rejects(store.dropIndexes('db', 'b', 'nope_1'), { code: 27, codeName: 'IndexNotFound' })
  await t.rejects(store.dropIndexes('db', 'b', '_id_'), { code: 72 })
  t.equal(await store.dropCollection('db', 'b'), true)
  t.equal(await store.dropCollection('db', 'b'), false)
  await store.dropDatabase('db')
  t.same(store.listCollections('db'), [])
  await t.rejects(store.insert('db', '', [{}], true), MongoCommandError)
})

t.test('filters with bad operators fail as BadValue, never a raw TypeError', async t => {
  const { store } = recordingStore()
  await store.insert('db', 'c', [{ a: 1 }], true)
  t.throws(() => store.find('db', 'c', { filter: { a: { $foo: 1 } } }), { code: 2, name: 'MongoCommandError' })
  t.throws(() => store.find('db', 'c', { filter: { $bogus: 1 } }), { code: 2 })
  t.throws(() => store.find('db', 'c', { filter: { a: { $in: 5 } } }), { code: 2 })
  t.throws(() => store.count('db', 'c', { a: { $regex: 5 } }), { code: 2 })
  t.throws(() => store.find('db', 'c', { sort: { a: 'up' } }), { code: 15975 })
})
