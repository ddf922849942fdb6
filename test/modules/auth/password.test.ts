import t from 'tap'
import { loadConfig } from '../../../src/config/load-config.js'
import { OWASP_MINIMUM, PasswordService } from '../../../src/modules/auth/password.service.js'
import { buildTestApp } from '../../helpers/build-app.js'

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
