/**
 * Presence across three instances on one Redis: a user with a device on A and one on B is online once, stays
 * online while either device is connected, and goes offline once (with lastSeenAt) to a friend on C; every
 * instance answers presence_query, public user documents and the online count from the shared state.
 */
import t from 'tap'
import { startCluster } from '../../helpers/cluster.js'
import { emitAck, emitRaw, untyped } from '../../helpers/realtime.js'
import { bearer } from '../../helpers/rest.js'
import { newSession, signUp } from '../../helpers/users.js'
import { sleep, waitFor } from '../../helpers/wait.js'
import { aliceOnASeenFromB, queried, record, TEST_TIMING } from './presence-helpers.js'

t.test('multi-device users are counted across instances; online and offline are pushed once', async t => {
  const cluster = await startCluster(t, { instances: 3, presenceTiming: TEST_TIMING })
  const [a, b, c] = cluster.instances
  const alice = await signUp(a.app, 'alice')
  const bob = await signUp(a.app, 'bob')
  const carol = await signUp(a.app, 'carol')
  const created = await c.app.inject({ method: 'POST', url: '/api/conversations', headers: bearer(bob.accessToken), payload: { type: 'direct', userId: alice.id } })
  t.equal(created.statusCode, 201, 'alice and bob share a conversation')

  const bobOnC = await cluster.connect(c, bob.accessToken)
  const carolOnC = await cluster.connect(c, carol.accessToken)
  const [seenByBob, seenByCarol] = [record(bobOnC), record(carolOnC)]

  const aliceOnA = await cluster.connect(a, alice.accessToken)
  await waitFor(() => seenByBob.length === 1, 10_000, 'bob hears alice come online')
  t.same(seenByBob[0], { action: 'presence', userId: alice.id, online: true, lastSeenAt: null }, 'online pushed from A to bob on C')

  const aliceOnB = await cluster.connect(b, (await newSession(a.app, alice)).accessToken)
  t.same(await queried(bobOnC, alice.id), { online: true, lastSeenAt: null }, 'presence_query on C sees alice')
  await waitFor(async () => (await b.app.inject({ method: 'GET', url: `/api/users/${alice.id}`, headers: bearer(bob.accessToken) })).json().online === true,
    10_000, 'B shows alice online')
  await waitFor(() => c.app.users.isOnline(alice.id), 10_000, 'C mirrors alice online')
  t.equal(await c.app.presence.onlineCount(), 3, 'online users counted across the cluster (alice, bob, carol)')
  t.equal(await a.app.presence.onlineCount(), 3, 'the same count on A')

  // Her device on A leaves: she is still online on B, nobody hears anything.
  aliceOnA.disconnect()
  await waitFor(() => a.app.realtime.io.sockets.sockets.size === 0, 10_000, 'A saw the disconnect')
  await sleep(300)
  t.same(await queried(bobOnC, alice.id), { online: true, lastSeenAt: null }, 'still online with a device on B')
  const onB = await a.app.inject({ method: 'GET', url: `/api/users/${alice.id}`, headers: bearer(bob.accessToken) })
  t.equal(onB.json().online, true, 'A shows her online through the mirror')

  // The last device leaves: offline once, with the stored lastSeenAt.
  aliceOnB.disconnect()
  await waitFor(() => seenByBob.length >= 2, 10_000, 'bob hears alice go offline')
  t.match(seenByBob[1], { userId: alice.id, online: false, lastSeenAt: /^\d{4}-\d\d-\d\dT/ })
  const stored = await c.app.models.User.findById(alice.id).lean()
  t.equal(stored?.lastSeenAt?.toISOString(), seenByBob[1].lastSeenAt, 'lastSeenAt stored on the user')
  t.same(await queried(bobOnC, alice.id), { online: false, lastSeenAt: seenByBob[1].lastSeenAt }, 'presence_query agrees')
  await waitFor(() => !a.app.users.isOnline(alice.id) && !c.app.users.isOnline(alice.id), 10_000, 'mirrors agree')
  t.equal(await b.app.presence.onlineCount(), 2, 'count went down')

  // Ack round trips order after pushes to the same socket; then nothing more arrived.
  await queried(bobOnC, alice.id)
  await sleep(300)
  t.same(seenByBob.map(p => p.online), [true, false], 'bob heard online once and offline once, not once per instance')
  t.same(seenByCarol, [], 'carol shares no conversation with alice and heard nothing')
})

t.test('presence_query across instances refuses bad input and answers unknown ids offline', async t => {
  const { alice, bob, bobOnB } = await aliceOnASeenFromB(t)
  const unknown = '0123456789abcdef01234567'
  const ack = await emitAck(bobOnB, 'presence_query', { userIds: [alice.id, unknown, bob.id, alice.id] })
  t.same(ack, {
    ok: true,
    data: { [alice.id]: { online: true, lastSeenAt: null }, [unknown]: { online: false, lastSeenAt: null }, [bob.id]: { online: true, lastSeenAt: null } }
  })
  for (const bad of [{ userIds: [{ $gt: '' }] }, { userIds: 'x' }, { userIds: ['not-an-id'] }, { userIds: Array(201).fill(unknown) }, null]) {
    // Malformed on purpose: outside the typed maps.
    const refused = await emitRaw(untyped(bobOnB), 'presence_query', bad)
    t.match(refused, { ok: false, error: { code: 'VALIDATION_ERROR' } }, `refused: ${JSON.stringify(bad)?.slice(0, 40)}`)
  }
})
