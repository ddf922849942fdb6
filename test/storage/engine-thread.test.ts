// The embedded engine on a worker thread of its own (DB_THREAD=true, the default outside tests): the driver talks to
// it over TCP as to any MongoDB, its logs reach the host's logger, its start-up errors cross the thread with their
// name and message, a durable directory survives a restart, and an app built on it stores, serves and keeps
// messages across a restart.
import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mongoose from 'mongoose'
import { startEmbeddedMongoThread } from '../../src/storage/embedded/engine-thread-host.js'
import type { EngineLogger } from '../../src/storage/embedded/store.types.js'
import { buildTestApp, EXTERNAL_MONGODB } from '../helpers/build-app.js'
import { openDirect, send } from '../helpers/conversations.js'
import { api } from '../helpers/rest.js'
import { signUp } from '../helpers/users.js'

const skip = EXTERNAL_MONGODB ? 'the embedded engine only' : false

function recordingLogger (): { logger: EngineLogger, lines: Array<{ level: string, obj: unknown, msg?: string }> } {
  const lines: Array<{ level: string, obj: unknown, msg?: string }> = []
  const at = (level: string) => (obj: object, msg?: string): void => { lines.push({ level, obj, msg }) }
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines }
}

async function tempDir (t: { teardown: (fn: () => unknown) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-engine-thread-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('in memory: the driver reads and writes, health is ok, logs come back, close is idempotent', { skip }, async t => {
  const { logger, lines } = recordingLogger()
  const engine = await startEmbeddedMongoThread({ dataDir: null, logger })
  t.match(engine.url, /^mongodb:\/\/127\.0\.0\.1:\d+\/\?directConnection=true$/)
  const client = await new mongoose.mongo.MongoClient(engine.url, { serverSelectionTimeoutMS: 2000 }).connect()
  const notes = client.db('app').collection<{ _id: string, n: number }>('notes')
  await notes.insertMany([{ _id: 'a', n: 1 }, { _id: 'b', n: 2 }])
  await notes.updateOne({ _id: 'b' }, { $inc: { n: 40 } })
  t.same(await notes.find({ n: { $gt: 1 } }).toArray(), [{ _id: 'b', n: 42 }])
  t.same(await engine.health(), { state: 'ok' })
  t.match(lines, [{ level: 'info', msg: 'embedded mongo: listening', obj: { url: engine.url } }], "the thread's log lines reach the host's logger")
  await client.close()
  await Promise.all([engine.close(), engine.close()])
  await engine.close()
  t.same(await engine.health(), { state: 'failed', error: /exited/ }, 'a closed engine is not healthy')
})

t.test('durable: what was written is there after a restart; a second engine on the locked directory fails to start with the reason', { skip }, async t => {
  const dataDir = await tempDir(t)
  const first = await startEmbeddedMongoThread({ dataDir })
  const client = await new mongoose.mongo.MongoClient(first.url, { serverSelectionTimeoutMS: 2000 }).connect()
  await client.db('app').collection('notes').insertOne({ _id: 'kept' } as never)
  await t.rejects(startEmbeddedMongoThread({ dataDir }), { name: 'DataDirLockedError', message: /is in use by process/ }, 'the lock error crosses the thread by name')
  await client.close()
  await first.close()

  const second = await startEmbeddedMongoThread({ dataDir })
  t.teardown(() => second.close())
  const again = await new mongoose.mongo.MongoClient(second.url, { serverSelectionTimeoutMS: 2000 }).connect()
  t.teardown(() => again.close())
  t.same(await again.db('app').collection('notes').find().toArray(), [{ _id: 'kept' }])
})

t.test('a data directory that cannot be opened: the start rejects with the error, and the thread is gone', { skip }, async t => {
  const dir = await tempDir(t)
  const file = join(dir, 'not-a-directory')
  await writeFile(file, 'x')
  await t.rejects(startEmbeddedMongoThread({ dataDir: join(file, 'data') }), { message: /ENOTDIR|EEXIST|not a directory/ })
})

t.test('an app on the threaded engine: messages stored, served and kept across a restart; /ready asks the thread', { skip }, async t => {
  const dataDir = await tempDir(t)
  const environment = { DATA_DIR: dataDir, DB_THREAD: 'true', RATE_LIMIT_REGISTER: '0' }
  const first = await buildTestApp(t, environment)
  t.equal(first.config.dbThread, true)
  const alice = await signUp(first, 'alice')
  const bob = await signUp(first, 'bob')
  const id = await openDirect(first, alice, bob)
  for (const body of ['one', 'two', 'three']) await send(first, alice, id, body)
  t.equal((await first.inject({ method: 'GET', url: '/ready' })).statusCode, 200)
  await first.close()

  const second = await buildTestApp(t, environment)
  const page = await api(second, bob)('GET', `/api/conversations/${id}/messages`)
  t.equal(page.statusCode, 200)
  t.same(page.json().items.map((m: { seq: number, body: string }) => [m.seq, m.body]), [[1, 'one'], [2, 'two'], [3, 'three']])
})
