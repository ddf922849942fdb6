// TTL indexes: a pass (MemoryStore.expireTtl) deletes documents whose single-field TTL-indexed date is
// older than now - expireAfterSeconds, walking the index range only; deletions are journaled; the monitor
// in startEmbeddedMongo runs passes on its own.
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mongoose from 'mongoose'
import { startEmbeddedMongo } from '../../../src/storage/embedded/index.js'
import { openJournaledStore } from '../../../src/storage/embedded/journal.js'
import { MemoryStore } from '../../../src/storage/embedded/store.js'
import type { EngineLogger } from '../../../src/storage/embedded/store.types.js'
import { TTL_BATCH_SIZE } from '../../../src/storage/embedded/ttl.js'

const NOW = new Date('2026-06-01T12:00:00Z')
const ago = (s: number): Date => new Date(NOW.getTime() - s * 1000)
const ids = (store: MemoryStore, coll: string): unknown[] => store.find('db', coll, { sort: { _id: 1 } }).map(d => d._id)
const noop = (): void => {}
const silent: EngineLogger = { debug: noop, info: noop, warn: noop, error: noop }

t.test('expired documents go, unexpired, missing and non-date ones stay', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 's', [{ key: { purgeAt: 1 }, name: 'purgeAt_1', expireAfterSeconds: 3600 }])
  await store.insert('db', 's', [
    { _id: 1, purgeAt: ago(7200) }, // expired
    { _id: 2, purgeAt: ago(3601) }, // expired
    { _id: 3, purgeAt: ago(3599) }, // not yet
    { _id: 4, purgeAt: new Date(NOW.getTime() + 1000) }, // future
    { _id: 5 }, // missing
    { _id: 6, purgeAt: null },
    { _id: 7, purgeAt: ago(7200).getTime() }, // a number, not a date
    { _id: 8, purgeAt: ago(7200).toISOString() }, // a string, not a date
    { _id: 9, purgeAt: { at: ago(7200) } }
  ], true)
  t.equal(await store.expireTtl(NOW), 2)
  t.same(ids(store, 's'), [3, 4, 5, 6, 7, 8, 9])
  t.equal(await store.expireTtl(NOW), 0, 'a second pass finds nothing')
  t.equal(store.count('db', 's', { purgeAt: { $lt: NOW } }), 1, 'the index stayed consistent: only _id 3 is below now')
  t.equal(await store.expireTtl(new Date(NOW.getTime() + 2000)), 1, 'time passing expires _id 3')
  t.same(ids(store, 's'), [4, 5, 6, 7, 8, 9])
})

t.test('expireAfterSeconds 0 expires at the date itself; a descending index works the same', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'z', [{ key: { at: -1 }, name: 'at_-1', expireAfterSeconds: 0 }])
  await store.insert('db', 'z', [{ _id: 1, at: ago(1) }, { _id: 2, at: NOW }, { _id: 3, at: ago(-1) }], true)
  t.equal(await store.expireTtl(NOW), 1)
  t.same(ids(store, 'z'), [2, 3])
})

t.test('an array of dates expires by its earliest date, non-date elements are ignored', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'a', [{ key: { at: 1 }, name: 'at_1', expireAfterSeconds: 60 }])
  await store.insert('db', 'a', [
    { _id: 1, at: [ago(-600), ago(120), ago(-30)] }, // earliest is expired
    { _id: 2, at: [ago(-600), ago(30)] }, // earliest is not
    { _id: 3, at: ['x', 5, ago(30)] },
    { _id: 4, at: ['x', ago(61)] },
    { _id: 5, at: [] }
  ], true)
  t.equal(await store.expireTtl(NOW), 2)
  t.same(ids(store, 'a'), [2, 3, 5])
})

t.test('compound indexes ignore expireAfterSeconds; _id_ is never a TTL index', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'c', [{ key: { at: 1, k: 1 }, name: 'at_1_k_1', expireAfterSeconds: 1 }])
  await store.insert('db', 'c', [{ _id: ago(1000), at: ago(1000), k: 1 }], true)
  t.equal(await store.expireTtl(NOW), 0)
  t.equal(store.documentCount(), 1)
})

t.test('partial and sparse TTL indexes expire only the documents they index', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'p', [{ key: { at: 1 }, name: 'at_1', expireAfterSeconds: 10, partialFilterExpression: { temp: true } }])
  await store.insert('db', 'p', [{ _id: 1, at: ago(100), temp: true }, { _id: 2, at: ago(100), temp: false }], true)
  t.equal(await store.expireTtl(NOW), 1)
  t.same(ids(store, 'p'), [2])
})

t.test('large expiries go in batches and every index stays right', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'b', [
    { key: { at: 1 }, name: 'at_1', expireAfterSeconds: 60 },
    { key: { tag: 1 }, name: 'tag_1', unique: true }
  ])
  const n = TTL_BATCH_SIZE * 2 + 17
  const docs = Array.from({ length: n + 10 }, (_, i) => ({ _id: i, tag: `t${i}`, at: i < n ? ago(61 + i) : ago(10) }))
  await store.insert('db', 'b', docs, true)
  t.equal(await store.expireTtl(NOW), n)
  t.equal(store.documentCount(), 10)
  t.equal(store.count('db', 'b', { tag: 't0' }), 0, 'removed from the other indexes too')
  const again = await store.insert('db', 'b', [{ _id: 0, tag: 't0' }], true)
  t.equal(again.n, 1, 'unique keys of deleted documents are free again')
})

t.test('passes requested concurrently run one after another', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'q', [{ key: { at: 1 }, name: 'at_1', expireAfterSeconds: 0 }])
  await store.insert('db', 'q', Array.from({ length: 1200 }, (_, i) => ({ _id: i, at: ago(5) })), true)
  const [a, b] = await Promise.all([store.expireTtl(NOW), store.expireTtl(NOW)])
  t.equal(a + b, 1200)
  t.equal(store.documentCount(), 0)
})

t.test('dropping the index or the collection between batches is harmless', async t => {
  const store = new MemoryStore()
  await store.createIndexes('db', 'd', [{ key: { at: 1 }, name: 'at_1', expireAfterSeconds: 0 }])
  await store.insert('db', 'd', Array.from({ length: TTL_BATCH_SIZE * 3 }, (_, i) => ({ _id: i, at: ago(5) })), true)
  const pass = store.expireTtl(NOW)
  await new Promise(resolve => setImmediate(resolve)) // the first batch is done, the pass yields
  await store.dropIndexes('db', 'd', 'at_1') // lands while the pass is between batches
  const n = await pass
  t.ok(n >= TTL_BATCH_SIZE && n < TTL_BATCH_SIZE * 3, `stopped after the index went (${n})`)
  t.equal(store.documentCount(), TTL_BATCH_SIZE * 3 - n)
})

t.test('deletions are journaled: they survive a restart in dataDir mode', async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-ttl-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const open = async (): Promise<{ store: MemoryStore; close: () => Promise<void> }> => {
    let store: MemoryStore | undefined
    const j = await openJournaledStore({ dataDir, logger: silent, createStore: d => (store = new MemoryStore({ durability: d })) })
    return { store: store as MemoryStore, close: j.close }
  }
  const first = await open()
  await first.store.createIndexes('db', 's', [{ key: { purgeAt: 1 }, name: 'purgeAt_1', expireAfterSeconds: 30 }])
  await first.store.insert('db', 's', [{ _id: 1, purgeAt: ago(60) }, { _id: 2, purgeAt: ago(1) }, { _id: 3 }], true)
  t.equal(await first.store.expireTtl(NOW), 1)
  await first.close()

  const second = await open()
  t.teardown(second.close)
  t.same(ids(second.store, 's'), [2, 3], 'the expired document stays deleted after replay')
  t.equal(Number(second.store.listIndexes('db', 's')[1].expireAfterSeconds?.valueOf()), 30)
  t.equal(await second.store.expireTtl(NOW), 0)
  // the replayed spec holds an Int32: the index is still a TTL index
  await second.store.insert('db', 's', [{ _id: 4, purgeAt: ago(31) }], true)
  t.equal(await second.store.expireTtl(NOW), 1)
  t.same(ids(second.store, 's'), [2, 3])
})

// collMod (changing expireAfterSeconds in place) is not a command the engine implements (docs/engine.md): a client
// that tries must hear so, and the index must keep its TTL.
t.test('collMod is refused as an unknown command and leaves the TTL index as it was', async t => {
  const mongo = await startEmbeddedMongo({ ttlMonitorIntervalMs: 0 })
  t.teardown(() => mongo.close())
  const client = new mongoose.mongo.MongoClient(mongo.url)
  await client.connect()
  t.teardown(() => client.close())
  const db = client.db('app')
  await db.collection('sessions').createIndex({ purgeAt: 1 }, { expireAfterSeconds: 30 })
  await t.rejects(db.command({ collMod: 'sessions', index: { keyPattern: { purgeAt: 1 }, expireAfterSeconds: 60 } }),
    { code: 59, codeName: 'CommandNotFound' })
  const index = (await db.collection('sessions').listIndexes().toArray()).find(i => i.name === 'purgeAt_1')
  t.equal(index?.expireAfterSeconds, 30, 'the TTL is unchanged')
})

t.test('through the driver: the monitor deletes expired documents on its own', async t => {
  const mongo = await startEmbeddedMongo({ ttlMonitorIntervalMs: 20 })
  t.teardown(() => mongo.close())
  const client = new mongoose.mongo.MongoClient(mongo.url)
  await client.connect()
  t.teardown(() => client.close())
  const sessions = client.db('app').collection('sessions')
  await sessions.createIndex({ purgeAt: 1 }, { expireAfterSeconds: 0 })
  const past = new Date(Date.now() - 60_000)
  const future = new Date(Date.now() + 3_600_000)
  await sessions.insertMany([{ _id: 'old', purgeAt: past }, { _id: 'new', purgeAt: future }, { _id: 'none' }] as any[])
  const idx = (await sessions.listIndexes().toArray()).find(i => i.name === 'purgeAt_1')
  t.equal(idx?.expireAfterSeconds, 0)
  // eventual deletion: poll until the monitor has run, with a generous cap
  let left: unknown[] = []
  for (let i = 0; i < 500; i++) {
    left = (await sessions.find({}).sort({ _id: 1 }).toArray()).map(d => d._id)
    if (left.length < 3) break
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  t.same(left, ['new', 'none'])
})

t.test('the monitor is off with ttlMonitorIntervalMs 0 and stops on close', async t => {
  const mongo = await startEmbeddedMongo({ ttlMonitorIntervalMs: 0 })
  const client = new mongoose.mongo.MongoClient(mongo.url)
  await client.connect()
  const coll = client.db('app').collection('x')
  await coll.createIndex({ at: 1 }, { expireAfterSeconds: 0 })
  await coll.insertOne({ at: new Date(0) })
  // long enough for many passes had the monitor been on; with it off the document must remain
  await new Promise(resolve => setTimeout(resolve, 50))
  t.equal(await coll.countDocuments(), 1)
  await client.close()
  await mongo.close()
})
