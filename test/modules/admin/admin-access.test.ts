/**
 * Every admin route refuses anyone who is not an admin as stored now: no token (401), a user (403 ADMIN_ONLY), an
 * admin demoted since (their sessions are revoked; signed in again they get 403); a user promoted since their token
 * was minted is let in at once.
 */
import t from 'tap'
import { adminWorld } from './admin-kit.js'
import { api } from '../../helpers/rest.js'
import { login } from '../../helpers/users.js'

const ZERO_ID = '0123456789abcdef01234567'
const ROUTES: Array<[method: 'GET' | 'PATCH', url: string, payload?: unknown]> = [
  ['GET', '/api/admin/messages'],
  ['GET', '/api/admin/messages/export'],
  ['GET', '/api/admin/conversations'],
  ['GET', `/api/admin/conversations/${ZERO_ID}`],
  ['GET', '/api/admin/users'],
  ['PATCH', `/api/admin/users/${ZERO_ID}`, { disabled: true }],
  ['GET', '/api/admin/audit'],
  ['GET', '/api/admin/stats']
]

t.test('the route list above is every admin route (read from the OpenAPI document)', async t => {
  const { app } = await adminWorld(t)
  await app.ready()
  const paths = (app.swagger() as { paths: Record<string, Record<string, unknown>> }).paths
  const served = Object.entries(paths)
    .filter(([path]) => path.startsWith('/api/admin'))
    .flatMap(([path, methods]) => Object.keys(methods).map(method => `${method.toUpperCase()} ${path.replace('{id}', ':id')}`))
  t.same(new Set(served), new Set(ROUTES.map(([method, url]) => `${method} ${url.replace(ZERO_ID, ':id')}`)))
  t.equal(served.length, ROUTES.length)
})

t.test('no token: 401; a user: 403 ADMIN_ONLY, on every admin route, and nothing is audited', async t => {
  const { app, alice } = await adminWorld(t)
  for (const [method, url, payload] of ROUTES) {
    const anonymous = await app.inject({ method, url, payload: payload as Record<string, unknown> | undefined })
    t.equal(anonymous.statusCode, 401, `${method} ${url} without a token`)
    const asUser = await api(app, alice)(method, url, payload)
    t.equal(asUser.statusCode, 403, `${method} ${url} as a user`)
    t.equal(asUser.json().code, 'ADMIN_ONLY')
  }
  t.equal(await app.models.AuditEntry.countDocuments(), 0, 'refusals are not admin actions')
  t.equal((await app.models.User.findById(ZERO_ID).lean()), null)
})

t.test('the role is read at each call: a demoted admin is refused at once, a promoted user let in at once', async t => {
  const world = await adminWorld(t)
  const { app, root, alice, get } = world
  t.equal((await get('/stats', {}, alice)).statusCode, 403)
  const promoted = await api(app, root)('PATCH', `/api/admin/users/${alice.id}`, { role: 'admin' })
  t.equal(promoted.statusCode, 200)
  t.match(promoted.json(), { id: alice.id, role: 'admin', disabled: false })
  t.equal((await get('/stats', {}, alice)).statusCode, 200, 'alice\'s token from before the promotion works now')

  const demoted = await api(app, alice)('PATCH', `/api/admin/users/${root.id}`, { role: 'user' })
  t.equal(demoted.statusCode, 200, 'the new admin demotes the old one')
  t.equal((await get('/stats', {}, root)).statusCode, 401, 'a demotion revokes the old admin\'s sessions: their token is dead')
  const again = await login(app, 'root', 'root password')
  const refused = await get('/stats', {}, again)
  t.equal(refused.statusCode, 403, 'signed in again, they are a user')
  t.equal(refused.json().code, 'ADMIN_ONLY')
  // Message deletes and file reads trust the token's role: a demoted admin's old token must not keep those powers.
  const message = await api(app, alice)('POST', `/api/conversations/${world.directId}/messages`, { body: 'mine' })
  t.equal((await api(app, root)('DELETE', `/api/messages/${message.json().id}`)).statusCode, 401, 'the old token deletes nothing')
})
