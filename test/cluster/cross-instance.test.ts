import t from 'tap'
import { startCluster } from '../helpers/cluster.js'
import { openDirect } from '../helpers/conversations.js'
import { arrives, disconnected, emitAck, nextEvent } from '../helpers/realtime.js'
import { api } from '../helpers/rest.js'
import { sidOf } from '../helpers/tokens.js'
import { newSession, signUp } from '../helpers/users.js'
import { waitFor } from '../helpers/wait.js'

// Three instances, one Redis, one database: what a user does on one instance reaches the other party on another.
t.test('messages, receipts, typing and new conversations cross instances', async t => {
  const cluster = await startCluster(t, { instances: 3, env: { RATE_LIMIT_MESSAGES: '0' } })
  const [A, B, C] = cluster.instances
  const alice = await signUp(A.app, 'alice')
  const bob = await signUp(B.app, 'bob')
  const aliceOnC = await newSession(C.app, alice)
  const bobOnC = await newSession(C.app, bob)

  const aliceA = await cluster.connect(A, alice.accessToken)
  const aliceC = await cluster.connect(C, aliceOnC.accessToken)
  const bobB = await cluster.connect(B, bob.accessToken)
  const bobC = await cluster.connect(C, bobOnC.accessToken)

  // A new direct conversation created on A: socketsJoin puts bob's sockets on B and C into its room.
  const createdOnB = nextEvent(bobB, 'conversation_updated')
  const createdOnC = nextEvent(bobC, 'conversation_updated')
  const conversationId = await openDirect(A.app, alice, bob)
  // The creator's socket on A is in the room as soon as the call returns (not after a round trip through Redis).
  t.ok(A.app.realtime.io.of('/').adapter.rooms.get(`conversation:${conversationId}`)?.has(aliceA.id ?? ''), 'local join at once')
  t.equal((await createdOnB).conversation.id, conversationId, 'conversation_updated reached B')
  t.equal((await createdOnC).conversation.id, conversationId, 'conversation_updated reached C')

  const onBobB = nextEvent(bobB, 're_message')
  const onBobC = nextEvent(bobC, 're_message')
  const onAliceC = nextEvent(aliceC, 're_message')
  const echoOnSender = arrives(aliceA, 're_message', 500)
  const ack = await emitAck(aliceA, 'chat_message', { conversationId, body: 'hello from A', clientMsgId: 'c1' })
  if (!ack.ok) throw new Error(`not acked: ${JSON.stringify(ack)}`)
  const message = ack.data
  t.equal(message.seq, 1)
  for (const [name, pending] of [['bob on B', onBobB], ['bob on C', onBobC], ['alice on C', onAliceC]] as const) {
    const event = await pending
    t.equal(event.action, 're_message', name)
    t.equal(event.message.id, message.id, name)
    t.equal(event.message.body, 'hello from A', name)
  }
  t.equal(await echoOnSender, false, 'the sending socket gets its ack, not the event')

  // A message sent through REST on C reaches the sockets on A and B.
  const restOnA = nextEvent(aliceA, 're_message')
  const restOnB = nextEvent(bobB, 're_message')
  const posted = await api(C.app, bobOnC)('POST', `/api/conversations/${conversationId}/messages`, { body: 'from REST on C' })
  t.equal(posted.statusCode, 201)
  t.equal((await restOnA).message.seq, 2)
  t.equal((await restOnB).message.seq, 2)

  // Receipts and typing.
  // (bob's own message moved his marks already: alice reads it, on C, and bob hears of it on B.)
  const receipt = nextEvent(bobB, 'receipt')
  t.same(await emitAck(aliceC, 'read', { conversationId, seq: 2 }), { ok: true, data: {} })
  t.match(await receipt, { action: 'receipt', conversationId, userId: alice.id, kind: 'read', seq: 2 })
  const typing = nextEvent(aliceC, 'typing')
  t.same(await emitAck(bobB, 'typing', { conversationId, isTyping: true }), { ok: true, data: {} })
  t.same(await typing, { action: 'typing', conversationId, userId: bob.id, isTyping: true })

  // fetchSockets sees every instance's sockets; socketsLeave from one instance moves sockets on the others.
  const io = A.app.realtime.io
  t.equal((await io.in(`user:${bob.id}`).fetchSockets()).length, 2, 'bob has two sockets in the cluster')
  io.in(`user:${bob.id}`).socketsLeave(`conversation:${conversationId}`)
  await waitFor(async () => (await io.in(`conversation:${conversationId}`).fetchSockets()).length === 2, 3000, 'bob to leave')
  const afterLeave = arrives(bobB, 're_message', 500)
  const stillAlice = nextEvent(aliceC, 're_message')
  t.equal((await emitAck(aliceA, 'chat_message', { conversationId, body: 'bob left the room' })).ok, true)
  await stillAlice
  t.equal(await afterLeave, false, 'a socket that left the room gets nothing')
})

t.test('logout on A disconnects the session\'s socket on B at once (no polling)', async t => {
  // Revocation polling is off in startCluster: only the Redis relay can do this.
  const cluster = await startCluster(t, { instances: 2 })
  const [A, B] = cluster.instances
  const carol = await signUp(A.app, 'carol')
  const other = await newSession(A.app, carol)
  const socketB = await cluster.connect(B, carol.accessToken)
  const otherB = await cluster.connect(B, other.accessToken)
  const gone = disconnected(socketB)
  const started = Date.now()
  const res = await api(A.app, carol)('POST', '/api/auth/logout', { refreshToken: carol.refreshToken })
  t.equal(res.statusCode, 204)
  t.equal(await gone, 'io server disconnect')
  t.ok(Date.now() - started < 1000, `within 1 s (${Date.now() - started} ms)`)
  t.ok(B.app.revocation.isRevoked(sidOf(carol.accessToken)), 'B refuses the token')
  const rest = await api(B.app, carol)('GET', '/api/users/me')
  t.equal(rest.statusCode, 401, 'REST on B refuses the revoked token')
  t.equal(otherB.connected, true, 'the user\'s other session stays')
})

t.test('the message rate limit is shared by the instances', async t => {
  const cluster = await startCluster(t, { instances: 2, env: { RATE_LIMIT_MESSAGES: '5' } })
  const [A, B] = cluster.instances
  const dave = await signUp(A.app, 'dave')
  const erin = await signUp(B.app, 'erin')
  const conversationId = await openDirect(A.app, dave, erin)
  const codes: number[] = []
  for (const instance of [A, A, A, B, B, B]) {
    const res = await api(instance.app, dave)('POST', `/api/conversations/${conversationId}/messages`, { body: 'x' })
    codes.push(res.statusCode)
    if (res.statusCode === 429) {
      t.equal(res.json().code, 'RATE_LIMITED')
      t.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After')
    }
  }
  t.same(codes, [201, 201, 201, 201, 201, 429], '3 on A + 3 on B: the sixth is refused')
  // The socket path shares the same budget.
  const socket = await cluster.connect(B, dave.accessToken)
  const ack = await emitAck(socket, 'chat_message', { conversationId, body: 'y' })
  t.match(ack, { ok: false, error: { code: 'RATE_LIMITED' } })
  // Another user has their own budget.
  const res = await api(A.app, erin)('POST', `/api/conversations/${conversationId}/messages`, { body: 'z' })
  t.equal(res.statusCode, 201)
})

t.test('the login limit per IP is shared by the instances', async t => {
  const cluster = await startCluster(t, { instances: 2, env: { RATE_LIMIT_LOGIN: '3', RATE_LIMIT_LOGIN_ACCOUNT: '0' } })
  const [A, B] = cluster.instances
  const codes: number[] = []
  for (const instance of [A, B, A, B]) {
    const res = await instance.app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: 'nobody_here', password: 'wrong password' } })
    codes.push(res.statusCode)
  }
  t.same(codes, [401, 401, 401, 429])
})

t.test('deleting an account on A disconnects every socket of it on B; disconnectSockets reaches other instances', async t => {
  const cluster = await startCluster(t, { instances: 2 })
  const [A, B] = cluster.instances
  const frank = await signUp(A.app, 'frank')
  const second = await newSession(B.app, frank)
  const onB = [await cluster.connect(B, frank.accessToken), await cluster.connect(B, second.accessToken)]
  const gone = onB.map(async socket => await disconnected(socket))
  const res = await api(A.app, frank)('DELETE', '/api/users/me', { password: frank.password })
  t.equal(res.statusCode, 204)
  t.same(await Promise.all(gone), ['io server disconnect', 'io server disconnect'], 'both sessions\' sockets on B')
  try {
    await cluster.connect(B, second.accessToken)
    t.fail('connected with a revoked session')
  } catch (error) {
    t.equal((error as Error).message, 'unauthorized')
  }

  // Any instance can disconnect a user's sockets wherever they are.
  const gina = await signUp(A.app, 'gina')
  const ginaB = await cluster.connect(B, gina.accessToken)
  const ginaA = await cluster.connect(A, gina.accessToken)
  const closedB = disconnected(ginaB)
  A.app.realtime.io.in(`user:${gina.id}`).disconnectSockets(true)
  t.equal(await closedB, 'io server disconnect')
  await waitFor(() => !ginaA.connected, 2000, 'the local socket too')
  t.pass('both instances\' sockets closed')
})
