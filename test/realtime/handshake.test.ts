/**
 * The handshake: tokens through auth.token or ?token= (with or without a Bearer/JWT prefix) connect; every bad
 * token kind, and a disabled or deleted account, is refused with connect_error "unauthorized".
 */
import t from 'tap'
import { emitAck, startRealtimeApp } from '../helpers/realtime.js'
import { craftJwt, nowSeconds } from '../helpers/tokens.js'
import { signUp } from '../helpers/users.js'

t.test('a valid token connects through auth.token or ?token=, with or without a scheme prefix', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await signUp(kit.app, 'alice')
  const variants: Array<[string, Parameters<typeof kit.connect>]> = [
    ['auth.token', [alice.accessToken]],
    ['?token=', [alice.accessToken, { tokenInQuery: true }]],
    ['auth.token Bearer', [`Bearer ${alice.accessToken}`]],
    ['?token= JWT', [`JWT ${alice.accessToken}`, { tokenInQuery: true }]],
    ['auth.token jwt lowercase', [`jwt ${alice.accessToken}`]]
  ]
  for (const [name, args] of variants) {
    const socket = await kit.connect(...args)
    t.ok(socket.connected, name)
    const ack = await emitAck(socket, 'presence_query', { userIds: [alice.id] })
    t.match(ack, { ok: true, data: { [alice.id]: { online: true } } }, `${name}: the socket works as alice`)
    socket.disconnect()
  }
})

t.test('once checked, the bearer token is not kept in the server-side handshake', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await signUp(kit.app, 'alice')
  const socket = await kit.connect(alice.accessToken)
  const [served] = kit.app.realtime.io.of('/').sockets.values()
  t.ok(served !== undefined, 'the server holds the socket')
  t.notOk('token' in served.handshake.auth, 'no token in handshake.auth')
  t.notOk(JSON.stringify(served.handshake).includes(alice.accessToken), 'nor anywhere in the handshake')
  t.match(await emitAck(socket, 'presence_query', { userIds: [alice.id] }), { ok: true }, 'and the socket is served')
})

t.test('every bad token kind is refused with "unauthorized"', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await signUp(kit.app, 'alice')
  const [, payloadPart] = alice.accessToken.split('.')
  const claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString())
  const cases: Array<[string, string | null, Record<string, unknown>?]> = [
    ['no token', null],
    ['empty token', ''],
    ['garbage', 'not-a-jwt'],
    ['Bearer only', 'Bearer '],
    ['wrong secret', craftJwt(claims, { secret: 'another-secret-that-is-long-enough-0123' })],
    ['expired', craftJwt({ ...claims, iat: nowSeconds() - 3600, exp: nowSeconds() - 60 })],
    ['alg none', craftJwt(claims, { header: { alg: 'none', typ: 'JWT' }, signature: '' })],
    ['missing sid', craftJwt({ ...claims, sid: undefined })],
    ['tampered payload', alice.accessToken.replace(payloadPart, Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url'))],
    ['token in a non-string auth', null, { auth: { token: { $gt: '' } } }],
    ['token as a query array', null, { query: { token: [alice.accessToken, alice.accessToken] } }]
  ]
  for (const [name, token, options] of cases) {
    const error = await kit.connect(token, options).then(() => null, (e: Error & { data?: { code?: string } }) => e)
    t.equal(error?.message, 'unauthorized', name)
  }
  const expired = await kit.connect(craftJwt({ ...claims, iat: nowSeconds() - 3600, exp: nowSeconds() - 60 }))
    .catch((e: { data?: { code?: string } }) => e)
  t.match(expired, { data: { code: 'TOKEN_EXPIRED' } }, 'data.code says why')
})

t.test('a revoked session, a disabled and a deleted account are refused', async t => {
  const kit = await startRealtimeApp(t)
  const revoked = await signUp(kit.app, 'rev')
  const res = await kit.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { authorization: `Bearer ${revoked.accessToken}` } })
  t.equal(res.statusCode, 204)
  t.match(await kit.connect(revoked.accessToken).catch(e => e), { message: 'unauthorized', data: { code: 'TOKEN_REVOKED' } })

  const disabled = await signUp(kit.app, 'dis')
  await kit.app.models.User.updateOne({ _id: disabled.id }, { $set: { disabled: true } })
  t.match(await kit.connect(disabled.accessToken).catch(e => e), { message: 'unauthorized', data: { code: 'ACCOUNT_UNAVAILABLE' } })

  const deleted = await signUp(kit.app, 'del')
  await kit.app.models.User.updateOne({ _id: deleted.id }, { $set: { deletedAt: new Date() } })
  t.match(await kit.connect(deleted.accessToken).catch(e => e), { message: 'unauthorized', data: { code: 'ACCOUNT_UNAVAILABLE' } })

  const fine = await signUp(kit.app, 'ok')
  t.ok((await kit.connect(fine.accessToken)).connected, 'an ordinary account still connects')
})
