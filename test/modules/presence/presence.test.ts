/**
 * Presence across two users with two devices each: online on the first socket, still online until the last one
 * leaves, then offline with lastSeenAt stored; pushed only to users who share a conversation; presence_query and
 * public user documents agree.
 */
import t from 'tap'
import { emitAck, nextEvent, startRealtimeApp } from '../../helpers/realtime.js'
import { bearer } from '../../helpers/rest.js'
import { newSession, signUp } from '../../helpers/users.js'
import { waitFor } from '../../helpers/wait.js'
import { queried, record } from './presence-helpers.js'

t.test('online while any device is connected, offline with lastSeenAt after the last', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await signUp(kit.app, 'alice')
  const bob = await signUp(kit.app, 'bob')
  const carol = await signUp(kit.app, 'carol')
  const aliceTablet = await newSession(kit.app, alice)
  const bobTablet = await newSession(kit.app, bob)
  const created = await kit.app.inject({ method: 'POST', url: '/api/conversations', headers: bearer(alice.accessToken), payload: { type: 'direct', userId: bob.id } })
  t.equal(created.statusCode, 201, 'alice and bob share a direct conversation')

  const b1 = await kit.connect(bob.accessToken)
  const b2 = await kit.connect(bobTablet.accessToken)
  const c1 = await kit.connect(carol.accessToken)
  const [seenB1, seenB2, seenC1] = [record(b1), record(b2), record(c1)]

  const comingOnline = nextEvent(b1, 'presence')
  const a1 = await kit.connect(alice.accessToken)
  t.same(await comingOnline, { action: 'presence', userId: alice.id, online: true, lastSeenAt: null }, 'first device: online')
  const seenA1 = record(a1)
  const a2 = await kit.connect(aliceTablet.accessToken)
  t.same(await queried(b1, alice.id), { online: true, lastSeenAt: null })

  a1.disconnect()
  await waitFor(() => kit.app.realtime.io.sockets.sockets.size === 4)
  t.same(await queried(b1, alice.id), { online: true, lastSeenAt: null }, 'one device left, still online')
  const publicAlice = await kit.app.inject({ method: 'GET', url: `/api/users/${alice.id}`, headers: bearer(bob.accessToken) })
  t.equal(publicAlice.json().online, true, 'public user documents show online')

  const goingOffline = nextEvent(b2, 'presence')
  a2.disconnect()
  const offline = await goingOffline
  t.match(offline, { action: 'presence', userId: alice.id, online: false, lastSeenAt: /^\d{4}-\d\d-\d\dT/ }, 'last device: offline')
  await waitFor(async () => (await kit.app.models.User.findById(alice.id).lean())?.lastSeenAt !== undefined)
  const stored = await kit.app.models.User.findById(alice.id).lean()
  t.equal(stored?.lastSeenAt?.toISOString(), offline.lastSeenAt, 'lastSeenAt is stored on the user')
  t.same(await queried(b1, alice.id), { online: false, lastSeenAt: offline.lastSeenAt })
  const publicAfter = await kit.app.inject({ method: 'GET', url: `/api/users/${alice.id}`, headers: bearer(bob.accessToken) })
  t.match(publicAfter.json(), { online: false, lastSeenAt: offline.lastSeenAt })

  // Back online: the push carries the stored lastSeenAt.
  const back = nextEvent(b1, 'presence')
  const a3 = await kit.connect(alice.accessToken)
  t.same(await back, { action: 'presence', userId: alice.id, online: true, lastSeenAt: offline.lastSeenAt })
  const seenA3 = record(a3)

  // Bob's two devices leave: alice hears once, after the second.
  const bobOffline = nextEvent(a3, 'presence')
  b1.disconnect()
  await waitFor(() => kit.app.realtime.io.sockets.sockets.size === 3)
  b2.disconnect()
  t.match(await bobOffline, { userId: bob.id, online: false })

  // An ack round trip orders after any push the server made to that socket.
  await queried(c1, alice.id)
  await queried(a3, alice.id)
  t.same(seenB1.map(p => p.online), [true, false, true], 'bob\'s phone: alice online, offline, online; no event per extra device')
  t.same(seenB2.map(p => p.online), [true, false, true], 'bob\'s tablet heard the same')
  t.same(seenA1, [], 'a user does not hear about their own devices')
  t.same(seenA3.map(p => [p.userId, p.online]), [[bob.id, false]], 'one offline event for bob, after his last device')
  t.same(seenC1, [], 'carol shares no conversation with them and hears nothing')
})

t.test('presence_query answers many ids at once, unknown ones offline', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await signUp(kit.app, 'alice')
  const bob = await signUp(kit.app, 'bob')
  const socket = await kit.connect(alice.accessToken)
  const unknown = '0123456789abcdef01234567'
  const ack = await emitAck(socket, 'presence_query', { userIds: [alice.id, bob.id, unknown, alice.id] })
  t.same(ack, {
    ok: true,
    data: {
      [alice.id]: { online: true, lastSeenAt: null },
      [bob.id]: { online: false, lastSeenAt: null },
      [unknown]: { online: false, lastSeenAt: null }
    }
  })
  t.same(await emitAck(socket, 'presence_query', { userIds: [] }), { ok: true, data: {} })
  const many = Array.from({ length: 200 }, (_, i) => i.toString(16).padStart(24, '0'))
  const big = await emitAck(socket, 'presence_query', { userIds: many })
  t.equal(big.ok && Object.keys(big.data).length, 200, 'the maximum of 200 ids is answered')

  // The typed maps a client imports (parley/events) describe this event and its ack: socket.io's own call, typed.
  const typedAck = await socket.emitWithAck('presence_query', { userIds: [alice.id] })
  t.equal(typedAck.ok && typedAck.data[alice.id].online, true)
})
