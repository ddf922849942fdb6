import t from 'tap'
import { loadConfig } from '../../../src/config/load-config.js'
import { MAX_WAIT_MS, OWASP_MINIMUM, PasswordService } from '../../../src/modules/auth/password.service.js'
import { AppError, rateLimited } from '../../../src/shared/errors.js'
import { buildAuthApp, buildTestApp } from '../../helpers/build-app.js'
import { register } from '../../helpers/users.js'

function phcParams (hash: string): { m: number, t: number, p: number } {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$|^\$argon2id\$v=19\$m=(\d+),p=(\d+),t=(\d+)\$/.exec(hash)
  if (match === null) throw new Error(`not an argon2id PHC string: ${hash}`)
  return match[1] !== undefined
    ? { m: Number(match[1]), t: Number(match[2]), p: Number(match[3]) }
    : { m: Number(match[4]), p: Number(match[5]), t: Number(match[6]) }
}

t.test('defaults are at or above OWASP\'s argon2id minimum (19 MiB, 2 iterations, parallelism 1)', async t => {
  t.same(OWASP_MINIMUM, { memoryKib: 19456, timeCost: 2, parallelism: 1 })
  const { argon2 } = loadConfig({})
  t.ok(argon2.memoryKib >= 19456, `memory ${argon2.memoryKib} KiB`)
  t.ok(argon2.timeCost >= 2, `iterations ${argon2.timeCost}`)
  t.ok(argon2.parallelism >= 1)
  const service = new PasswordService()
  t.same(service.options, { memoryKib: 19456, timeCost: 2, parallelism: 1 })

  // End to end with the real defaults: the stored hash carries them.
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: 'strong', email: 'strong@example.com', password: 'correct horse battery' } })
  t.equal(res.statusCode, 201)
  const stored = await app.models.User.findById(res.json().user.id).lean()
  const params = phcParams(stored?.passwordHash as string)
  t.ok(params.m >= 19456 && params.t >= 2 && params.p >= 1, `stored hash parameters ${JSON.stringify(params)}`)
})

t.test('hash and verify', async t => {
  const service = new PasswordService({ memoryKib: 64, timeCost: 1 })
  const hash = await service.hash('correct horse battery')
  t.not(await service.hash('correct horse battery'), hash, 'salted: the same password hashes differently')
  t.equal(await service.verify(hash, 'correct horse battery'), true)
  t.equal(await service.verify(hash, 'correct horse batterY'), false)
  t.equal(await service.verify('not a hash', 'anything'), false, 'an unreadable hash is a mismatch, not a crash')
  t.equal(await service.verifyDummy('correct horse battery'), false)
  t.equal(service.needsRehash(hash), false)
  t.equal(new PasswordService({ memoryKib: 128, timeCost: 1 }).needsRehash(hash), true)
  t.equal(service.needsRehash('garbage'), false)
})

/** Samples `service.load` on every turn of the event loop until `work` settles; resolves with the highest seen. */
async function peakLoad (service: PasswordService, work: Promise<unknown>): Promise<{ running: number, waiting: number }> {
  const peak = { running: 0, waiting: 0 }
  let done = false
  void work.finally(() => { done = true })
  while (!done) {
    const { running, waiting } = service.load
    peak.running = Math.max(peak.running, running)
    peak.waiting = Math.max(peak.waiting, waiting)
    await new Promise(resolve => setImmediate(resolve))
  }
  await work
  return peak
}

t.test('at most maxConcurrent hashes run at once (default 2); the rest wait their turn in order', async t => {
  t.equal(new PasswordService().maxConcurrent, 2)
  const service = new PasswordService({ memoryKib: 4096, timeCost: 1, maxConcurrent: 2 })
  const hash = await service.hash('correct horse battery')
  const checks = Promise.all(Array.from({ length: 8 }, async (_, i) => await service.verify(hash, i === 3 ? 'correct horse battery' : `wrong ${i}`)))
  t.same(service.load, { running: 2, waiting: 6 }, 'two started, six in line')
  const peak = await peakLoad(service, checks)
  t.equal(peak.running, 2, 'never more than two at once')
  t.same(await checks, [false, false, false, true, false, false, false, false], 'every answer right')
  t.same(service.load, { running: 0, waiting: 0 }, 'all slots free again')

  const single = new PasswordService({ memoryKib: 4096, timeCost: 1, maxConcurrent: 1 })
  const finished: number[] = []
  await Promise.all(Array.from({ length: 5 }, async (_, i) => { await single.hash(`password ${i}`); finished.push(i) }))
  t.same(finished, [0, 1, 2, 3, 4], 'first come, first served')
  t.equal(await single.verify('not a hash', 'x'), false, 'a failed verification frees its slot too')
  t.same(single.load, { running: 0, waiting: 0 })
})

t.test('a flood of logins and registrations through the app hashes at most ARGON2_MAX_CONCURRENT at once', async t => {
  const app = await buildTestApp(t, { ARGON2_MEMORY_KIB: '4096', ARGON2_TIME_COST: '1', ARGON2_MAX_CONCURRENT: '2', RATE_LIMIT_LOGIN: '0', RATE_LIMIT_LOGIN_ACCOUNT: '0' })
  const flood = Promise.all([
    ...Array.from({ length: 10 }, async (_, i) => await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: `nobody${i}`, password: 'wrong password' } })),
    ...Array.from({ length: 10 }, async (_, i) => await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: `flood${i}`, email: `flood${i}@example.com`, password: 'correct horse battery' } }))
  ])
  const peak = await peakLoad(app.passwords, flood)
  t.equal(peak.running, 2)
  t.ok(peak.waiting > 0, `the others queued (up to ${peak.waiting})`)
  t.same((await flood).map(r => r.statusCode).sort(), [...Array(10).fill(201), ...Array(10).fill(401)])
})

/** Settles every promise: the value, or the AppError code it was refused with. */
async function outcomes<T> (work: Array<Promise<T>>): Promise<Array<T | string>> {
  return await Promise.all(work.map(async p => await p.catch((error: unknown) => error instanceof AppError ? error.code : String(error))))
}

t.test('the wait line is bounded: past maxWaiting (default 32 × maxConcurrent) a check is refused at once with 429', async t => {
  t.equal(new PasswordService().maxWaiting, 64, 'default 32 × 2')
  t.equal(new PasswordService({ maxConcurrent: 4 }).maxWaiting, 128)
  t.equal(new PasswordService().maxWaitMs, 5000)
  // The real default cost: the refusals must come while the first checks still run.
  const service = new PasswordService({ maxConcurrent: 1, maxWaiting: 4 })
  const hash = await service.hash('correct horse battery')
  const started = Date.now()
  const checks = Array.from({ length: 10 }, async (_, i) => await service.verify(hash, i === 2 ? 'correct horse battery' : `wrong ${i}`))
  t.same(service.load, { running: 1, waiting: 4 }, 'one running, four in line, the rest refused')
  const refused = await checks[9].catch((error: unknown) => error)
  t.ok(Date.now() - started < 100, 'refused at once, not after the line')
  t.ok(refused instanceof AppError && refused.code === 'RATE_LIMITED' && refused.statusCode === 429)
  t.same((refused as AppError).details, { retryAfterSeconds: 1 })
  t.same(await outcomes(checks), [false, false, true, false, false, ...Array(5).fill('RATE_LIMITED')])
  t.same(service.load, { running: 0, waiting: 0 })
  t.equal(await service.verify(hash, 'correct horse battery'), true, 'and it works again')
})

t.test('a check that waits longer than maxWaitMs (default 5 s) is refused with 429 and leaves the line', async t => {
  const service = new PasswordService({ maxConcurrent: 1, maxWaitMs: 150 })
  const hash = await service.hash('correct horse battery')
  const started = Date.now()
  const results = await outcomes(Array.from({ length: 60 }, async () => await service.verify(hash, 'wrong')))
  const elapsed = Date.now() - started
  const verified = results.filter(r => r === false).length
  t.ok(results.every(r => r === false || r === 'RATE_LIMITED'), 'each verified or refused')
  t.ok(verified >= 1 && verified < 60, `${verified} verified, ${60 - verified} timed out of the line`)
  t.ok(elapsed < 1500, `all answered in about the deadline plus the running ones (${elapsed} ms)`)
  t.same(service.load, { running: 0, waiting: 0 }, 'the ones that timed out left the line; no slot was lost')
  const after = await outcomes([service.verify(hash, 'correct horse battery'), service.verify(hash, 'wrong')])
  t.same(after, [true, false])
})

t.test('a login flood through the app (real argon2 defaults) is refused with 429 and Retry-After past the line', async t => {
  const app = await buildTestApp(t)
  const user = await register(app)
  // What one hash costs on this machine now: the owner may wait MAX_WAIT_MS in line, then a couple of hashes.
  const hashStarted = Date.now()
  await app.passwords.hash('one hash, timed')
  const hashMs = Date.now() - hashStarted
  const flood = Promise.all(Array.from({ length: 200 }, async (_, i) => await app.inject({
    method: 'POST', url: '/api/auth/login', remoteAddress: `10.${i % 20}.0.1`, payload: { login: `nobody${i}`, password: 'wrong password' }
  })))
  const startedOwner = Date.now()
  const owner = app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '198.51.100.7', payload: { login: user.username, password: user.password } })
  const ownerTime = owner.then(() => Date.now() - startedOwner)
  const peak = await peakLoad(app.passwords, flood)
  const replies = await flood
  t.ok(peak.waiting <= 64, `at most maxWaiting (64) in line (${peak.waiting})`)
  const limited = replies.filter(r => r.statusCode === 429)
  t.ok(limited.length > 0, `${limited.length} refused`)
  t.ok(replies.every(r => r.statusCode === 401 || r.statusCode === 429))
  t.equal(limited[0]?.json().code, 'RATE_LIMITED')
  t.equal(limited[0]?.headers['retry-after'], '1', 'with Retry-After')
  const ownerReply = await owner
  t.ok([200, 429].includes(ownerReply.statusCode), `the owner is answered (${ownerReply.statusCode}) ...`)
  const bound = MAX_WAIT_MS + 4 * hashMs + 1000
  t.ok(await ownerTime < bound, `... within the wait deadline, not behind the whole flood (${await ownerTime} ms, bound ${bound} ms)`)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '198.51.100.7', payload: { login: user.username, password: user.password } })).statusCode, 200)
})

t.test('a login the hashing queue refused is not counted against the account budgets', async t => {
  const app = await buildAuthApp(t, { RATE_LIMIT_LOGIN: '0', RATE_LIMIT_LOGIN_ACCOUNT: '3', RATE_LIMIT_LOGIN_ACCOUNT_TOTAL: '3' })
  const user = await register(app)
  const verify = app.passwords.verify
  app.passwords.verify = async () => { throw rateLimited(1000, 'password checks at once') }
  for (let i = 0; i < 5; i++) t.equal((await app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '203.0.113.3', payload: { login: user.username, password: `guess ${i}` } })).statusCode, 429)
  app.passwords.verify = verify
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '203.0.113.3', payload: { login: user.username, password: user.password } })).statusCode, 200,
    'neither the account+IP nor the account budget was spent')
})
