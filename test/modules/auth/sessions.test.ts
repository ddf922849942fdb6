/**
 * What keeps a session from outliving what it stands for: the account (the guard reads it on every request), a
 * password change or deletion racing the login, and an absolute lifetime (SESSION_MAX_AGE).
 */
import t from 'tap'
import { PasswordService } from '../../../src/modules/auth/password.service.js'
import { buildAuthApp } from '../../helpers/build-app.js'
import { api, bearer } from '../../helpers/rest.js'
import { newSession, signUp } from '../../helpers/users.js'
import { waitFor } from '../../helpers/wait.js'

type App = Awaited<ReturnType<typeof buildAuthApp>>
const refresh = (app: App, refreshToken: string) => app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken } })

t.test('an access token of an account disabled or removed without a revocation is refused', async t => {
  const app = await buildAuthApp(t)
  const disabled = await signUp(app)
  const removed = await signUp(app)
  const watcher = await signUp(app)
  // Straight in the database: no session revoked, as an operator's script might do it.
  await app.models.User.updateOne({ _id: disabled.id }, { $set: { disabled: true } })
  await app.models.User.deleteOne({ _id: removed.id })
  for (const user of [disabled, removed]) {
    for (const url of ['/api/users?search=a', '/api/users/me', `/api/users/${watcher.id}`]) {
      const res = await api(app, user)('GET', url)
      t.equal(res.statusCode, 401, url)
      t.equal(res.json().code, 'ACCOUNT_UNAVAILABLE', url)
    }
  }
  t.equal((await api(app, watcher)('GET', '/api/users?search=a')).statusCode, 200, 'others are unaffected')
})

t.test('the guard reuses an account\'s state at most 2 s; a revocation of the user drops it at once', async t => {
  const app = await buildAuthApp(t)
  const user = await signUp(app)
  const other = await newSession(app, user)
  const status = async (tokens: { accessToken: string }) => (await api(app, tokens)('GET', '/api/users?search=a')).statusCode
  t.equal(await status(user), 200)
  await app.models.User.updateOne({ _id: user.id }, { $set: { disabled: true } })
  // Within the 2 s the cached answer lives (the timeout leaves room for a loaded machine).
  await waitFor(async () => await status(user) === 401, 5000, 'the disabled account refused')
  await app.models.User.updateOne({ _id: user.id }, { $set: { disabled: false } })
  await waitFor(async () => await status(user) === 200, 5000, 'the re-enabled account served')

  // Through Parley, a change that matters revokes sessions, and that drops the cached state at once.
  t.equal(await status(other), 200, 'cached as usable')
  await app.models.User.updateOne({ _id: user.id }, { $set: { disabled: true } })
  await app.revocation.revoke(other.refreshToken.split('.')[0], 'disabled')
  t.equal(await status(user), 401, 'the user\'s other session, not revoked itself, is refused at once')
})

t.test('a login racing a password change leaves no session that survives the change', async t => {
  const app = await buildAuthApp(t, { RATE_LIMIT_LOGIN: '0', RATE_LIMIT_LOGIN_ACCOUNT: '0' })
  const user = await signUp(app)
  // A costly stored hash (as before an operator lowered the cost) with cheap new ones: the change verifies it,
  // hashes the new password and revokes the other sessions in a moment, while a login that read the old hash a
  // little later is still verifying it. Its session is opened after the change has revoked everything.
  const costly = new PasswordService({ memoryKib: 19456, timeCost: 4 })
  let password = user.password
  for (let round = 0; round < 3; round++) {
    await app.models.User.updateOne({ _id: user.id }, { $set: { passwordHash: await costly.hash(password) } })
    const started = performance.now()
    await costly.verify((await app.models.User.findById(user.id).lean())?.passwordHash as string, password)
    const verifyMs = performance.now() - started
    const next = `new password ${round}`
    const change = app.inject({ method: 'PUT', url: '/api/users/me/password', headers: bearer(user.accessToken), payload: { currentPassword: password, newPassword: next } })
    await new Promise(resolve => setTimeout(resolve, verifyMs / 2))
    const raced = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: user.username, password } })
    t.equal((await change).statusCode, 204, `round ${round}: changed`)
    if (raced.statusCode === 200) {
      const { accessToken, refreshToken } = raced.json()
      t.equal((await app.inject({ method: 'GET', url: '/api/users/me', headers: bearer(accessToken) })).statusCode, 401, `round ${round}: the raced access token is dead`)
      t.equal((await refresh(app, refreshToken)).statusCode, 401, `round ${round}: the raced refresh token is dead`)
    } else {
      t.equal(raced.json().code, 'INVALID_CREDENTIALS', `round ${round}: refused`)
    }
    const login = async (p: string) => (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: user.username, password: p } })).statusCode
    t.equal(await login(password), 401, `round ${round}: the old password is dead (the login's rehash did not bring it back)`)
    t.equal(await login(next), 200, `round ${round}: the new one works`)
    password = next
  }
  await app.inject({ method: 'PUT', url: '/api/users/me/password', headers: bearer(user.accessToken), payload: { currentPassword: password, newPassword: 'final password' } })
  const live = await app.models.Session.countDocuments({ userId: user.id, revokedAt: { $exists: false } })
  t.equal(live, 1, 'only the changer\'s own session is left')
})

t.test('refresh beyond SESSION_MAX_AGE (from the login) answers 401 SESSION_ENDED', async t => {
  const app = await buildAuthApp(t, { SESSION_MAX_AGE: '1h' })
  const user = await signUp(app)
  let res = await refresh(app, user.refreshToken)
  t.equal(res.statusCode, 200, 'young enough')
  const { refreshToken } = res.json()
  const session = await app.models.Session.findOne({ userId: user.id }).lean()
  t.ok(session !== null && session.expiresAt.getTime() <= Date.now() + 3600_000 + 1000, 'the refresh token expires no later than the maximum age')
  // The login was an hour and a minute ago (straight in the collection: createdAt is immutable through mongoose).
  await app.models.Session.collection.updateOne({ userId: session?.userId }, { $set: { createdAt: new Date(Date.now() - 3660_000) } })
  res = await refresh(app, refreshToken)
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'SESSION_ENDED')
  t.match(res.json().message, /maximum age/)
  t.equal((await refresh(app, refreshToken)).json().code, 'SESSION_ENDED', 'still ended, not taken for reuse')
})

t.test('SESSION_MAX_AGE defaults to 90 days: a session logged in 91 days ago cannot refresh', async t => {
  const app = await buildAuthApp(t)
  const user = await signUp(app)
  await app.models.Session.collection.updateOne({}, { $set: { createdAt: new Date(Date.now() - 91 * 86400_000) } })
  t.equal((await refresh(app, user.refreshToken)).json().code, 'SESSION_ENDED')
})
