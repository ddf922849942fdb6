import t from 'tap'
import { buildAuthApp } from '../../helpers/build-app.js'
import { bearer } from '../../helpers/rest.js'
import { register } from '../../helpers/users.js'

const post = (app: Awaited<ReturnType<typeof buildAuthApp>>, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/api/auth/login', payload: payload as Record<string, unknown>, headers })

t.test('login by username or email, any case, through login, username or email fields', async t => {
  const app = await buildAuthApp(t)
  const user = await register(app, { username: 'Carol.B', email: 'Carol@Example.com' })
  const variants = [
    { login: 'Carol.B' }, { login: 'carol.b' }, { login: 'CAROL.B' }, { login: 'carol@example.com' },
    { login: 'CAROL@EXAMPLE.COM' }, { username: 'carol.b' }, { email: 'Carol@Example.com' }, { login: '  carol.b ' }
  ]
  for (const variant of variants) {
    const res = await post(app, { ...variant, password: user.password })
    t.equal(res.statusCode, 200, JSON.stringify(variant))
    const body = res.json()
    t.match(body, { accessToken: String, refreshToken: String, tokenType: 'Bearer', expiresIn: 900 })
    t.match(body.user, { id: user.id, username: 'Carol.B', email: 'Carol@Example.com', role: 'user' })
    const me = await app.inject({ method: 'GET', url: '/api/users/me', headers: bearer(body.accessToken) })
    t.equal(me.json().id, user.id, 'the access token works')
  }
  t.equal(await app.models.Session.countDocuments({ userId: user.id }), variants.length, 'one session per login')
})

t.test('wrong password and unknown user get the same 401', async t => {
  const app = await buildAuthApp(t)
  const user = await register(app)
  const wrong = await post(app, { login: user.username, password: 'not the password' })
  const unknown = await post(app, { login: 'nobody-here', password: 'not the password' })
  const unknownEmail = await post(app, { login: 'nobody@example.com', password: user.password })
  for (const res of [wrong, unknown, unknownEmail]) {
    t.equal(res.statusCode, 401)
    t.same(res.json(), { statusCode: 401, error: 'Unauthorized', code: 'INVALID_CREDENTIALS', message: 'Wrong username/email or password' })
  }
  t.equal(await app.models.Session.countDocuments(), 0, 'no session opened')
})

t.test('bad login input is a 400 and never a database query with operators', async t => {
  const app = await buildAuthApp(t)
  const user = await register(app)
  const cases: Array<[string, unknown]> = [
    ['no login field', { password: user.password }],
    ['no password', { login: user.username }],
    ['operator in login', { login: { $ne: null }, password: user.password }],
    ['operator in password', { login: user.username, password: { $ne: null } }],
    ['operator in username', { username: { $gt: '' }, password: user.password }],
    ['number login', { login: 42, password: user.password }],
    ['empty login', { login: '', password: user.password }],
    ['unknown field', { login: user.username, password: user.password, remember: true }]
  ]
  for (const [name, payload] of cases) {
    const res = await post(app, payload)
    t.equal(res.statusCode, 400, name)
    t.equal(res.json().code, 'VALIDATION_ERROR', name)
    t.ok(Array.isArray(res.json().details), `${name}: details`)
  }
  t.equal(await app.models.Session.countDocuments(), 0)
})

t.test('a disabled account cannot sign in (403 only once the password is right)', async t => {
  const app = await buildAuthApp(t)
  const user = await register(app)
  await app.models.User.updateOne({ _id: user.id }, { $set: { disabled: true } })
  t.equal((await post(app, { login: user.username, password: 'wrong password' })).statusCode, 401)
  const res = await post(app, { login: user.username, password: user.password })
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'ACCOUNT_DISABLED')
})

t.test('attempts per IP are limited: 429 with Retry-After', async t => {
  const app = await buildAuthApp(t, { RATE_LIMIT_LOGIN: '3', RATE_LIMIT_LOGIN_ACCOUNT: '0' })
  const user = await register(app)
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: user.username, password: 'wrong password' }, remoteAddress: '10.0.0.1' })
    t.equal(res.statusCode, 401, `attempt ${i + 1}`)
  }
  const limited = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: user.username, password: user.password }, remoteAddress: '10.0.0.1' })
  t.equal(limited.statusCode, 429, 'even the right password waits')
  t.equal(limited.json().code, 'RATE_LIMITED')
  t.equal(limited.json().error, 'Too Many Requests')
  const retryAfter = Number(limited.headers['retry-after'])
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After is whole seconds within the window (${retryAfter})`)
  t.equal(limited.json().details.retryAfterSeconds, retryAfter)
  const other = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: user.username, password: user.password }, remoteAddress: '10.0.0.2' })
  t.equal(other.statusCode, 200, 'another IP is not affected')
})

t.test('a hash made with weaker parameters is upgraded at the next login', async t => {
  const app = await buildAuthApp(t)
  const user = await register(app)
  const { PasswordService } = await import('../../../src/modules/auth/password.service.js')
  const weak = await new PasswordService({ memoryKib: 32, timeCost: 1, parallelism: 1 }).hash(user.password)
  await app.models.User.updateOne({ _id: user.id }, { $set: { passwordHash: weak } })
  t.equal((await post(app, { login: user.username, password: user.password })).statusCode, 200, 'the old hash still verifies')
  const stored = await app.models.User.findById(user.id).lean()
  t.match(stored?.passwordHash, /\$m=64,p=1,t=1\$/, 'rehashed with the configured parameters')
  t.equal((await post(app, { login: user.username, password: user.password })).statusCode, 200)
})
