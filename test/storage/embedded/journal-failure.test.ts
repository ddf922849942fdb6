// A journal write that fails for real (the write system call returns EFBIG past a lowered RLIMIT_FSIZE):
// the engine reports itself failed, refuses every later write at once with a clear error (no hang, no
// change to memory), keeps serving reads, and a restart recovers exactly what was acknowledged.
import t, { type Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mongoose from 'mongoose'
import { startEmbeddedMongo, type EmbeddedMongo } from '../../../src/storage/embedded/index.js'
import { withTimeout } from '../../../src/shared/with-timeout.js'
import { cannotLimitFileSize, limitFileSize, liveSegmentBytes } from './file-size-limit.js'

const silent = { debug () {}, info () {}, warn () {}, error () {} }

async function open (t: Test, dataDir: string): Promise<{ engine: EmbeddedMongo; client: mongoose.mongo.MongoClient }> {
  const engine = await startEmbeddedMongo({ dataDir, logger: silent })
  const client = await new mongoose.mongo.MongoClient(engine.url, { serverSelectionTimeoutMS: 2000 }).connect()
  t.teardown(async () => { await client.close(); await engine.close() })
  return { engine, client }
}

/** The error a write ends with (bounded: a write that hangs fails the test instead). */
async function writeError (write: Promise<unknown>): Promise<{ code?: number; codeName?: string; message: string }> {
  try {
    await withTimeout(write, 5000, 'the write hung')
  } catch (err) {
    return err as { code?: number; codeName?: string; message: string }
  }
  throw new Error('the write succeeded')
}

t.test('a failed journal write: health failed, writes refused with OperationFailed, reads served, restart recovers', { skip: cannotLimitFileSize }, async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-journal-failure-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const first = await open(t, dataDir)
  const docs = first.client.db('app').collection<{ _id: string }>('docs')
  await docs.insertOne({ _id: 'acked' })
  t.same(await first.engine.health(), { state: 'ok' })

  const lift = limitFileSize(await liveSegmentBytes(dataDir))
  let failing
  try {
    failing = await writeError(docs.insertOne({ _id: 'hit-the-failure' }))
  } finally {
    lift() // the journal stays failed: fail-stop, whatever the disk does next
  }
  t.match(failing.message, /journal write failed: .*EFBIG/, 'the write that hit the failure gets the system error')

  const health = await first.engine.health()
  t.equal(health.state, 'failed', 'the engine reports the failure')
  if (health.state === 'failed') t.match((health.error as NodeJS.ErrnoException).code, 'EFBIG')

  for (const write of [
    async () => await docs.insertOne({ _id: 'after' }),
    async () => await docs.updateOne({ _id: 'acked' }, { $set: { changed: true } }),
    async () => await docs.deleteOne({ _id: 'acked' }),
    async () => await docs.findOneAndUpdate({ _id: 'acked' }, { $set: { changed: true } }),
    async () => await docs.createIndex({ x: 1 }),
    async () => await first.client.db('app').dropDatabase()
  ]) {
    const err = await writeError(write())
    t.equal(err.codeName, 'OperationFailed', `refused at once: ${err.message}`)
    t.match(err.message, /refuses writes after a journal write failure/)
  }
  t.same(await docs.findOne({ _id: 'acked' }), { _id: 'acked' }, 'reads are served, and the refused writes changed nothing')
  t.equal((await first.client.db('admin').command({ ping: 1 })).ok, 1)

  await first.client.close()
  await first.engine.close()
  const second = await open(t, dataDir)
  t.same(await second.engine.health(), { state: 'ok' }, 'a restart starts healthy')
  const after = second.client.db('app').collection<{ _id: string }>('docs')
  t.same(await after.find().toArray(), [{ _id: 'acked' }], 'exactly the acknowledged write survived')
  await after.insertOne({ _id: 'writable again' })
  t.equal(await after.countDocuments(), 2)
})
