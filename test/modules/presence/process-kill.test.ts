/**
 * A real crash: a Parley process (src/server.ts) with a user connected is killed with SIGKILL. Nothing of it runs
 * afterwards, so only the surviving instance's reaper can end that user's presence: with the default timing
 * (TTL 15 s, reaper every 5 s ± 20 %) the friend hears `online: false` once, within the documented bound.
 */
import t from 'tap'
import { TEST_SECRET } from '../../helpers/build-app.js'
import { startCluster } from '../../helpers/cluster.js'
import { startParleyProcess } from '../../helpers/processes.js'
import { socketConnector } from '../../helpers/realtime.js'
import { bearer } from '../../helpers/rest.js'
import { signUp } from '../../helpers/users.js'
import { sleep, waitFor } from '../../helpers/wait.js'
import { queried, record } from './presence-helpers.js'

/** Defaults of RedisPresenceStore: ttlMs + 1.2 × reapMs = 21 s, plus room for a loaded machine. */
const DEFAULT_TTL_MS = 15_000
const DEFAULT_BOUND_MS = 21_000
const SLACK_MS = 8_000

t.test('kill -9 of an instance: its users go offline within the bound, pushed once', async t => {
  // The survivor, in this process with the default presence timing; it hosts the database the doomed process joins.
  const cluster = await startCluster(t, { instances: 1 })
  const [survivor] = cluster.instances
  const doomed = await startParleyProcess(t, { REDIS_URL: cluster.redis.url, MONGODB_URL: cluster.databaseUrl, JWT_SECRET: TEST_SECRET })
  const connect = socketConnector(t)

  const alice = await signUp(survivor.app, 'alice')
  const bob = await signUp(survivor.app, 'bob')
  const created = await survivor.app.inject({ method: 'POST', url: '/api/conversations', headers: bearer(bob.accessToken), payload: { type: 'direct', userId: alice.id } })
  t.equal(created.statusCode, 201)

  const bobSocket = await cluster.connect(survivor, bob.accessToken)
  const seen = record(bobSocket)
  await connect(doomed.url, alice.accessToken)
  await waitFor(() => seen.length === 1, 10_000, 'bob hears alice come online (pushed by the other process)')
  t.match(seen[0], { userId: alice.id, online: true })
  t.equal(survivor.app.users.isOnline(alice.id), true, 'the survivor mirrors her')

  const killedAt = Date.now()
  await doomed.kill()
  await waitFor(() => seen.length === 2, DEFAULT_BOUND_MS + SLACK_MS, 'bob hears alice go offline')
  const heardAt = Date.now()
  t.match(seen[1], { userId: alice.id, online: false, lastSeenAt: /^\d{4}-/ })
  const lastSeen = Date.parse(seen[1].lastSeenAt ?? '')
  // waitFor enforced the upper bound; nothing told the survivor, so only the TTL running out can have ended her presence.
  t.ok(heardAt - lastSeen >= DEFAULT_TTL_MS,
    `reaped ${heardAt - lastSeen} ms after the last heartbeat (ttl ${DEFAULT_TTL_MS}; ${heardAt - killedAt} ms after kill -9)`)
  t.ok(lastSeen <= killedAt + 100 && lastSeen > killedAt - 15_000, 'lastSeenAt: the dead process\'s last heartbeat')
  t.same(await queried(bobSocket, alice.id), { online: false, lastSeenAt: seen[1].lastSeenAt })
  t.equal(survivor.app.users.isOnline(alice.id), false)
  t.equal(await survivor.app.presence.onlineCount(), 1, 'bob alone')
  await sleep(1000)
  t.equal(seen.length, 2, 'pushed once')
})
