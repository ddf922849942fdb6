// /ready follows the embedded engine's journal: once a journal write fails for real (EFBIG from the write
// system call past a lowered RLIMIT_FSIZE), every write is refused and /ready answers 503 naming mongodb,
// with states only in the body (no error text, hosts or ports). The same with the engine on its own thread,
// whose health the readiness check asks across threads.
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildTestApp, EXTERNAL_MONGODB } from '../helpers/build-app.js'
import { withTimeout } from '../../src/shared/with-timeout.js'
import { cannotLimitFileSize, limitFileSize, liveSegmentBytes } from './embedded/file-size-limit.js'

const skip = EXTERNAL_MONGODB ? 'the embedded engine only' : cannotLimitFileSize

for (const thread of ['true', 'false']) t.test(`a failed journal write turns /ready red and writes fail fast (DB_THREAD=${thread})`, { skip }, async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-ready-journal-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const app = await buildTestApp(t, { DATA_DIR: dataDir, DB_THREAD: thread })
  const notes = app.storage.connection.collection('notes')
  await notes.insertOne({ text: 'before' })
  const green = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(green.statusCode, 200)

  const lift = limitFileSize(await liveSegmentBytes(dataDir))
  try {
    await t.rejects(withTimeout(notes.insertOne({ text: 'hits the failure' }), 5000, 'the write hung'), /journal write failed/)
  } finally {
    lift()
  }

  const red = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(red.statusCode, 503, '/ready answers 503')
  t.same(red.json(), { status: 'unavailable', checks: { mongodb: 'unavailable' } }, 'naming mongodb, with no error text')
  await t.rejects(withTimeout(notes.insertOne({ text: 'after' }), 5000, 'the write hung'),
    { codeName: 'OperationFailed', message: /refuses writes after a journal write failure/ }, 'later writes get an error, not a hang')
  t.equal(await notes.countDocuments({ text: 'before' }), 1, 'reads are still served')
})

t.test('/ready tells states only: the reason a check failed is logged, not returned', async t => {
  const app = await buildTestApp(t)
  const logged: unknown[] = []
  const warn = app.log.warn.bind(app.log)
  app.log.warn = ((obj: unknown, ...rest: unknown[]) => { logged.push(obj); return (warn as (...a: unknown[]) => void)(obj, ...rest) }) as typeof app.log.warn
  app.readiness.add('upstream', async () => { throw new Error('connect ECONNREFUSED 10.1.2.3:6379') })
  const res = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(res.statusCode, 503)
  t.same(res.json(), { status: 'unavailable', checks: { mongodb: 'ok', upstream: 'unavailable' } })
  t.notMatch(res.body, /10\.1\.2\.3|6379|ECONNREFUSED/, 'no host, port or error text in the body')
  t.match(logged, [{ check: 'upstream', err: { message: /ECONNREFUSED 10\.1\.2\.3:6379/ } }], 'the reason is logged')
})
