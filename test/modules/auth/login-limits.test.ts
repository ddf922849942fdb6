/**
 * The limits on password checks (login-limiter.ts): per account and IP (tight), per account from all IPs (loose),
 * each attempt counted before the password is verified, so parallel guesses cannot overshoot; and the client IP
 * they count, as the load balancer's trusted header gives it.
 */
import t from 'tap'
import { buildAuthApp } from '../../helpers/build-app.js'
import { bearer } from '../../helpers/rest.js'
import { register, signUp } from '../../helpers/users.js'

type App = Awaited<ReturnType<typeof buildAuthApp>>
const attempt = (app: App, login: string, password: string, ip: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/api/auth/login', payload: { login, password }, remoteAddress: ip, headers })

/** How many replies had each status: `{ 401: 10, 429: 40 }`. */
function statuses (replies: Array<{ statusCode: number }>): Record<number, number> {
  const counts: Record<number, number> = {}
  for (const reply of replies) counts[reply.statusCode] = (counts[reply.statusCode] ?? 0) + 1
  return counts
}

t.test('an attacker who exhausts the account+IP budget does not lock the owner out from elsewhere', async t => {
  const app = await buildAuthApp(t, { RATE_LIMIT_LOGIN: '0', RATE_LIMIT_LOGIN_ACCOUNT: '3' })
  const victim = await register(app)
  for (let i = 0; i < 3; i++) t.equal((await attempt(app, victim.username, `guess ${i}`, '203.0.113.66')).statusCode, 401)
  const blocked = await attempt(app, victim.email, victim.password, '203.0.113.66')
  t.equal(blocked.statusCode, 429, 'the attacker\'s place is blocked, even with the right password')
  t.ok(Number(blocked.headers['retry-after']) > 60, 'for the 15-minute window')
  t.equal((await attempt(app, victim.username, victim.password, '198.51.100.7')).statusCode, 200, 'the owner signs in from their own IP')

  // The same for an account that does not exist: the limit reveals nothing.
  for (let i = 0; i < 3; i++) t.equal((await attempt(app, 'ghost', 'wrong password', '203.0.113.66')).statusCode, 401)
  t.equal((await attempt(app, 'GHOST', 'wrong password', '203.0.113.66')).statusCode, 429, 'case-insensitive key')
  t.equal((await attempt(app, 'ghost', 'wrong password', '198.51.100.7')).statusCode, 401)
})

t.test('a success clears the account+IP count', async t => {
  const app = await buildAuthApp(t, { RATE_LIMIT_LOGIN: '0', RATE_LIMIT_LOGIN_ACCOUNT: '3' })
  const user = await register(app)
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 2; i++) t.equal((await attempt(app, user.username, 'wrong password', '10.0.0.1')).statusCode, 401)
    t.equal((await attempt(app, user.username, user.password, '10.0.0.1')).statusCode, 200, `round ${round}`)
  }
})

t.test('the account from all IPs together has a looser budget (RATE_LIMIT_LOGIN_ACCOUNT_TOTAL)', async t => {
  const app = await buildAuthApp(t, { RATE_LIMIT_LOGIN: '0', RATE_LIMIT_LOGIN_ACCOUNT: '3', RATE_LIMIT_LOGIN_ACCOUNT_TOTAL: '5' })
  const user = await register(app)
  const other = await register(app)
  for (let i = 0; i < 5; i++) {
    t.equal((await attempt(app, i % 2 === 0 ? user.username : user.email, 'wrong password', `10.0.1.${i}`)).statusCode, 401, `failure ${i + 1} from its own IP`)
  }
  const limited = await attempt(app, user.username, 'wrong password', '10.0.2.1')
  t.equal(limited.statusCode, 429, 'a distributed guess is slowed')
  t.equal(limited.json().code, 'RATE_LIMITED')
  t.ok(Number(limited.headers['retry-after']) > 60)
  t.equal((await attempt(app, other.username, other.password, '10.0.2.1')).statusCode, 200, 'other accounts are not affected')
})

t.test('parallel wrong logins: at most RATE_LIMIT_LOGIN_ACCOUNT of them are verified', async t => {
  const app = await buildAuthApp(t, { RATE_LIMIT_LOGIN: '0', RATE_LIMIT_LOGIN_ACCOUNT: '10' })
  const user = await register(app)
  const replies = await Promise.all(Array.from({ length: 50 }, async (_, i) => await attempt(app, user.username, `guess ${i}`, '203.0.113.9')))
  t.same(statuses(replies), { 401: 10, 429: 40 }, 'exactly the budget, not one guess more')
  t.equal((await attempt(app, user.username, user.password, '203.0.113.9')).statusCode, 429)

  // The same against the loose all-IPs budget, from many places at once.
  const app2 = await buildAuthApp(t, { RATE_LIMIT_LOGIN: '0', RATE_LIMIT_LOGIN_ACCOUNT: '10', RATE_LIMIT_LOGIN_ACCOUNT_TOTAL: '20' })
  const user2 = await register(app2)
  const spread = await Promise.all(Array.from({ length: 60 }, async (_, i) => await attempt(app2, user2.username, `guess ${i}`, `10.9.${i % 6}.1`)))
  t.same(statuses(spread), { 401: 20, 429: 40 })
})

t.test('parallel password confirmations (PUT /me/password, DELETE /me) are verified at most the budget', async t => {
  const app = await buildAuthApp(t, { RATE_LIMIT_LOGIN_ACCOUNT: '4' })
  const user = await signUp(app)
  const guesses = await Promise.all(Array.from({ length: 10 }, async (_, i) => await app.inject({
    method: 'PUT', url: '/api/users/me/password', headers: bearer(user.accessToken), payload: { currentPassword: `guess ${i}`, newPassword: 'new password 1' }
  })))
  const deletes = await Promise.all(Array.from({ length: 10 }, async (_, i) => await app.inject({
    method: 'DELETE', url: '/api/users/me', headers: bearer(user.accessToken), payload: { password: `guess ${i}` }
  })))
  t.same(statuses([...guesses, ...deletes]), { 403: 4, 429: 16 })
  t.equal((await app.inject({ method: 'GET', url: '/api/users/me', headers: bearer(user.accessToken) })).statusCode, 200, 'nothing was changed')
})

t.test('TRUST_PROXY names the load balancer: a forged X-Forwarded-For from anyone else changes nothing', async t => {
  const LB = '172.28.0.10'
  const app = await buildAuthApp(t, { TRUST_PROXY: '172.28.0.10/32', RATE_LIMIT_LOGIN: '2', RATE_LIMIT_LOGIN_ACCOUNT: '0' }, {
    setup: app => { app.get('/t/ip', async request => ({ ip: request.ip })) }
  })
  const ipOf = async (remoteAddress: string, forwarded?: string) =>
    (await app.inject({ method: 'GET', url: '/t/ip', remoteAddress, headers: forwarded !== undefined ? { 'x-forwarded-for': forwarded } : {} })).json().ip
  t.equal(await ipOf('203.0.113.5', '1.2.3.4'), '203.0.113.5', 'a direct client cannot pick its IP')
  t.equal(await ipOf(LB, '198.51.100.20'), '198.51.100.20', 'the load balancer\'s header is believed')

  const user = await register(app)
  for (let i = 0; i < 2; i++) t.equal((await attempt(app, user.username, 'wrong password', '203.0.113.5', { 'x-forwarded-for': `1.2.3.${i}` })).statusCode, 401)
  t.equal((await attempt(app, user.username, 'wrong password', '203.0.113.5', { 'x-forwarded-for': '1.2.3.99' })).statusCode, 429,
    'rotating X-Forwarded-For does not reset the per-IP limit')
  t.equal((await attempt(app, user.username, user.password, LB, { 'x-forwarded-for': '198.51.100.20' })).statusCode, 200,
    'another client behind the load balancer has its own budget')
})
