import t from 'tap'
import { buildAuthApp, TEST_SECRET } from '../../helpers/build-app.js'
import { bearer } from '../../helpers/rest.js'
import { claimsOf, craftJwt, nowSeconds } from '../../helpers/tokens.js'
import { newSession, signUp } from '../../helpers/users.js'

type App = Awaited<ReturnType<typeof buildAuthApp>>

const me = (app: App, headers: Record<string, string>) => app.inject({ method: 'GET', url: '/api/users/me', headers })
const verify = (app: App, token: unknown) => app.inject({ method: 'POST', url: '/api/auth/verify', payload: { token } as Record<string, unknown> })
const refresh = (app: App, refreshToken: unknown) => app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken } as Record<string, unknown> })

t.test('the access token is an HS256 JWT with sub, sid, jti and a short expiry', async t => {
  const app = await buildAuthApp(t)
  const user = await signUp(app)
  const header = JSON.parse(Buffer.from(user.accessToken.split('.')[0], 'base64url').toString())
  t.equal(header.alg, 'HS256')
  const claims = claimsOf(user.accessToken)
  t.equal(claims.sub, user.id)
  t.match(claims.sid, /^[0-9a-f]{24}$/)
  t.match(claims.jti, /^[0-9a-f-]{36}$/)
  t.equal(claims.role, 'user')
  t.equal((claims.exp as number) - (claims.iat as number), 900)
  t.ok(await app.models.Session.exists({ _id: claims.sid, userId: user.id }), 'sid names a stored session')
  const stored = await app.models.Session.findById(claims.sid).lean()
  t.not(stored?.refreshHash, user.refreshToken, 'the refresh token itself is not stored')
  t.notMatch(JSON.stringify(stored), user.refreshToken.split('.')[1], 'not even its secret part')
})

t.test('Authorization header: Bearer and JWT schemes in any case; anything else is a 401', async t => {
  const app = await buildAuthApp(t)
  const { accessToken } = await signUp(app)
  for (const value of [`Bearer ${accessToken}`, `bearer ${accessToken}`, `BEARER ${accessToken}`, `JWT ${accessToken}`, `jwt ${accessToken}`, `Jwt  ${accessToken} `]) {
    t.equal((await me(app, { authorization: value })).statusCode, 200, value.slice(0, 8))
  }
  const refused: Array<[string, Record<string, string>, string]> = [
    ['no header', {}, 'UNAUTHORIZED'],
    ['empty header', { authorization: '' }, 'UNAUTHORIZED'],
    ['token without scheme', { authorization: accessToken }, 'INVALID_AUTHORIZATION'],
    ['Basic scheme', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, 'INVALID_AUTHORIZATION'],
    ['scheme only', { authorization: 'Bearer' }, 'INVALID_AUTHORIZATION'],
    ['two tokens', { authorization: `Bearer ${accessToken} ${accessToken}` }, 'INVALID_AUTHORIZATION'],
    ['garbage token', { authorization: 'Bearer not-a-jwt' }, 'INVALID_TOKEN'],
    ['truncated token', { authorization: `Bearer ${accessToken.slice(0, -5)}` }, 'INVALID_TOKEN']
  ]
  for (const [name, headers, code] of refused) {
    const res = await me(app, headers)
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().code, code, name)
    t.equal(res.json().error, 'Unauthorized', name)
  }
})

t.test('forged, expired, alg:none, other algorithms and foreign claims are refused (REST and verify)', async t => {
  const app = await buildAuthApp(t)
  const user = await signUp(app)
  const claims = claimsOf(user.accessToken)
  const now = nowSeconds()
  const tokens: Array<[string, string, string]> = [
    ['forged: other secret', craftJwt({ ...claims }, { secret: 'another-secret-another-secret-123456' }), 'INVALID_TOKEN'],
    ['forged: payload edited (role admin)', `${user.accessToken.split('.')[0]}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')}.${user.accessToken.split('.')[2]}`, 'INVALID_TOKEN'],
    ['expired', craftJwt({ ...claims, iat: now - 1000, exp: now - 100 }), 'TOKEN_EXPIRED'],
    ['alg none, no signature', craftJwt({ ...claims }, { header: { alg: 'none', typ: 'JWT' }, signature: '' }), 'INVALID_TOKEN'],
    ['alg none with a signature', craftJwt({ ...claims }, { header: { alg: 'none', typ: 'JWT' } }), 'INVALID_TOKEN'],
    ['HS512 with the right secret', craftJwt({ ...claims }, { header: { alg: 'HS512', typ: 'JWT' }, signature: 'x' }), 'INVALID_TOKEN'],
    ['HS256 header, no sid', craftJwt({ sub: user.id, jti: 'x', role: 'user', iat: now, exp: now + 60 }), 'INVALID_TOKEN'],
    ['HS256, sub not an id', craftJwt({ ...claims, sub: { $ne: null } }), 'INVALID_TOKEN'],
    ['HS256, unknown role', craftJwt({ ...claims, role: 'root' }), 'INVALID_TOKEN'],
    ['HS256, no exp', craftJwt({ sub: user.id, sid: claims.sid, jti: 'x', role: 'user', iat: now }), 'INVALID_TOKEN']
  ]
  // The crafted tokens are real: a well-formed one signed with the test secret is accepted.
  const genuine = craftJwt({ ...claims, jti: 'handmade', iat: now, exp: now + 60 }, { secret: TEST_SECRET })
  t.equal((await me(app, bearer(genuine))).statusCode, 200, 'control: a hand-signed valid token passes')
  for (const [name, token, code] of tokens) {
    const res = await me(app, bearer(token))
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().code, code, name)
    const checked = await verify(app, token)
    t.equal(checked.statusCode, 401, `verify: ${name}`)
    t.equal(checked.json().code, code, `verify: ${name}`)
  }
})

t.test('POST /api/auth/verify answers for any token', async t => {
  const app = await buildAuthApp(t)
  const user = await signUp(app)
  const res = await verify(app, user.accessToken)
  t.equal(res.statusCode, 200)
  t.same(res.json(), { valid: true, userId: user.id, expiresAt: new Date((claimsOf(user.accessToken).exp as number) * 1000).toISOString() })
  t.equal((await verify(app, user.refreshToken)).statusCode, 401, 'a refresh token is not an access token')
  t.equal((await verify(app, { $ne: null })).statusCode, 400)
  t.equal((await verify(app, '')).statusCode, 400)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/verify', payload: {} })).statusCode, 400)
})

t.test('refresh rotates: new pair, the used refresh token dies, the session stays', async t => {
  const app = await buildAuthApp(t)
  const user = await signUp(app)
  const first = await refresh(app, user.refreshToken)
  t.equal(first.statusCode, 200)
  const pair = first.json()
  t.match(pair, { accessToken: String, refreshToken: String, tokenType: 'Bearer', expiresIn: 900, user: { id: user.id } })
  t.not(pair.refreshToken, user.refreshToken)
  t.equal(claimsOf(pair.accessToken).sid, claimsOf(user.accessToken).sid, 'same session')
  t.equal((await me(app, bearer(pair.accessToken))).statusCode, 200)
  t.equal((await me(app, bearer(user.accessToken))).statusCode, 200, 'the earlier access token lives until it expires')
  const second = await refresh(app, pair.refreshToken)
  t.equal(second.statusCode, 200, 'the new refresh token works once')
  t.equal(await app.models.Session.countDocuments(), 1)
})

t.test('a reused refresh token revokes the whole session (theft detection)', async t => {
  const app = await buildAuthApp(t)
  const user = await signUp(app)
  const stolen = user.refreshToken
  const legit = (await refresh(app, stolen)).json()

  const replay = await refresh(app, stolen)
  t.equal(replay.statusCode, 401)
  t.equal(replay.json().code, 'REFRESH_TOKEN_REUSED')

  t.equal((await refresh(app, legit.refreshToken)).statusCode, 401, 'the current refresh token of that session dies too')
  for (const token of [legit.accessToken, user.accessToken]) {
    const res = await me(app, bearer(token))
    t.equal(res.statusCode, 401)
    t.equal(res.json().code, 'TOKEN_REVOKED')
  }
  const session = await app.models.Session.findById(claimsOf(user.accessToken).sid).lean()
  t.equal(session?.revokedReason, 'refresh-reuse')
  t.equal((await refresh(app, stolen)).json().code, 'REFRESH_TOKEN_REUSED', 'still recognised after revocation')
})

t.test('a forged refresh token is a plain 401 and revokes nothing', async t => {
  const app = await buildAuthApp(t)
  const user = await signUp(app)
  const sid = user.refreshToken.split('.')[0]
  const forged = [
    `${sid}.${'A'.repeat(43)}`,
    `${'0'.repeat(24)}.${user.refreshToken.split('.')[1]}`,
    user.refreshToken.slice(0, -1),
    'garbage',
    `${user.refreshToken}x`
  ]
  for (const token of forged) {
    const res = await refresh(app, token)
    t.equal(res.statusCode, 401, token)
    t.equal(res.json().code, 'INVALID_REFRESH_TOKEN', token)
  }
  t.equal((await refresh(app, { $ne: null })).statusCode, 400, 'operator object')
  t.equal((await refresh(app, 123)).statusCode, 400, 'wrong type')
  t.equal((await me(app, bearer(user.accessToken))).statusCode, 200, 'the session is untouched')
  t.equal((await refresh(app, user.refreshToken)).statusCode, 200)
})

t.test('an expired refresh token is refused', async t => {
  const app = await buildAuthApp(t)
  const user = await signUp(app)
  await app.models.Session.updateOne({ _id: claimsOf(user.accessToken).sid }, { $set: { expiresAt: new Date(Date.now() - 1000) } })
  const res = await refresh(app, user.refreshToken)
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'SESSION_ENDED')
})

t.test('logout revokes the session: access and refresh tokens stop at once', async t => {
  const app = await buildAuthApp(t)
  const user = await signUp(app)
  const otherSession = await signUp(app, { username: 'someone_else' })
  const res = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(user.accessToken) })
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')

  const next = await me(app, bearer(user.accessToken))
  t.equal(next.statusCode, 401, 'the very next request is refused')
  t.equal(next.json().code, 'TOKEN_REVOKED')
  t.equal((await verify(app, user.accessToken)).json().code, 'TOKEN_REVOKED')
  t.equal((await refresh(app, user.refreshToken)).json().code, 'SESSION_ENDED')
  t.ok(app.revocation.isRevoked(claimsOf(user.accessToken).sid as string))
  t.equal((await me(app, bearer(otherSession.accessToken))).statusCode, 200, 'other users are untouched')

  const again = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(user.accessToken) })
  t.equal(again.statusCode, 401, 'a revoked token cannot log out twice')
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/logout' })).statusCode, 401, 'no token: 401')
})

t.test('logout with a refresh token of another of my sessions revokes that one too; someone else\'s is ignored', async t => {
  const app = await buildAuthApp(t)
  const user = await signUp(app)
  const laptop = await newSession(app, user)
  const stranger = await signUp(app)
  let res = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(user.accessToken), payload: { refreshToken: laptop.refreshToken } })
  t.equal(res.statusCode, 204)
  t.equal((await me(app, bearer(laptop.accessToken))).statusCode, 401, 'the other session is revoked')

  const phone = await newSession(app, user)
  res = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(phone.accessToken), payload: { refreshToken: stranger.refreshToken } })
  t.equal(res.statusCode, 204)
  t.equal((await me(app, bearer(stranger.accessToken))).statusCode, 200, 'another user\'s session cannot be revoked this way')

  res = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(stranger.accessToken), payload: { refreshToken: { $ne: null } } })
  t.equal(res.statusCode, 400)
  t.equal((await me(app, bearer(stranger.accessToken))).statusCode, 200, 'a rejected logout changes nothing')
})

t.test('logout from a client that sends Content-Type: application/json with no body', async t => {
  const app = await buildAuthApp(t)
  const user = await signUp(app)
  const headers = { ...bearer(user.accessToken), 'content-type': 'application/json' }
  const res = await app.inject({ method: 'POST', url: '/api/auth/logout', headers, payload: '' })
  t.equal(res.statusCode, 204)
  const after = await app.inject({ method: 'GET', url: '/api/users/me', headers: bearer(user.accessToken) })
  t.equal(after.statusCode, 401, 'the session is revoked')
})
