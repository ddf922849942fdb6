/**
 * The session: the access token is refreshed before it expires and handed to the live socket (which stays
 * connected past the first token's deadline); the session ends, and reconnecting stops, when it is revoked
 * elsewhere, when the socket's token expires unrefreshed, or when the refresh token is refused.
 */
import t from 'tap'
import { expiryOf, type SessionEnd } from '../../client/src/index.js'
import { TOKEN_EXPIRY_GRACE_MS } from '../../src/realtime/socket-session.js'
import { bearer } from '../helpers/rest.js'
import { sleep } from '../helpers/wait.js'
import { directClients, stored, waitForStored } from './client-kit.js'

const endOf = async (client: { on: (e: 'session_ended', l: (end: SessionEnd) => void) => () => void }): Promise<SessionEnd> =>
  await new Promise(resolve => { client.on('session_ended', resolve) })

t.test('a short-lived access token is refreshed on the live socket: no disconnect, no session end', async t => {
  const kit = await directClients(t, { ACCESS_TOKEN_TTL: '3s' })
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob)
  const firstToken = alice.session.accessToken as string
  const socketId = alice.socket.id
  const events: string[] = []
  alice.on('disconnected', reason => { events.push(`disconnected ${reason}`) })
  alice.on('session_ended', end => { events.push(`ended ${end.reason}`) })
  // Past the first token's own deadline on the socket (expiry plus the server's grace).
  await sleep((expiryOf(firstToken) as number) + TOKEN_EXPIRY_GRACE_MS + 1500 - Date.now())
  t.not(alice.session.accessToken, firstToken, 'a new access token')
  t.ok(alice.connected, 'still connected')
  t.equal(alice.socket.id, socketId, 'the same socket: it was never dropped')
  t.same(events, [], 'no disconnect, no session end')
  alice.send(kit.id, 'after the refresh')
  await waitForStored(bob, kit.id, 1)
  t.match(stored(bob.messages(kit.id)), [{ body: 'after the refresh' }], 'and it still sends')
})

t.test('a session revoked elsewhere ends the client\'s session and stops reconnecting', async t => {
  const kit = await directClients(t)
  const alice = await kit.client(kit.alice)
  const ended = endOf(alice)
  const res = await kit.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(kit.alice.accessToken) })
  t.equal(res.statusCode, 204)
  const end = await ended
  t.match(end, { reason: /^(SESSION_ENDED|INVALID_REFRESH_TOKEN|TOKEN_REVOKED)$/ }, `ended: ${end.reason}`)
  await sleep(1500)
  t.notOk(alice.connected, 'not reconnected')
  t.notOk(alice.socket.active, 'and not trying')
})

t.test('a socket whose token expires unrefreshed gets session_expired: the session ends', async t => {
  const kit = await directClients(t, { ACCESS_TOKEN_TTL: '2s' })
  // A refresh scheduled a minute after expiry: too late on purpose.
  const alice = await kit.client(kit.alice, { refreshLeadMs: -60_000 })
  const end = await endOf(alice)
  t.equal(end.reason, 'token_expired')
  t.notOk(alice.socket.active, 'no reconnect')
})

t.test('an expired token at connect is refreshed and the socket connects', async t => {
  const kit = await directClients(t, { ACCESS_TOKEN_TTL: '1s' })
  await sleep((expiryOf(kit.alice.accessToken) as number) + 200 - Date.now())
  const alice = await kit.client(kit.alice, { refreshLeadMs: -60_000 })
  t.ok(alice.connected, 'connected after refreshing')
  t.not(alice.session.accessToken, kit.alice.accessToken, 'useTokens refreshed the expired token for its first call')

  // The token expires between useTokens and connect: the handshake's TOKEN_EXPIRED is refreshed and retried.
  const bob = await kit.client(kit.bob, { refreshLeadMs: -60_000, connect: false })
  const bobToken = bob.session.accessToken as string
  await sleep((expiryOf(bobToken) as number) + 200 - Date.now())
  const refusals: string[] = []
  bob.on('disconnected', reason => { refusals.push(reason) })
  await bob.connect()
  t.ok(bob.connected, 'connected after a refused handshake')
  t.not(bob.session.accessToken, bobToken, 'with a refreshed token')
})

t.test('a refused refresh token ends the session; logout ends it too', async t => {
  const kit = await directClients(t)
  const alice = await kit.client(kit.alice, { connect: false })
  // The pair is spent elsewhere first (another client refreshed with it): using it again is reuse.
  const res = await kit.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: kit.alice.refreshToken } })
  t.equal(res.statusCode, 200)
  const ended = endOf(alice)
  t.equal(await alice.session.refresh(), false)
  t.match(await ended, { reason: 'REFRESH_TOKEN_REUSED' })
  await t.rejects(alice.connect(), 'connecting after the end fails')

  const bob = await kit.client(kit.bob, { login: true })
  const bobEnded = endOf(bob)
  await bob.logout()
  t.match(await bobEnded, { reason: 'logged_out' })
  t.notOk(bob.connected)
  await t.rejects(bob.login({ login: kit.bob.username, password: 'wrong password!' }), { status: 401, code: 'INVALID_CREDENTIALS' })
})

t.test('a handshake refused for good (a revoked session) ends the session instead of retrying', async t => {
  const kit = await directClients(t)
  const bob = await kit.client(kit.bob, { connect: false })
  const res = await kit.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(kit.bob.accessToken) })
  t.equal(res.statusCode, 204)
  const ended = endOf(bob)
  await t.rejects(bob.connect(), { message: 'TOKEN_REVOKED' }, 'connect rejects with the reason')
  t.match(await ended, { reason: 'TOKEN_REVOKED' })
  await sleep(800)
  t.notOk(bob.socket.active, 'no retry')
})
