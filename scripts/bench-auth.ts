/**
 * `npm run bench:auth`: what accounts cost, in one run on this machine.
 *  - argon2id hash and verify time with the configured parameters (ARGON2_*; defaults: OWASP's minimum);
 *  - logins per second through the real route (app.inject), sequential and concurrent;
 *  - authenticated GET /api/users/me per second with and without the revocation check (rounds alternate so
 *    drift cancels out), with 10,000 revoked sessions in the list; and the check alone against the database
 *    round trip it replaces.
 * Runs on the embedded engine in memory unless MONGODB_URL is set. Options: BENCH_SECONDS (per measurement,
 * default 3), BENCH_CONCURRENCY (default 16).
 */
import { randomBytes } from 'node:crypto'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config/load-config.js'
import type { FastifyInstance } from 'fastify'
import type { AuthContext } from '../src/modules/auth/token.service.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16)
const REVOKED_IN_LIST = 10_000

/** Runs `task` from `concurrency` loops for `seconds`; returns operations per second. */
async function throughput (task: () => Promise<void>, seconds: number, concurrency: number): Promise<number> {
  const end = performance.now() + seconds * 1000
  let done = 0
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      await task()
      done++
    }
  }))
  return done / ((performance.now() - start) / 1000)
}

async function timeEach (n: number, task: () => Promise<unknown>): Promise<{ mean: number, median: number }> {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const start = performance.now()
    await task()
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  return { mean: times.reduce((a, b) => a + b, 0) / n, median: times[Math.floor(n / 2)] }
}

function nsPerOp (n: number, task: () => void): number {
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) task()
  return Number(process.hrtime.bigint() - start) / n
}

const PAIRS = 12

/**
 * Requests/s with and without the revocation check, in adjacent short rounds (order alternating) so that load
 * from elsewhere on the machine hits both alike; the ratio is the median of the per-pair ratios.
 */
async function compare (app: FastifyInstance, request: () => Promise<void>): Promise<{ on: number, off: number, ratio: number }> {
  const withCheck = app.tokens.verifyAccess.bind(app.tokens)
  const withoutCheck = app.tokens.verifySignature.bind(app.tokens)
  const measure = async (on: boolean): Promise<number> => {
    app.tokens.verifyAccess = on ? withCheck : withoutCheck
    return await throughput(request, SECONDS / 6, CONCURRENCY)
  }
  await throughput(request, 0.5, CONCURRENCY) // warm-up
  const on: number[] = []
  const off: number[] = []
  const ratios: number[] = []
  for (let pair = 0; pair < PAIRS; pair++) {
    let rOn: number
    let rOff: number
    if (pair % 2 === 0) {
      rOn = await measure(true)
      rOff = await measure(false)
    } else {
      rOff = await measure(false)
      rOn = await measure(true)
    }
    on.push(rOn)
    off.push(rOff)
    ratios.push(rOn / rOff)
  }
  app.tokens.verifyAccess = withCheck
  const mean = (values: number[]): number => values.reduce((x, y) => x + y, 0) / values.length
  ratios.sort((x, y) => x - y)
  return { on: mean(on), off: mean(off), ratio: (ratios[PAIRS / 2 - 1] + ratios[PAIRS / 2]) / 2 }
}

const fmt = (value: number, digits = 1): string => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

async function main (): Promise<void> {
  const config = loadConfig({
    DATA_DIR: ':memory:',
    LOG_LEVEL: 'silent',
    ...process.env,
    NODE_ENV: 'test',
    // The bench measures the work, not the brute-force limits.
    RATE_LIMIT_LOGIN: '0',
    RATE_LIMIT_LOGIN_ACCOUNT: '0',
    RATE_LIMIT_REGISTER: '0'
  })
  const app = await buildApp(config)
  // The guard alone, without the database work of a real route.
  app.get('/bench/whoami', { onRequest: app.authenticate }, async request => ({ userId: request.auth.userId }))
  await app.ready()
  const { memoryKib, timeCost, parallelism } = app.passwords.options
  console.log(`argon2id m=${memoryKib} KiB (${fmt(memoryKib / 1024)} MiB), t=${timeCost}, p=${parallelism}; ${SECONDS} s per measurement, concurrency ${CONCURRENCY}`)

  const hash = await timeEach(20, async () => await app.passwords.hash('correct horse battery staple'))
  const stored = await app.passwords.hash('correct horse battery staple')
  const verify = await timeEach(20, async () => await app.passwords.verify(stored, 'correct horse battery staple'))

  const password = 'correct horse battery staple'
  const registered = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: 'bench', email: 'bench@example.com', password } })
  if (registered.statusCode !== 201) throw new Error(`register failed: ${registered.body}`)
  const loginOnce = async (): Promise<void> => {
    const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: 'bench', password } })
    if (res.statusCode !== 200) throw new Error(`login failed: ${res.body}`)
  }
  const loginsSequential = await throughput(loginOnce, SECONDS, 1)
  const loginsConcurrent = await throughput(loginOnce, SECONDS, 4)

  const { accessToken } = (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: 'bench', password } })).json()
  const headers = { authorization: `Bearer ${accessToken}` }
  for (let i = 0; i < REVOKED_IN_LIST; i++) {
    app.revocation.apply({ sid: randomBytes(12).toString('hex'), userId: randomBytes(12).toString('hex'), reason: 'logout', revokedAt: new Date() })
  }
  const getMe = async (): Promise<void> => {
    const res = await app.inject({ method: 'GET', url: '/api/users/me', headers })
    if (res.statusCode !== 200) throw new Error(`GET /me failed: ${res.body}`)
  }
  const whoami = async (): Promise<void> => {
    const res = await app.inject({ method: 'GET', url: '/bench/whoami', headers })
    if (res.statusCode !== 200) throw new Error(`GET /bench/whoami failed: ${res.body}`)
  }
  const me = await compare(app, getMe)
  const guard = await compare(app, whoami)

  const sid = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString()).sid as string
  let sink: AuthContext | boolean | null = null
  const lookupNs = nsPerOp(1_000_000, () => { sink = app.revocation.isRevoked(sid) })
  const signatureNs = nsPerOp(50_000, () => { sink = app.tokens.verifySignature(accessToken) })
  const dbRoundTrip = await timeEach(2000, async () => await app.models.Session.findById(sid, { revokedAt: 1 }).lean())
  void sink

  console.log('')
  console.log('| measurement | value |')
  console.log('|---|---|')
  console.log(`| argon2id hash | ${fmt(hash.median)} ms median (${fmt(hash.mean)} ms mean) |`)
  console.log(`| argon2id verify | ${fmt(verify.median)} ms median |`)
  console.log(`| logins/s, one at a time | ${fmt(loginsSequential)} |`)
  console.log(`| logins/s, 4 concurrent | ${fmt(loginsConcurrent)} |`)
  console.log(`| GET /api/users/me req/s, with / without revocation check | ${fmt(me.on, 0)} / ${fmt(me.off, 0)} (median ratio of ${PAIRS} paired rounds: ${fmt(me.ratio, 3)}) |`)
  console.log(`| guard-only route req/s, with / without revocation check | ${fmt(guard.on, 0)} / ${fmt(guard.off, 0)} (median ratio: ${fmt(guard.ratio, 3)}) |`)
  console.log(`| revocation check (Map lookup, ${REVOKED_IN_LIST.toLocaleString('en-US')} revoked) | ${fmt(lookupNs)} ns |`)
  console.log(`| JWT verify (HS256 + claims), for scale | ${fmt(signatureNs / 1000, 2)} µs (the check is ${fmt(lookupNs / signatureNs * 100, 2)} % of it) |`)
  console.log(`| a session lookup in MongoDB instead | ${fmt(dbRoundTrip.median * 1000, 0)} µs median (${fmt(dbRoundTrip.median * 1e6 / lookupNs, 0)}x the check) |`)
  await app.close()
}

main().catch(error => {
  console.error(error)
  process.exit(1)
})
