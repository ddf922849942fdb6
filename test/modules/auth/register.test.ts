import t from 'tap'
import { buildAuthApp } from '../../helpers/build-app.js'

const valid = { username: 'Alice_1', email: 'Alice@Example.com', password: 'correct horse battery' }

t.test('register creates an account and answers the own-user shape', async t => {
  const app = await buildAuthApp(t)
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { ...valid, firstName: 'Alice', lastName: 'Liddell' } })
  t.equal(res.statusCode, 201)
  const { user } = res.json()
  t.match(user, {
    id: /^[0-9a-f]{24}$/,
    username: 'Alice_1',
    email: 'Alice@Example.com',
    firstName: 'Alice',
    lastName: 'Liddell',
    role: 'user',
    online: false,
    lastSeenAt: null,
    deleted: false,
    createdAt: String
  })
  t.notOk('passwordHash' in user, 'no hash in the answer')
  t.notMatch(res.body, /argon2/, 'nothing of the hash leaks')
  const stored = await app.models.User.findById(user.id).lean()
  t.match(stored?.passwordHash, /^\$argon2id\$v=19\$m=64,p=1,t=1\$/, 'argon2id with the configured parameters')
  t.equal(stored?.usernameKey, 'alice_1')
  t.equal(stored?.emailKey, 'alice@example.com')
})

t.test('usernames and emails are unique regardless of case', async t => {
  const app = await buildAuthApp(t)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/register', payload: valid })).statusCode, 201)
  const cases: Array<[Record<string, string>, string]> = [
    [{ username: 'Alice_1', email: 'other1@example.com' }, 'USERNAME_TAKEN'],
    [{ username: 'ALICE_1', email: 'other2@example.com' }, 'USERNAME_TAKEN'],
    [{ username: 'alice_1', email: 'other3@example.com' }, 'USERNAME_TAKEN'],
    [{ username: 'bob', email: 'alice@example.com' }, 'EMAIL_TAKEN'],
    [{ username: 'bob', email: 'ALICE@EXAMPLE.COM' }, 'EMAIL_TAKEN']
  ]
  for (const [fields, code] of cases) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { ...valid, ...fields } })
    t.equal(res.statusCode, 409, JSON.stringify(fields))
    t.same(res.json(), { statusCode: 409, error: 'Conflict', code, message: res.json().message })
  }
  t.equal(await app.models.User.countDocuments(), 1, 'nothing else stored')
})

t.test('concurrent registrations of one name: the unique index lets exactly one through', async t => {
  const app = await buildAuthApp(t)
  const attempts = await Promise.all(Array.from({ length: 8 }, (_, i) => app.inject({
    method: 'POST',
    url: '/api/auth/register',
    payload: { ...valid, username: i % 2 === 0 ? 'racer' : 'RACER', email: `racer${i}@example.com` }
  })))
  const codes = attempts.map(r => r.statusCode).sort()
  t.same(codes, [201, 409, 409, 409, 409, 409, 409, 409])
  t.ok(attempts.filter(r => r.statusCode === 409).every(r => r.json().code === 'USERNAME_TAKEN'))
  t.equal(await app.models.User.countDocuments({ usernameKey: 'racer' }), 1)
})

t.test('bad input is a clear 400 in the contract shape and stores nothing', async t => {
  const app = await buildAuthApp(t)
  const cases: Array<[string, unknown, string]> = [
    ['missing username', { email: valid.email, password: valid.password }, 'body'],
    ['missing email', { username: 'bob', password: valid.password }, 'body'],
    ['missing password', { username: 'bob', email: valid.email }, 'body'],
    ['empty object', {}, 'body'],
    ['username as number', { ...valid, username: 12345 }, 'body.username'],
    ['password as number', { ...valid, password: 123456789 }, 'body.password'],
    ['username as boolean', { ...valid, username: true }, 'body.username'],
    ['username operator object', { ...valid, username: { $ne: null } }, 'body.username'],
    ['email operator object', { ...valid, email: { $gt: '' } }, 'body.email'],
    ['password operator object', { ...valid, password: { $exists: true } }, 'body.password'],
    ['username array', { ...valid, username: ['alice'] }, 'body.username'],
    ['null username', { ...valid, username: null }, 'body.username'],
    ['unicode username', { ...valid, username: 'Zoë' }, 'body.username'],
    ['cyrillic lookalike', { ...valid, username: 'аlice' }, 'body.username'],
    ['trailing space', { ...valid, username: 'alice ' }, 'body.username'],
    ['leading space', { ...valid, username: ' alice' }, 'body.username'],
    ['too short username', { ...valid, username: 'ab' }, 'body.username'],
    ['too long username', { ...valid, username: 'a'.repeat(33) }, 'body.username'],
    ['username with @', { ...valid, username: 'al@ce' }, 'body.username'],
    ['invalid email', { ...valid, email: 'not-an-email' }, 'body.email'],
    ['email with trailing space', { ...valid, email: 'alice@example.com ' }, 'body.email'],
    ['short password', { ...valid, password: 'short' }, 'body.password'],
    ['too long first name', { ...valid, firstName: 'x'.repeat(65) }, 'body.firstName'],
    ['self-assigned role', { ...valid, role: 'admin' }, 'body'],
    ['a JSON array body', [valid], 'body'],
    ['a JSON string body', 'alice', 'body']
  ]
  for (const [name, payload, field] of cases) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) })
    t.equal(res.statusCode, 400, name)
    const body = res.json()
    t.equal(body.code, 'VALIDATION_ERROR', name)
    t.equal(body.error, 'Bad Request', name)
    t.ok(Array.isArray(body.details) && body.details.some((d: { field: string }) => d.field.startsWith(field)), `${name}: details name ${field}`)
  }
  t.equal(await app.models.User.countDocuments(), 0, 'nothing stored')
})

t.test('transport-level bad input: huge body, bad JSON, wrong media type, no body', async t => {
  const app = await buildAuthApp(t)
  const huge = JSON.stringify({ ...valid, firstName: 'x'.repeat(10 * 1024 * 1024) })
  let res = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { 'content-type': 'application/json' }, payload: huge })
  t.equal(res.statusCode, 413)
  t.equal(res.json().code, 'PAYLOAD_TOO_LARGE')

  res = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { 'content-type': 'application/json' }, payload: '{"username": "alice",' })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'INVALID_BODY')

  res = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { 'content-type': 'application/xml' }, payload: '<user/>' })
  t.equal(res.statusCode, 415)
  t.equal(res.json().code, 'UNSUPPORTED_MEDIA_TYPE')

  res = await app.inject({ method: 'POST', url: '/api/auth/register' })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'VALIDATION_ERROR')
  t.equal(await app.models.User.countDocuments(), 0, 'nothing stored')
})

t.test('registrations per IP are limited (RATE_LIMIT_REGISTER an hour): 429 with Retry-After', async t => {
  const app = await buildAuthApp(t, { RATE_LIMIT_REGISTER: '3' })
  const signup = (n: number, remoteAddress: string) => app.inject({
    method: 'POST', url: '/api/auth/register', remoteAddress, payload: { username: `flood${n}`, email: `flood${n}@example.com`, password: valid.password }
  })
  for (let i = 0; i < 3; i++) t.equal((await signup(i, '203.0.113.1')).statusCode, 201)
  const limited = await signup(3, '203.0.113.1')
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'RATE_LIMITED')
  const retryAfter = Number(limited.headers['retry-after'])
  t.ok(retryAfter > 60 && retryAfter <= 3600, `Retry-After within the hour (${retryAfter})`)
  t.equal(limited.json().details.retryAfterSeconds, retryAfter)
  t.equal(await app.models.User.countDocuments(), 3, 'nothing hashed or stored over the limit')
  t.equal((await signup(4, '203.0.113.2')).statusCode, 201, 'another IP is not affected')

  // In parallel, too: the budget is taken before the hash.
  const app2 = await buildAuthApp(t, { RATE_LIMIT_REGISTER: '3' })
  const replies = await Promise.all(Array.from({ length: 12 }, async (_, n) => await app2.inject({
    method: 'POST', url: '/api/auth/register', remoteAddress: '203.0.113.3', payload: { username: `burst${n}`, email: `burst${n}@example.com`, password: valid.password }
  })))
  t.same(replies.map(r => r.statusCode).sort(), [201, 201, 201, ...Array(9).fill(429)])
})

t.test('reserved usernames (what the system shows, staff names) are refused in any case: 409 USERNAME_RESERVED', async t => {
  const app = await buildAuthApp(t)
  let n = 0
  for (const username of ['deleted-user', 'Deleted-User', 'DELETED_USER', 'deleted.user', 'system', 'Parley', 'admin', 'Administrator', 'ROOT', 'ad.min', 'support', 'moderator']) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username, email: `r${++n}@example.com`, password: valid.password } })
    t.equal(res.statusCode, 409, username)
    t.equal(res.json().code, 'USERNAME_RESERVED', username)
  }
  t.equal(await app.models.User.countDocuments(), 0)
  for (const username of ['admiral', 'rooted', 'systems_guy', 'deleted-user-fan']) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username, email: `${username}@example.com`, password: valid.password } })
    t.equal(res.statusCode, 201, `${username} is an ordinary name`)
  }
  // The operator's first admin may be called admin (ADMIN_USERNAME, npm run create-admin).
  const { user } = await app.users.ensureAdmin({ username: 'admin', email: 'admin@example.com', password: valid.password }, { promote: false })
  t.equal(user.role, 'admin')
  await t.rejects(app.users.ensureAdmin({ username: 'deleted-user', email: 'x@example.com', password: valid.password }, { promote: false }),
    { code: 'USERNAME_RESERVED' }, 'but never the deleted-account placeholder')
})
