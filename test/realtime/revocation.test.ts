/**
 * Revoking a session disconnects its sockets at once (and only its sockets), and its token can no longer
 * reconnect: logout, password change (other sessions), account deletion, and a revocation learned from
 * another instance.
 */
import t from 'tap'
import { disconnected, emitAck, startRealtimeApp } from '../helpers/realtime.js'
import { bearer } from '../helpers/rest.js'
import { sidOf } from '../helpers/tokens.js'
import { newSession, signUp } from '../helpers/users.js'

t.test('logout disconnects every socket of that session, and the token cannot reconnect', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await signUp(kit.app, 'alice')
  const other = await newSession(kit.app, alice)
  const [s1, s2, s3] = await Promise.all([kit.connect(alice.accessToken), kit.connect(alice.accessToken), kit.connect(other.accessToken)])
  const gone = Promise.all([disconnected(s1), disconnected(s2)])
  const res = await kit.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(alice.accessToken) })
  t.equal(res.statusCode, 204)
  t.same(await gone, ['io server disconnect', 'io server disconnect'], 'the server closed both sockets of the session')
  t.ok(s3.connected, 'the other session (another device) stays connected')
  const ack = await emitAck(s3, 'presence_query', { userIds: [alice.id] })
  t.match(ack, { ok: true, data: { [alice.id]: { online: true } } }, 'still online through the other device')
  t.match(await kit.connect(alice.accessToken).catch(e => e), { message: 'unauthorized', data: { code: 'TOKEN_REVOKED' } })
})

t.test('a password change disconnects the other sessions, not the caller\'s', async t => {
  const kit = await startRealtimeApp(t)
  const bob = await signUp(kit.app, 'bob')
  const laptop = await newSession(kit.app, bob)
  const phoneSocket = await kit.connect(bob.accessToken)
  const laptopSocket = await kit.connect(laptop.accessToken)
  const gone = disconnected(laptopSocket)
  const res = await kit.app.inject({
    method: 'PUT', url: '/api/users/me/password', headers: bearer(bob.accessToken),
    payload: { currentPassword: bob.password, newPassword: 'a brand new password' }
  })
  t.equal(res.statusCode, 204)
  t.equal(await gone, 'io server disconnect')
  t.ok(phoneSocket.connected, 'the session that changed the password keeps its socket')
  await t.rejects(kit.connect(laptop.accessToken), { message: 'unauthorized' })
})

t.test('deleting the account disconnects all its sockets', async t => {
  const kit = await startRealtimeApp(t)
  const carol = await signUp(kit.app, 'carol')
  const second = await newSession(kit.app, carol)
  const sockets = await Promise.all([kit.connect(carol.accessToken), kit.connect(second.accessToken)])
  const gone = Promise.all(sockets.map(async socket => await disconnected(socket)))
  const res = await kit.app.inject({ method: 'DELETE', url: '/api/users/me', headers: bearer(carol.accessToken), payload: { password: carol.password } })
  t.equal(res.statusCode, 204)
  t.same(await gone, ['io server disconnect', 'io server disconnect'])
  for (const token of [carol.accessToken, second.accessToken]) {
    t.equal(kit.app.realtime.localSocketsOfSession(sidOf(token)), 0, 'the session index is emptied')
  }
})

t.test('a revocation learned from another instance disconnects too', async t => {
  const kit = await startRealtimeApp(t)
  const dave = await signUp(kit.app, 'dave')
  const socket = await kit.connect(dave.accessToken)
  const sid = sidOf(dave.accessToken)
  t.equal(kit.app.realtime.localSocketsOfSession(sid), 1, 'the gateway indexes the socket by session')
  const gone = disconnected(socket)
  kit.app.revocation.apply({ sid, userId: dave.id, reason: 'admin', revokedAt: new Date() })
  t.equal(await gone, 'io server disconnect')
  t.equal(kit.app.realtime.localSocketsOfSession(sid), 0, 'and forgets it')
})
