/**
 * Presence across two users with two devices each: online on the first socket, still online until the last one
 * leaves, then offline with lastSeenAt stored; pushed only to users who share a conversation; presence_query and
 * public user documents agree.
 */
import t from 'tap'
import type { ClientSocket, ParleyClient, RealtimeKit } from '../helpers/realtime.js'
import { startRealtimeApp } from '../helpers/realtime.js'

interface Presence { action: string, userId: string, online: boolean, lastSeenAt: string | null }

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

/** Waits (without asserting on time) until the server has seen what the client did. */
async function until (condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await condition()) return
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  throw new Error('condition never became true')
}

function record (socket: ClientSocket): Presence[] {
  const seen: Presence[] = []
  socket.on('presence', (payload: Presence) => { seen.push(payload) })
  return seen
}

async function online (kit: RealtimeKit, socket: ClientSocket, userId: string): Promise<{ online: boolean, lastSeenAt: string | null }> {
  const ack = await kit.emitAck<Record<string, { online: boolean, lastSeenAt: string | null }>>(socket, 'presence_query', { userIds: [userId] })
  if (!ack.ok) throw new Error(ack.error.message)
  return ack.data[userId]
}

t.test('online while any device is connected, offline with lastSeenAt after the last', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await kit.registerUser('alice')
  const bob = await kit.registerUser('bob')
  const carol = await kit.registerUser('carol')
  const aliceTablet = await kit.login(alice.user.username, alice.password)
  const bobTablet = await kit.login(bob.user.username, bob.password)
  const created = await kit.app.inject({ method: 'POST', url: '/api/conversations', headers: bearer(alice.accessToken), payload: { type: 'direct', userId: bob.user.id } })
  t.equal(created.statusCode, 201, 'alice and bob share a direct conversation')

  const b1 = await kit.connect(bob.accessToken)
  const b2 = await kit.connect(bobTablet.accessToken)
  const c1 = await kit.connect(carol.accessToken)
  const [seenB1, seenB2, seenC1] = [record(b1), record(b2), record(c1)]

  const comingOnline = kit.nextEvent<Presence>(b1, 'presence')
  const a1 = await kit.connect(alice.accessToken)
  t.same(await comingOnline, { action: 'presence', userId: alice.user.id, online: true, lastSeenAt: null }, 'first device: online')
  const seenA1 = record(a1)
  const a2 = await kit.connect(aliceTablet.accessToken)
  t.same(await online(kit, b1, alice.user.id), { online: true, lastSeenAt: null })

  a1.disconnect()
  await until(() => kit.app.realtime.io.sockets.sockets.size === 4)
  t.same(await online(kit, b1, alice.user.id), { online: true, lastSeenAt: null }, 'one device left, still online')
  const publicAlice = await kit.app.inject({ method: 'GET', url: `/api/users/${alice.user.id}`, headers: bearer(bob.accessToken) })
  t.equal(publicAlice.json().online, true, 'public user documents show online')

  const goingOffline = kit.nextEvent<Presence>(b2, 'presence')
  a2.disconnect()
  const offline = await goingOffline
  t.match(offline, { action: 'presence', userId: alice.user.id, online: false, lastSeenAt: /^\d{4}-\d\d-\d\dT/ }, 'last device: offline')
  await until(async () => (await kit.app.models.User.findById(alice.user.id).lean())?.lastSeenAt !== undefined)
  const stored = await kit.app.models.User.findById(alice.user.id).lean()
  t.equal(stored?.lastSeenAt?.toISOString(), offline.lastSeenAt, 'lastSeenAt is stored on the user')
  t.same(await online(kit, b1, alice.user.id), { online: false, lastSeenAt: offline.lastSeenAt })
  const publicAfter = await kit.app.inject({ method: 'GET', url: `/api/users/${alice.user.id}`, headers: bearer(bob.accessToken) })
  t.match(publicAfter.json(), { online: false, lastSeenAt: offline.lastSeenAt })

  // Back online: the push carries the stored lastSeenAt.
  const back = kit.nextEvent<Presence>(b1, 'presence')
  const a3 = await kit.connect(alice.accessToken)
  t.same(await back, { action: 'presence', userId: alice.user.id, online: true, lastSeenAt: offline.lastSeenAt })
  const seenA3 = record(a3)

  // Bob's two devices leave: alice hears once, after the second.
  const bobOffline = kit.nextEvent<Presence>(a3, 'presence')
  b1.disconnect()
  await until(() => kit.app.realtime.io.sockets.sockets.size === 3)
  b2.disconnect()
  t.match(await bobOffline, { userId: bob.user.id, online: false })

  // An ack round trip orders after any push the server made to that socket.
  await online(kit, c1, alice.user.id)
  await online(kit, a3, alice.user.id)
  t.same(seenB1.map(p => p.online), [true, false, true], 'bob\'s phone: alice online, offline, online; no event per extra device')
  t.same(seenB2.map(p => p.online), [true, false, true], 'bob\'s tablet heard the same')
  t.same(seenA1, [], 'a user does not hear about their own devices')
  t.same(seenA3.map(p => [p.userId, p.online]), [[bob.user.id, false]], 'one offline event for bob, after his last device')
  t.same(seenC1, [], 'carol shares no conversation with them and hears nothing')
})

t.test('presence_query answers many ids at once, unknown ones offline', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await kit.registerUser('alice')
  const bob = await kit.registerUser('bob')
  const socket = await kit.connect(alice.accessToken)
  const unknown = '0123456789abcdef01234567'
  const ack = await kit.emitAck(socket, 'presence_query', { userIds: [alice.user.id, bob.user.id, unknown, alice.user.id] })
  t.same(ack, {
    ok: true,
    data: {
      [alice.user.id]: { online: true, lastSeenAt: null },
      [bob.user.id]: { online: false, lastSeenAt: null },
      [unknown]: { online: false, lastSeenAt: null }
    }
  })
  t.same(await kit.emitAck(socket, 'presence_query', { userIds: [] }), { ok: true, data: {} })
  const many = Array.from({ length: 200 }, (_, i) => i.toString(16).padStart(24, '0'))
  const big = await kit.emitAck<Record<string, unknown>>(socket, 'presence_query', { userIds: many })
  t.equal(big.ok && Object.keys(big.data).length, 200, 'the maximum of 200 ids is answered')

  // The typed maps a client imports (src/realtime/events.ts) describe this event and its ack.
  const typed = socket as unknown as ParleyClient
  const typedAck = await typed.emitWithAck('presence_query', { userIds: [alice.user.id] })
  t.equal(typedAck.ok && typedAck.data[alice.user.id].online, true)
})
