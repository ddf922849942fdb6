import t from 'tap'
import { buildAuthApp } from '../../helpers/build-app.js'
import { bearer } from '../../helpers/rest.js'
import { login, register, signUp } from '../../helpers/users.js'

type App = Awaited<ReturnType<typeof buildAuthApp>>
const me = (app: App, token: string) => app.inject({ method: 'GET', url: '/api/users/me', headers: bearer(token) })
const patch = (app: App, token: string, payload: unknown) =>
  app.inject({ method: 'PATCH', url: '/api/users/me', headers: { ...bearer(token), 'content-type': 'application/json' }, payload: JSON.stringify(payload) })
const tryLogin = (app: App, loginName: string, password: string) =>
  app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: loginName, password } })

t.test('PATCH /me changes profile fields; the new username and email work for login', async t => {
  const app = await buildAuthApp(t)
  const user = await signUp(app)
  let res = await patch(app, user.accessToken, { firstName: ' Eve ', lastName: 'Moneypenny' })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { id: user.id, firstName: 'Eve', lastName: 'Moneypenny', email: user.email })

  res = await patch(app, user.accessToken, { username: 'Eve.M', email: 'Eve@Example.org' })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { username: 'Eve.M', email: 'Eve@Example.org' })
  t.equal((await tryLogin(app, 'eve.m', user.password)).statusCode, 200)
  t.equal((await tryLogin(app, 'eve@example.org', user.password)).statusCode, 200)
  t.equal((await tryLogin(app, user.username, user.password)).statusCode, 401, 'the old username is gone')

  res = await patch(app, user.accessToken, { username: 'EVE.M' })
  t.equal(res.statusCode, 200, 'changing only the case of one\'s own name is fine')
  t.equal(res.json().username, 'EVE.M')
  t.equal((await me(app, user.accessToken)).json().username, 'EVE.M')
})

t.test('PATCH /me: 409 for a username or email someone else has, any case; nothing changes', async t => {
  const app = await buildAuthApp(t)
  const taken = await register(app, { username: 'Taken', email: 'taken@example.com' })
  const user = await signUp(app)
  for (const [payload, code] of [
    [{ username: 'taken' }, 'USERNAME_TAKEN'],
    [{ username: 'TAKEN' }, 'USERNAME_TAKEN'],
    [{ email: 'Taken@Example.com' }, 'EMAIL_TAKEN'],
    [{ firstName: 'Changed', email: 'TAKEN@example.com' }, 'EMAIL_TAKEN']
  ] as const) {
    const res = await patch(app, user.accessToken, payload)
    t.equal(res.statusCode, 409, JSON.stringify(payload))
    t.equal(res.json().code, code)
  }
  const unchanged = (await me(app, user.accessToken)).json()
  t.match(unchanged, { username: user.username, email: user.email, firstName: '' })
  t.equal((await tryLogin(app, taken.username, taken.password)).statusCode, 200, 'the owner keeps their name')
})

t.test('PATCH /me: bad input is a 400', async t => {
  const app = await buildAuthApp(t)
  const user = await signUp(app)
  for (const payload of [{}, { role: 'admin' }, { username: 'a b' }, { username: 'ünïcode' }, { username: 'trailing ' }, { email: 'nope' },
    { username: { $ne: null } }, { firstName: 42 }, { firstName: 'x'.repeat(65) }, { disabled: false }, null, [1]]) {
    const res = await patch(app, user.accessToken, payload)
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    t.equal(res.json().code, 'VALIDATION_ERROR', JSON.stringify(payload))
  }
  t.match((await me(app, user.accessToken)).json(), { username: user.username, role: 'user' })
})

t.test('PUT /me/password: current password required; every other session is revoked', async t => {
  const app = await buildAuthApp(t, { RATE_LIMIT_LOGIN_ACCOUNT: '3' })
  const user = await signUp(app)
  const other = await login(app, user.username, user.password)
  const put = (payload: unknown) => app.inject({ method: 'PUT', url: '/api/users/me/password', headers: bearer(user.accessToken), payload: payload as Record<string, unknown> })

  let res = await put({ currentPassword: 'wrong password', newPassword: 'new password 1' })
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'WRONG_PASSWORD')
  t.equal((await me(app, other.accessToken)).statusCode, 200, 'a failed change revokes nothing')
  for (const payload of [{ currentPassword: user.password }, { currentPassword: user.password, newPassword: 'short' }, { currentPassword: { $ne: null }, newPassword: 'long enough' }, { currentPassword: user.password, newPassword: 12345678 }]) {
    t.equal((await put(payload)).statusCode, 400, JSON.stringify(payload))
  }

  res = await put({ currentPassword: user.password, newPassword: 'new password 1' })
  t.equal(res.statusCode, 204)
  t.equal((await me(app, user.accessToken)).statusCode, 200, 'the caller stays signed in')
  t.equal((await me(app, other.accessToken)).json().code, 'TOKEN_REVOKED', 'the other session is refused at once')
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: other.refreshToken } })).statusCode, 401)
  t.equal((await tryLogin(app, user.username, user.password)).statusCode, 401, 'the old password is dead')
  t.equal((await tryLogin(app, user.username, 'new password 1')).statusCode, 200)

  // Password guesses with a stolen access token count against the account's limit.
  for (let i = 0; i < 3; i++) t.equal((await put({ currentPassword: `guess ${i}`, newPassword: 'new password 2' })).statusCode, 403)
  res = await put({ currentPassword: 'new password 1', newPassword: 'new password 2' })
  t.equal(res.statusCode, 429)
  t.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After set')
})

t.test('DELETE /me: deactivates, signs out everywhere, frees the name, shows the user as deleted', async t => {
  const app = await buildAuthApp(t)
  const user = await signUp(app, { username: 'Leaving', email: 'leaving@example.com', firstName: 'Lee', lastName: 'Ving' })
  const other = await login(app, 'leaving', user.password)
  const watcher = await signUp(app)
  const del = (token: string, payload: unknown) => app.inject({ method: 'DELETE', url: '/api/users/me', headers: bearer(token), payload: payload as Record<string, unknown> })

  t.equal((await del(user.accessToken, { password: 'wrong password' })).json().code, 'WRONG_PASSWORD')
  t.equal((await del(user.accessToken, {})).statusCode, 400)
  t.equal((await del(user.accessToken, { password: { $ne: null } })).statusCode, 400)
  t.equal((await me(app, user.accessToken)).statusCode, 200, 'still there after failed attempts')

  t.equal((await del(user.accessToken, { password: user.password })).statusCode, 204)
  for (const token of [user.accessToken, other.accessToken]) t.equal((await me(app, token)).json().code, 'TOKEN_REVOKED')
  t.equal((await tryLogin(app, 'leaving', user.password)).statusCode, 401)

  const publicView = await app.inject({ method: 'GET', url: `/api/users/${user.id}`, headers: bearer(watcher.accessToken) })
  t.equal(publicView.statusCode, 200, 'the account still resolves, for message attribution')
  t.same(publicView.json(), { id: user.id, username: 'deleted-user', firstName: '', lastName: '', online: false, lastSeenAt: null, deleted: true })
  const stored = await app.models.User.findById(user.id).lean()
  t.ok(stored?.deletedAt instanceof Date)
  t.equal(stored?.email, undefined, 'email erased')
  t.equal(stored?.passwordHash, undefined, 'password hash erased')

  const again = await register(app, { username: 'leaving', email: 'LEAVING@example.com' })
  t.not(again.id, user.id, 'the username and email can be registered again, by a new account')
})

t.test('PATCH /me: a reserved username is a 409 USERNAME_RESERVED; an admin may take a staff name', async t => {
  const app = await buildAuthApp(t, { ADMIN_USERNAME: 'chief', ADMIN_EMAIL: 'chief@example.com', ADMIN_PASSWORD: 'chief password' })
  const user = await signUp(app)
  for (const username of ['deleted-user', 'DELETED-USER', 'Admin', 'system', 'root']) {
    const res = await patch(app, user.accessToken, { username })
    t.equal(res.statusCode, 409, username)
    t.equal(res.json().code, 'USERNAME_RESERVED', username)
  }
  t.equal((await me(app, user.accessToken)).json().username, user.username, 'unchanged')
  const admin = await login(app, 'chief', 'chief password')
  t.equal((await patch(app, admin.accessToken, { username: 'Admin' })).statusCode, 200)
  t.equal((await patch(app, admin.accessToken, { username: 'deleted-user' })).json().code, 'USERNAME_RESERVED', 'nobody takes the placeholder')
})
