/**
 * Users and control: the admin user list and its filters, promote/demote, disable/enable (login refused with 403
 * ACCOUNT_DISABLED, tokens and sockets cut), the last admin, and disabling across two instances within a second.
 */
import t from 'tap'
import { adminWorld, allPages } from './admin-kit.js'
import { api } from '../../helpers/rest.js'
import { login, newSession, PASSWORD, signUp } from '../../helpers/users.js'
import { startCluster } from '../../helpers/cluster.js'
import { ADMIN_ENV } from './admin-kit.js'

interface User { id: string, username: string, email: string, role: string, disabled: boolean, deleted: boolean }

t.test('the list: every account with email, role and disabled; search, role and disabled filters; pages', async t => {
  const { app, root, alice, bob, carol, get } = await adminWorld(t)
  await api(app, root)('PATCH', `/api/admin/users/${bob.id}`, { disabled: true })
  t.equal((await api(app, carol)('DELETE', '/api/users/me', { password: PASSWORD })).statusCode, 204)
  const all = (await get('/users', {})).json().items as User[]
  t.same(all.map(user => user.id), [root.id, alice.id, bob.id, carol.id], 'by creation, deleted accounts included')
  t.match(all[1], { username: alice.username, email: alice.email, role: 'user', disabled: false, deleted: false })
  t.match(all[3], { deleted: true })
  t.same((await get('/users', { role: 'admin' })).json().items.map((user: User) => user.id), [root.id], 'role')
  t.same((await get('/users', { disabled: true })).json().items.map((user: User) => user.id), [bob.id], 'disabled')
  t.same((await get('/users', { search: alice.username.slice(0, 6).toUpperCase() })).json().items.map((user: User) => user.id), [alice.id], 'search, any case')
  t.same((await get('/users', { search: 'root@ex' })).json().items.map((user: User) => user.id), [root.id], 'search by email')
  t.same((await get('/users', { search: '.*' })).json().items, [], 'search is literal')
  const paged = await allPages<User>(async cursor => (await get('/users', { limit: 1, ...cursor !== undefined ? { cursor } : {} })).json())
  t.same(paged.map(user => user.id), all.map(user => user.id), 'one a page, each once')
})

t.test('disable: sessions revoked, sockets closed, login 403 ACCOUNT_DISABLED, shown as disabled; enable undoes it', async t => {
  const { app, root, alice } = await adminWorld(t)
  const refused = await api(app, root)('PATCH', `/api/admin/users/${alice.id}`, { disabled: true })
  t.equal(refused.statusCode, 200)
  t.match(refused.json(), { id: alice.id, disabled: true })
  t.equal((await api(app, alice)('GET', '/api/users/me')).statusCode, 401, 'her access token stops at once')
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: alice.refreshToken } })).statusCode, 401, 'and her refresh token')
  const loginRes = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: alice.username, password: PASSWORD } })
  t.equal(loginRes.statusCode, 403)
  t.equal(loginRes.json().code, 'ACCOUNT_DISABLED')
  t.equal((await api(app, root)('PATCH', `/api/admin/users/${alice.id}`, { disabled: false })).statusCode, 200, 'enabled again')
  const back = await login(app, alice.username, PASSWORD)
  t.equal((await api(app, back)('GET', '/api/users/me')).statusCode, 200, 'she logs in again')
})

t.test('bad patches: 400 for empty or unknown fields, 404 for unknown or deleted users, 409 LAST_ADMIN', async t => {
  const { app, root, alice, carol } = await adminWorld(t)
  for (const body of [{}, { role: 'owner' }, { disabled: 'yes' }, { role: { $ne: 'user' } }, { email: 'x@y.z' }]) {
    t.equal((await api(app, root)('PATCH', `/api/admin/users/${alice.id}`, body)).statusCode, 400, JSON.stringify(body))
  }
  t.equal((await api(app, root)('PATCH', '/api/admin/users/0123456789abcdef01234567', { disabled: true })).statusCode, 404)
  t.equal((await api(app, root)('PATCH', '/api/admin/users/nope', { disabled: true })).statusCode, 400)
  await api(app, carol)('DELETE', '/api/users/me', { password: PASSWORD })
  t.equal((await api(app, root)('PATCH', `/api/admin/users/${carol.id}`, { role: 'admin' })).statusCode, 404, 'a deleted account is not changed')

  for (const body of [{ role: 'user' }, { disabled: true }]) {
    const last = await api(app, root)('PATCH', `/api/admin/users/${root.id}`, body)
    t.equal(last.statusCode, 409, `the last admin: ${JSON.stringify(body)}`)
    t.equal(last.json().code, 'LAST_ADMIN')
  }
  t.equal((await api(app, root)('PATCH', `/api/admin/users/${alice.id}`, { role: 'admin' })).statusCode, 200)
  t.equal((await api(app, root)('PATCH', `/api/admin/users/${root.id}`, { role: 'user' })).statusCode, 200, 'with another admin, root may step down')
  t.equal((await app.models.User.findById(root.id).lean())?.role, 'user')
})

t.test('disabling on A closes the user\'s sockets on B within a second and refuses them on both', async t => {
  const cluster = await startCluster(t, { instances: 2, env: { ...ADMIN_ENV, RATE_LIMIT_REGISTER: '0' } })
  const [A, B] = cluster.instances
  const alice = await signUp(A.app, 'alice')
  const root = await login(A.app, 'root', 'root password')
  const onB = await cluster.connect(B, (await newSession(B.app, alice)).accessToken)
  // Stats on A count the sockets of both instances (each asked through the adapter).
  const stats = await api(A.app, root)('GET', '/api/admin/stats')
  t.equal(stats.statusCode, 200)
  t.same(stats.json().instances.map((i: { sockets: number }) => i.sockets).sort(), [0, 1], 'two instances, alice\'s socket on one')
  t.same(new Set(stats.json().instances.map((i: { instanceId: string }) => i.instanceId)), new Set([A.app.cluster?.instanceId, B.app.cluster?.instanceId]))
  t.equal(stats.json().onlineUsers, 1, 'online across the cluster')
  const closed = new Promise<number>(resolve => { onB.on('disconnect', () => { resolve(Date.now()) }) })
  const started = Date.now()
  t.equal((await api(A.app, root)('PATCH', `/api/admin/users/${alice.id}`, { disabled: true })).statusCode, 200)
  const at = await Promise.race([closed, new Promise<number>(resolve => setTimeout(() => { resolve(-1) }, 3000))])
  t.ok(at > 0 && at - started < 1000, `the socket on B closed within a second (${at - started} ms)`)
  t.equal((await api(B.app, alice)('GET', '/api/users/me')).statusCode, 401, 'her token is dead on B')
  await t.rejects(cluster.connect(B, alice.accessToken), 'a new socket is refused')
})
