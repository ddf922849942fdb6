/**
 * A live socket lasts as long as its access token (plus the grace): without `auth_refresh` it gets
 * `session_expired` and a server-side disconnect; with it, it stays, bound to the new token's session. Refused
 * tokens (garbage, expired, revoked, another user's) change nothing; bad payloads never crash.
 * Timing is load-tolerant: generous waits, and only lower bounds on when things happen.
 */
import { createHmac } from 'node:crypto'
import t from 'tap'
import { EXPIRY_RESOLUTION_MS, ExpiryWheel, MAX_TIMER_DELAY_MS, TOKEN_EXPIRY_GRACE_MS } from '../../src/realtime/socket-session.js'
import { disconnected, emitAck, emitRaw, nextEvent, startRealtimeApp, untyped } from '../helpers/realtime.js'
import { bearer } from '../helpers/rest.js'
import { expMsOf, sidOf } from '../helpers/tokens.js'
import { newSession, signUp } from '../helpers/users.js'
import { sleep } from '../helpers/wait.js'

t.test('a socket whose token expires gets session_expired and a server-side disconnect', async t => {
  const kit = await startRealtimeApp(t, { ACCESS_TOKEN_TTL: '3s' })
  const alice = await signUp(kit.app, 'alice')
  // Reconnection on: a server-side disconnect must still not bring it back.
  const socket = await kit.connect(alice.accessToken, { reconnection: true })
  const expired = nextEvent(socket, 'session_expired', 20_000)
  const gone = disconnected(socket)
  const events: string[] = []
  socket.onAny(event => { events.push(event) })
  socket.on('disconnect', () => { events.push('(disconnect)') })

  // In the grace period the token is dead: refreshing with it is refused and the socket stays as it was.
  await sleep(expMsOf(alice.accessToken) + 300 - Date.now())
  const ack = await emitAck(socket, 'auth_refresh', { token: alice.accessToken })
  t.match(ack, { ok: false, error: { code: 'UNAUTHORIZED', message: /expired/ } }, 'an expired token is refused')
  t.ok(socket.connected, 'still connected during the grace period')

  t.same(await expired, { action: 'session_expired', reason: 'token_expired' })
  t.equal(await gone, 'io server disconnect', 'the server closed it')
  t.ok(Date.now() >= expMsOf(alice.accessToken) + TOKEN_EXPIRY_GRACE_MS - 1000, 'not before the grace period ended')
  t.same(events.slice(-2), ['session_expired', '(disconnect)'], 'told why before the disconnect')
  t.notOk(socket.active, 'socket.io-client does not reconnect by itself')
  t.equal(kit.app.realtime.localSocketsOfSession(sidOf(alice.accessToken)), 0, 'the session index is emptied')
  t.match(await kit.connect(alice.accessToken).catch(e => e), { message: 'unauthorized', data: { code: 'TOKEN_EXPIRED' } })
})

t.test('a socket that refreshes in time stays connected past its first token\'s expiry', async t => {
  const kit = await startRealtimeApp(t, { ACCESS_TOKEN_TTL: '3s' })
  const bob = await signUp(kit.app, 'bob')
  const socket = await kit.connect(bob.accessToken)
  const firstDeadline = expMsOf(bob.accessToken) + TOKEN_EXPIRY_GRACE_MS
  const events: string[] = []
  socket.onAny(event => { events.push(event) })
  let refreshToken = bob.refreshToken
  let lastToken = bob.accessToken
  let refreshes = 0
  // What a client does: renew on a timer shorter than the TTL, via REST then auth_refresh on the live socket.
  while (Date.now() < firstDeadline + 2000) {
    await sleep(1200)
    const res = await kit.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken } })
    t.equal(res.statusCode, 200)
    const pair = res.json()
    refreshToken = pair.refreshToken
    lastToken = pair.accessToken
    const ack = await emitAck(socket, 'auth_refresh', { token: pair.accessToken })
    t.same(ack, { ok: true, data: { expiresAt: new Date(expMsOf(pair.accessToken)).toISOString() } }, 'acked with the new expiry')
    refreshes++
  }
  t.ok(refreshes >= 2, 'refreshed several times')
  t.ok(socket.connected, 'connected past the first token\'s deadline')
  t.notOk(events.includes('session_expired'))
  const ack = await emitAck(socket, 'presence_query', { userIds: [bob.id] })
  t.match(ack, { ok: true, data: { [bob.id]: { online: true } } }, 'and still served')

  // Refreshing stops: the latest token's deadline ends it (the timer was replaced, not dropped).
  const expired = nextEvent(socket, 'session_expired', 20_000)
  const gone = disconnected(socket)
  t.same(await expired, { action: 'session_expired', reason: 'token_expired' })
  t.equal(await gone, 'io server disconnect')
  t.ok(Date.now() >= expMsOf(lastToken) + TOKEN_EXPIRY_GRACE_MS - 1000, 'at the last token\'s deadline, not the first one\'s')
})

t.test('auth_refresh with another user\'s token: USER_MISMATCH, and the socket is unchanged', async t => {
  const kit = await startRealtimeApp(t)
  const [alice, bob] = await Promise.all([signUp(kit.app, 'alice'), signUp(kit.app, 'bob')])
  const socket = await kit.connect(alice.accessToken)
  const ack = await emitAck(socket, 'auth_refresh', { token: bob.accessToken })
  t.match(ack, { ok: false, error: { code: 'USER_MISMATCH', message: String } })
  t.ok(socket.connected)
  t.equal(kit.app.realtime.localSocketsOfSession(sidOf(alice.accessToken)), 1, 'still bound to its own session')
  t.equal(kit.app.realtime.localSocketsOfSession(sidOf(bob.accessToken)), 0, 'never to the other user\'s')
  t.match(await emitAck(socket, 'presence_query', { userIds: [alice.id] }), { ok: true })
})

t.test('garbage, forged and revoked tokens are UNAUTHORIZED and change nothing', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await signUp(kit.app, 'alice')
  const loggedOut = await newSession(kit.app, alice)
  const res = await kit.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(loggedOut.accessToken) })
  t.equal(res.statusCode, 204)
  const socket = await kit.connect(alice.accessToken)
  const [header, payload] = alice.accessToken.split('.')
  const forged = `${header}.${payload}.${createHmac('sha256', 'not-the-server-secret-0123456789abcdef').update(`${header}.${payload}`).digest('base64url')}`
  const cases: Array<[string, string]> = [
    ['garbage', 'garbage'],
    ['only a scheme', 'Bearer '],
    ['a refresh token', alice.refreshToken],
    ['a forged signature', forged],
    ['a revoked (logged-out) session', loggedOut.accessToken],
    ['a header-less token', `${payload}.${payload}`]
  ]
  for (const [name, token] of cases) {
    const ack = await emitAck(socket, 'auth_refresh', { token })
    t.match(ack, { ok: false, error: { code: 'UNAUTHORIZED', message: String } }, name)
  }
  t.match(await emitAck(socket, 'auth_refresh', { token: loggedOut.accessToken }), { error: { message: /revoked/ } })
  t.ok(socket.connected, 'the socket stays as it was')
  t.equal(kit.app.realtime.localSocketsOfSession(sidOf(alice.accessToken)), 1)
  t.equal(kit.app.realtime.localSocketsOfSession(sidOf(loggedOut.accessToken)), 0)
  const fine = await emitAck(socket, 'auth_refresh', { token: `Bearer ${alice.accessToken}` })
  t.match(fine, { ok: true, data: { expiresAt: new Date(expMsOf(alice.accessToken)).toISOString() } }, 'a Bearer prefix is accepted, as at the handshake')
})

t.test('after a refresh, the new session owns the socket: its logout disconnects, the old one\'s does not', async t => {
  const kit = await startRealtimeApp(t)
  const carol = await signUp(kit.app, 'carol')
  const second = await newSession(kit.app, carol)
  const [oldSid, newSid] = [sidOf(carol.accessToken), sidOf(second.accessToken)]
  const socket = await kit.connect(carol.accessToken)
  t.match(await emitAck(socket, 'auth_refresh', { token: second.accessToken }), { ok: true })
  t.equal(kit.app.realtime.localSocketsOfSession(oldSid), 0, 'left the old session')
  t.equal(kit.app.realtime.localSocketsOfSession(newSid), 1, 'joined the new one')

  let reason: string | null = null
  socket.on('disconnect', r => { reason = r })
  const oldLogout = await kit.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(carol.accessToken) })
  t.equal(oldLogout.statusCode, 204)
  // A round trip after the revocation: a disconnect would have arrived before this ack.
  t.match(await emitAck(socket, 'presence_query', { userIds: [carol.id] }), { ok: true })
  t.equal(reason, null, 'logging out the old session leaves the socket alone')
  t.ok(socket.connected)

  const gone = disconnected(socket, 5000)
  const newLogout = await kit.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(second.accessToken) })
  t.equal(newLogout.statusCode, 204)
  t.equal(await gone, 'io server disconnect', 'logging out the new session disconnects it')
  t.equal(kit.app.realtime.localSocketsOfSession(newSid), 0)
})

t.test('wrong auth_refresh payloads get VALIDATION_ERROR; no ack and no payload never crash', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await signUp(kit.app, 'alice')
  const socket = await kit.connect(alice.accessToken)
  const cases: Array<[string, unknown[]]> = [
    ['an operator as token', [{ token: { $gt: '' } }]],
    ['a number', [{ token: 42 }]],
    ['null token', [{ token: null }]],
    ['an array token', [{ token: [alice.accessToken] }]],
    ['an empty token', [{ token: '' }]],
    ['a huge token', [{ token: 'x'.repeat(100_000) }]],
    ['an unknown field', [{ token: alice.accessToken, sid: 'x' }]],
    ['no token', [{}]],
    ['a string payload', [alice.accessToken]],
    ['null payload', [null]],
    ['no payload at all', []]
  ]
  // Malformed payloads, and emits without an ack, on purpose: outside the typed maps.
  const raw = untyped(socket)
  for (const [name, args] of cases) {
    t.match(await emitRaw(raw, 'auth_refresh', ...args), { ok: false, error: { code: 'VALIDATION_ERROR' } }, name)
  }
  raw.emit('auth_refresh', { token: { $gt: '' } })
  raw.emit('auth_refresh', 'garbage')
  raw.emit('auth_refresh')
  raw.emit('auth_refresh', { token: 'garbage' })
  raw.emit('auth_refresh', { token: alice.accessToken })
  t.match(await emitAck(socket, 'presence_query', { userIds: [alice.id] }), { ok: true }, 'still connected and answering')
  t.ok(socket.connected)
  t.throws(() => { kit.app.realtime.registerEvents({ auth_refresh: async () => ({ expiresAt: new Date().toISOString() }) }) },
    /registered twice/, 'a module cannot take over auth_refresh')
})

t.test('a TTL beyond setTimeout\'s range neither overflows nor expires the socket early', async t => {
  const warnings: Error[] = []
  const onWarning = (warning: Error): void => { warnings.push(warning) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const kit = await startRealtimeApp(t, { ACCESS_TOKEN_TTL: '30d' })
  const dave = await signUp(kit.app, 'dave')
  t.ok(expMsOf(dave.accessToken) - Date.now() > MAX_TIMER_DELAY_MS, 'the token outlives one timer')
  const socket = await kit.connect(dave.accessToken)
  await sleep(300)
  t.ok(socket.connected, 'not expired at once (an overflowing timer fires after 1 ms)')
  t.match(await emitAck(socket, 'presence_query', { userIds: [dave.id] }), { ok: true })
  t.same(warnings.filter(w => w.name === 'TimeoutOverflowWarning'), [], 'no TimeoutOverflowWarning')
})

t.test('ExpiryWheel: caps long waits, fires past deadlines, replaces and clears', async t => {
  const fired: string[] = []
  const wheel = new ExpiryWheel<string>(item => { fired.push(item) })
  t.teardown(() => { wheel.stop() })
  wheel.arm('far', Date.now() + 40 * 24 * 3600 * 1000)
  await sleep(50)
  t.same(fired, [], 'a 40-day deadline does not fire now')
  t.ok(wheel.armed('far'))
  wheel.arm('far', Date.now() - 1000)
  await sleep(50)
  t.same(fired, ['far'], 'a past deadline fires once, replacing the long one')
  t.notOk(wheel.armed('far'))
  wheel.arm('cleared', Date.now() + 30)
  wheel.clear('cleared')
  await sleep(100)
  t.same(fired, ['far'], 'a cleared item never fires')
  t.equal(wheel.size, 0)
})

t.test('ExpiryWheel: many items, one timer; each fires once, in deadline order, never early, at most a resolution late', async t => {
  const firedAt = new Map<number, number>()
  const order: number[] = []
  const wheel = new ExpiryWheel<number>(item => { firedAt.set(item, Date.now()); order.push(item) })
  t.teardown(() => { wheel.stop() })
  const start = Date.now()
  const deadlines = new Map<number, number>()
  // Out of order, several per bucket, one re-armed later and one re-armed earlier.
  for (let i = 0; i < 40; i++) deadlines.set(i, start + 100 + ((i * 37) % 40) * 20)
  for (const [item, deadline] of deadlines) wheel.arm(item, deadline)
  deadlines.set(3, start + 1200)
  wheel.arm(3, start + 1200)
  deadlines.set(5, start + 60)
  wheel.arm(5, start + 60)
  await sleep(1200 + EXPIRY_RESOLUTION_MS + 300)
  t.equal(firedAt.size, 40, 'every item fired')
  t.equal(order.length, 40, 'once each')
  for (const [item, deadline] of deadlines) {
    const at = firedAt.get(item) ?? NaN
    t.ok(at >= deadline, `item ${item} not early`)
  }
  // Items of one bucket fire together, in any order: never before an item due a whole resolution earlier.
  const outOfOrder = order.filter((item, i) => i > 0 && (deadlines.get(item) ?? 0) < (deadlines.get(order[i - 1]) ?? 0) - EXPIRY_RESOLUTION_MS)
  t.same(outOfOrder, [], 'in deadline order, bucket by bucket')
  t.equal(order[order.length - 1], 3, 'the re-armed later one last')
  t.equal(wheel.size, 0)
})

t.test('ExpiryWheel: a throwing callback is reported and the others still fire', async t => {
  const fired: string[] = []
  const errors: unknown[] = []
  const wheel = new ExpiryWheel<string>(item => {
    if (item === 'bad') throw new Error('boom')
    fired.push(item)
  }, error => { errors.push(error) })
  t.teardown(() => { wheel.stop() })
  const deadline = Date.now() + 20
  for (const item of ['a', 'bad', 'b']) wheel.arm(item, deadline)
  wheel.arm('later', deadline + 2 * EXPIRY_RESOLUTION_MS)
  await sleep(3 * EXPIRY_RESOLUTION_MS + 200)
  t.same(fired.sort(), ['a', 'b', 'later'])
  t.match(errors, [{ message: 'boom' }])
})
