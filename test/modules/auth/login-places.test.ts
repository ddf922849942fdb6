/**
 * The client key of the IP limits (client-key.ts: an IPv6 /64, an IPv4 address) and the known-place exemption from
 * the account's all-IPs budget (login-limiter.ts), through the real app and its real limiters with default limits.
 */
import t from 'tap'
import { clientKey } from '../../../src/modules/auth/client-key.js'
import { buildAuthApp } from '../../helpers/build-app.js'
import { register } from '../../helpers/users.js'

type App = Awaited<ReturnType<typeof buildAuthApp>>
const attempt = (app: App, login: string, password: string, remoteAddress: string) =>
  app.inject({ method: 'POST', url: '/api/auth/login', payload: { login, password }, remoteAddress })

function statuses (codes: number[]): Record<number, number> {
  const counts: Record<number, number> = {}
  for (const code of codes) counts[code] = (counts[code] ?? 0) + 1
  return counts
}

t.test('clientKey: IPv6 by its /64, IPv4 and IPv4-mapped IPv6 by the IPv4 address', async t => {
  t.equal(clientKey('198.51.100.7'), '198.51.100.7')
  t.equal(clientKey('::ffff:198.51.100.7'), '198.51.100.7', 'IPv4-mapped')
  t.equal(clientKey('::FFFF:c633:6407'), '198.51.100.7', 'IPv4-mapped, hex form')
  t.equal(clientKey('2001:db8:1:1::1'), '2001:db8:1:1::/64')
  t.equal(clientKey('2001:DB8:1:1::a'), '2001:db8:1:1::/64', 'case-insensitive')
  t.equal(clientKey('2001:0db8:0001:0001:ffff:ffff:ffff:ffff'), '2001:db8:1:1::/64', 'leading zeros, full form')
  t.equal(clientKey('2001:db8:1:2::1'), '2001:db8:1:2::/64', 'another /64')
  t.equal(clientKey('2001:db8::'), '2001:db8:0:0::/64')
  t.equal(clientKey('::1'), '0:0:0:0::/64')
  t.equal(clientKey('::'), '0:0:0:0::/64')
  t.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64', 'zone dropped')
  t.equal(clientKey('64:ff9b::198.51.100.7'), '64:ff9b:0:0::/64', 'embedded IPv4 that is not mapped')
  t.equal(clientKey('2001:db8:1:1:1:1:1.2.3.4'), '2001:db8:1:1::/64')
  t.equal(clientKey('not an address'), 'not an address', 'anything else unchanged')
  t.equal(clientKey('1.2.3.256'), '1.2.3.256')
  // Linear in its input: a long hostile string is answered at once.
  const start = Date.now()
  t.equal(clientKey(':'.repeat(100_000) + 'x'), ':'.repeat(100_000) + 'x')
  t.ok(Date.now() - start < 200)
})

t.test('the per-IP and account+IP login limits count an IPv6 client by its /64', async t => {
  const app = await buildAuthApp(t)
  const victim = await register(app)
  const codes: number[] = []
  for (let host = 1; host <= 10; host++) {
    for (let i = 0; i < 10; i++) codes.push((await attempt(app, victim.username, `guess ${host}.${i}`, `2001:db8:1:1::${host.toString(16)}`)).statusCode)
  }
  t.same(statuses(codes), { 401: 10, 429: 90 }, 'one /64 gets one budget (RATE_LIMIT_LOGIN_ACCOUNT, 10), not one per address')
  t.equal((await attempt(app, victim.username, victim.password, '2001:db8:1:1:ffff::99')).statusCode, 429, 'anywhere in the /64')
  t.equal((await attempt(app, victim.username, victim.password, '2001:db8:1:2::1')).statusCode, 200, 'the next /64 is another place')
})

t.test('registrations (RATE_LIMIT_REGISTER, 20 an hour) count an IPv6 client by its /64', async t => {
  const app = await buildAuthApp(t)
  const signup = (n: number, remoteAddress: string) => app.inject({
    method: 'POST', url: '/api/auth/register', remoteAddress, payload: { username: `six${n}`, email: `six${n}@example.com`, password: 'correct horse battery' }
  })
  for (let n = 0; n < 20; n++) t.equal((await signup(n, `2001:db8:7:7::${(n + 1).toString(16)}`)).statusCode, 201)
  const limited = await signup(20, '2001:db8:7:7:abcd::1')
  t.equal(limited.statusCode, 429, 'a fresh address in the same /64 is refused')
  t.ok(Number(limited.headers['retry-after']) > 60)
  t.equal((await signup(21, '::ffff:203.0.113.4')).statusCode, 201, 'an IPv4 client is not affected')
})

t.test('an IPv4-mapped address counts as its IPv4 address', async t => {
  const app = await buildAuthApp(t, { RATE_LIMIT_LOGIN: '0', RATE_LIMIT_LOGIN_ACCOUNT: '3' })
  const user = await register(app)
  for (let i = 0; i < 3; i++) t.equal((await attempt(app, user.username, `guess ${i}`, i % 2 === 0 ? '203.0.113.8' : '::ffff:203.0.113.8')).statusCode, 401)
  t.equal((await attempt(app, user.username, user.password, '::ffff:203.0.113.8')).statusCode, 429)
  t.equal((await attempt(app, user.username, user.password, '203.0.113.8')).statusCode, 429)
})

t.test('attackers spending the account\'s all-IPs budget do not lock the owner out of a place they signed in from', async t => {
  const app = await buildAuthApp(t)
  const victim = await register(app)
  t.equal((await attempt(app, victim.username, victim.password, '198.51.100.7')).statusCode, 200, 'the owner signs in from home')

  // Ten /64s, ten guesses each: RATE_LIMIT_LOGIN_ACCOUNT_TOTAL (100) is spent.
  const codes: number[] = []
  for (let net = 1; net <= 10; net++) {
    for (let i = 0; i < 10; i++) codes.push((await attempt(app, victim.username, `guess ${net}.${i}`, `2001:db8:${net.toString(16)}:1::${(i + 1).toString(16)}`)).statusCode)
  }
  t.same(statuses(codes), { 401: 100 })
  const elsewhere = await attempt(app, victim.username, victim.password, '203.0.113.50')
  t.equal(elsewhere.statusCode, 429, 'a new place is still held to the total budget')
  t.equal(elsewhere.json().code, 'RATE_LIMITED')

  const home = await attempt(app, victim.username, victim.password, '198.51.100.7')
  t.equal(home.statusCode, 200, 'the owner, from the place they signed in from before, is not locked out')
  t.equal((await attempt(app, victim.email, victim.password, '::ffff:198.51.100.7')).statusCode, 200, 'the same place over a dual-stack socket')
  t.equal((await attempt(app, victim.username, 'wrong password', '198.51.100.7')).statusCode, 401, 'a wrong password from home is checked, not 429')

  // Known to this account only: another account's success there exempts nothing here.
  const other = await register(app)
  t.equal((await attempt(app, other.username, other.password, '203.0.113.50')).statusCode, 200)
  t.equal((await attempt(app, victim.username, victim.password, '203.0.113.50')).statusCode, 429)
})

t.test('a known place keeps the account+IP limit', async t => {
  const app = await buildAuthApp(t, { RATE_LIMIT_LOGIN: '0', RATE_LIMIT_LOGIN_ACCOUNT: '3', RATE_LIMIT_LOGIN_ACCOUNT_TOTAL: '5' })
  const user = await register(app)
  t.equal((await attempt(app, user.username, user.password, '2001:db8:5:5::1')).statusCode, 200)
  for (let i = 0; i < 3; i++) t.equal((await attempt(app, user.username, `guess ${i}`, `2001:db8:5:5::${i + 2}`)).statusCode, 401)
  t.equal((await attempt(app, user.username, user.password, '2001:db8:5:5::1')).statusCode, 429, 'a guesser at the owner\'s place is still stopped')
})
