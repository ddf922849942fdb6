// startEmbeddedMongo with a data directory: acknowledged writes survive a clean restart, and close()
// leaves nothing running (tap would hang otherwise).
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mongoose from 'mongoose'
import { startEmbeddedMongo } from '../../../src/storage/embedded/index.js'

const dataDir = await mkdtemp(join(tmpdir(), 'parley-embedded-'))
t.teardown(() => rm(dataDir, { recursive: true, force: true }))

t.test('acknowledged writes and indexes survive a restart', async t => {
  const first = await startEmbeddedMongo({ dataDir })
  const c1 = new mongoose.mongo.MongoClient(first.url)
  await c1.connect()
  const coll = c1.db('app').collection('rooms')
  await coll.createIndex({ slug: 1 }, { unique: true })
  await coll.insertMany([{ slug: 'general' }, { slug: 'random' }])
  await coll.updateOne({ slug: 'random' }, { $set: { topic: 'anything' } })
  await c1.close()
  await first.close()
  await first.close() // idempotent

  const second = await startEmbeddedMongo({ dataDir })
  t.teardown(() => second.close())
  t.not(second.port, 0)
  const c2 = new mongoose.mongo.MongoClient(second.url)
  await c2.connect()
  t.teardown(() => c2.close())
  const again = c2.db('app').collection('rooms')
  const docs = await again.find({}, { projection: { _id: 0 } }).sort({ slug: 1 }).toArray()
  t.same(docs, [{ slug: 'general' }, { slug: 'random', topic: 'anything' }])
  t.ok((await again.listIndexes().toArray()).some(i => i.name === 'slug_1' && i.unique === true))
  await t.rejects(again.insertOne({ slug: 'general' }), { code: 11000 }, 'the unique index still enforces')
})

t.test('a busy port is reported, not swallowed', async t => {
  const a = await startEmbeddedMongo()
  t.teardown(() => a.close())
  await t.rejects(startEmbeddedMongo({ port: a.port }), { code: 'EADDRINUSE' })
})
