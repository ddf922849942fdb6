/**
 * The password-check limits on Redis (cluster/rate-limiters.ts): parallel guesses spread over the instances of a
 * cluster are verified at most the budget, because each is counted atomically in Redis before it is verified.
 */
import t from 'tap'
import { startCluster } from '../../helpers/cluster.js'
import { register } from '../../helpers/users.js'

t.test('parallel wrong logins over two instances: exactly the shared budget is verified', async t => {
  const cluster = await startCluster(t, { instances: 2, env: { RATE_LIMIT_LOGIN: '0', RATE_LIMIT_LOGIN_ACCOUNT: '8', RATE_LIMIT_LOGIN_ACCOUNT_TOTAL: '12' } })
  const [A, B] = cluster.instances
  const user = await register(A.app)
  const login = async (i: number, ip: string) => (await (i % 2 === 0 ? A : B).app.inject({
    method: 'POST', url: '/api/auth/login', remoteAddress: ip, payload: { login: user.username, password: `guess ${i}` }
  })).statusCode
  const fromOne = await Promise.all(Array.from({ length: 30 }, async (_, i) => await login(i, '203.0.113.1')))
  t.equal(fromOne.filter(code => code === 401).length, 8, 'one IP: the account+IP budget, across both instances')
  const fromMany = await Promise.all(Array.from({ length: 30 }, async (_, i) => await login(i, `198.51.100.${i}`)))
  t.equal(fromMany.filter(code => code === 401).length, 4, 'many IPs: what is left of the account\'s total budget')
  t.equal(fromMany.filter(code => code === 429).length, 26)
})

t.test('a place the owner signed in from is known to every instance: spent total budget does not lock them out', async t => {
  const cluster = await startCluster(t, { instances: 2, env: { RATE_LIMIT_LOGIN: '0', RATE_LIMIT_LOGIN_ACCOUNT: '3', RATE_LIMIT_LOGIN_ACCOUNT_TOTAL: '6' } })
  const [A, B] = cluster.instances
  const user = await register(A.app)
  const login = async (app: typeof A.app, password: string, ip: string) => (await app.inject({
    method: 'POST', url: '/api/auth/login', remoteAddress: ip, payload: { login: user.username, password }
  })).statusCode
  t.equal(await login(A.app, user.password, '2001:db8:aa:1::1'), 200, 'the owner signs in on A')
  const guesses = await Promise.all(Array.from({ length: 12 }, async (_, i) => await login(i % 2 === 0 ? A.app : B.app, `guess ${i}`, `203.0.113.${i}`)))
  t.equal(guesses.filter(code => code === 401).length, 6, 'the total budget is spent')
  t.equal(await login(B.app, user.password, '198.51.100.1'), 429, 'a new place is held to it')
  t.equal(await login(B.app, user.password, '2001:db8:aa:1:ffff::2'), 200, 'the owner\'s /64, on the other instance, is known')
})
