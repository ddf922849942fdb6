/**
 * Presence survives instances that die and a Redis that restarts empty: a crashed instance's users go offline
 * within the bound (TTL + reaper period), pushed once with lastSeenAt, while users with a device elsewhere stay
 * online; after Redis lost everything, the instances re-announce their sockets and presence is whole again.
 */
import t from 'tap'
import { startCluster } from '../../helpers/cluster.js'
import { emitAck } from '../../helpers/realtime.js'
import { bearer } from '../../helpers/rest.js'
import { newSession, signUp } from '../../helpers/users.js'
import { sleep, waitFor } from '../../helpers/wait.js'
import { aliceOnASeenFromB, CRASH_BOUND_MS, queried, record, TEST_TIMING } from './presence-helpers.js'

t.test('a crashed instance: its users go offline within the bound, pushed once; multi-device users stay', async t => {
  const cluster = await startCluster(t, { instances: 3, presenceTiming: TEST_TIMING })
  const [host, a, b] = cluster.instances
  const alice = await signUp(host.app, 'alice')
  const bob = await signUp(host.app, 'bob')
  const carol = await signUp(host.app, 'carol')
  for (const other of [alice, carol]) {
    const created = await host.app.inject({ method: 'POST', url: '/api/conversations', headers: bearer(bob.accessToken), payload: { type: 'direct', userId: other.id } })
    t.equal(created.statusCode, 201)
  }
  const bobOnHost = await cluster.connect(host, bob.accessToken)
  const seen = record(bobOnHost)
  await cluster.connect(a, alice.accessToken)
  await cluster.connect(a, carol.accessToken)
  await cluster.connect(b, (await newSession(host.app, carol)).accessToken)
  await waitFor(() => seen.length === 2, 10_000, 'bob hears alice and carol come online')
  t.same(seen.map(p => [p.userId, p.online]).sort(), [[alice.id, true], [carol.id, true]].sort(), 'one online push each')

  const crashedAt = Date.now()
  await cluster.crash(a)
  await waitFor(() => seen.length === 3, CRASH_BOUND_MS, 'bob hears alice go offline')
  const heardAt = Date.now()
  t.match(seen[2], { action: 'presence', userId: alice.id, online: false, lastSeenAt: /^\d{4}-\d\d-\d\dT/ })
  const lastSeen = Date.parse(seen[2].lastSeenAt ?? '')
  // waitFor enforced the upper bound; a crash is no graceful leave, so it must not be reaped before the TTL ran out.
  t.ok(heardAt - lastSeen >= TEST_TIMING.ttlMs,
    `reaped ${heardAt - lastSeen} ms after the last heartbeat (ttl ${TEST_TIMING.ttlMs}; ${heardAt - crashedAt} ms after the crash)`)
  t.ok(lastSeen <= crashedAt + 100 && lastSeen >= crashedAt - TEST_TIMING.ttlMs, 'lastSeenAt: the crashed instance\'s last heartbeat')
  const stored = await host.app.models.User.findById(alice.id).lean()
  t.equal(stored?.lastSeenAt?.toISOString(), seen[2].lastSeenAt, 'stored on the user, once')
  t.same(await queried(bobOnHost, alice.id), { online: false, lastSeenAt: seen[2].lastSeenAt })
  t.same(await queried(bobOnHost, carol.id), { online: true, lastSeenAt: null }, 'carol still has a device on B')
  await waitFor(() => !b.app.users.isOnline(alice.id), 5000, 'B mirrors alice offline')
  t.equal(b.app.users.isOnline(carol.id), true)
  t.equal(await host.app.presence.onlineCount(), 2, 'bob and carol')

  // Every surviving instance ran its reaper several times meanwhile: still exactly one offline push.
  await sleep(4 * TEST_TIMING.reapMs)
  await queried(bobOnHost, alice.id)
  t.same(seen.map(p => [p.userId, p.online]).slice(2), [[alice.id, false]], 'one offline push for alice, none for carol')
})

t.test('Redis restarts empty: presence is rebuilt from the instances, nothing crashes meanwhile', async t => {
  const { cluster, a, b, alice, bob, bobOnB } = await aliceOnASeenFromB(t)

  // A key no instance writes: its absence shows the restart lost everything (the instances may re-announce
  // presence before the test can look, so the presence keys cannot show it).
  await cluster.redis.command('SET parley:test:sentinel 1')
  await cluster.redis.stop()
  await waitFor(() => a.app.cluster?.isUp() === false && b.app.cluster?.isUp() === false, 10_000, 'both noticed the outage')
  t.same(await queried(bobOnB, alice.id), { online: true, lastSeenAt: null }, 'presence_query answers from the mirror')
  const during = await b.app.inject({ method: 'GET', url: `/api/users/${alice.id}`, headers: bearer(bob.accessToken) })
  t.equal(during.statusCode, 200, 'public users still answer')
  t.equal(during.json().online, true)
  t.ok(await b.app.presence.onlineCount() >= 2, 'the count falls back to the local view')

  await cluster.redis.start()
  t.equal(await cluster.redis.command('EXISTS parley:test:sentinel'), ':0', 'Redis came back empty')
  await waitFor(async () => await cluster.redis.command(`SISMEMBER parley:presence:online ${alice.id}`) === ':1', 20_000, 'A re-announced alice')
  await waitFor(async () => await cluster.redis.command(`SISMEMBER parley:presence:online ${bob.id}`) === ':1', 20_000, 'B re-announced bob')
  t.same(await queried(bobOnB, alice.id), { online: true, lastSeenAt: null }, 'alice online again, read from Redis on B')
  t.equal(await a.app.presence.onlineCount(), 2, 'counted from Redis again')
  // B's mirror: rebuilt when B's own link is back (its subscriber may have missed A's announcement before that).
  await waitFor(async () => (await b.app.inject({ method: 'GET', url: `/api/users/${alice.id}`, headers: bearer(bob.accessToken) })).json().online === true,
    10_000, 'public documents on B show alice online again')
  const ack = await emitAck(bobOnB, 'presence_query', { userIds: [bob.id] })
  t.same(ack, { ok: true, data: { [bob.id]: { online: true, lastSeenAt: null } } })
})

t.test('an instance that stalled past the TTL is reaped, then announces its users again', async t => {
  const cluster = await startCluster(t, { instances: 2, presenceTiming: TEST_TIMING })
  const [host, a] = cluster.instances
  const alice = await signUp(host.app, 'alice')
  const bob = await signUp(host.app, 'bob')
  const created = await host.app.inject({ method: 'POST', url: '/api/conversations', headers: bearer(bob.accessToken), payload: { type: 'direct', userId: alice.id } })
  t.equal(created.statusCode, 201)
  const bobOnHost = await cluster.connect(host, bob.accessToken)
  const seen = record(bobOnHost)
  await cluster.connect(a, alice.accessToken)
  await waitFor(() => seen.length === 1, 10_000, 'online')

  a.store.retime({ heartbeatMs: 60_000 }) // A goes silent (a long pause, a partition) but keeps its sockets
  await waitFor(() => seen.length === 2, CRASH_BOUND_MS, 'reaped: offline')
  t.match(seen[1], { userId: alice.id, online: false })
  a.store.retime({ heartbeatMs: TEST_TIMING.heartbeatMs })
  await waitFor(() => seen.length === 3, 10_000, 'A announced her again')
  t.same(seen[2], { action: 'presence', userId: alice.id, online: true, lastSeenAt: seen[1].lastSeenAt }, 'online again, with the stored lastSeenAt')
  t.same(await queried(bobOnHost, alice.id), { online: true, lastSeenAt: seen[1].lastSeenAt })
  await waitFor(() => host.app.users.isOnline(alice.id), 5000, 'mirrored')
})
