/** Presence test helpers: short Redis presence store timings for a cluster, and reading presence off a socket. */
import type { PresenceState } from 'parley/events'
import type { RedisPresenceTiming } from '../../../src/modules/presence/redis-presence.store.js'
import type { TeardownHost } from '../../helpers/build-app.js'
import { startCluster } from '../../helpers/cluster.js'
import { openDirect } from '../../helpers/conversations.js'
import { collect, emitOk, type ParleyClient } from '../../helpers/realtime.js'
import { signUp } from '../../helpers/users.js'
import { waitFor } from '../../helpers/wait.js'

/** Short but tolerant: five heartbeats per TTL, so a loaded machine does not get a live instance reaped. */
export const TEST_TIMING: Required<RedisPresenceTiming> = { ttlMs: 3000, heartbeatMs: 400, reapMs: 400, mirrorResyncMs: 2000 }
/** ttlMs + 1.2 × reapMs, the documented bound, plus room for a loaded machine. */
export const CRASH_BOUND_MS = TEST_TIMING.ttlMs + 1.2 * TEST_TIMING.reapMs + 6000

/** Every `presence` event the socket receives from now on, in order. */
export const record = (socket: ParleyClient) => collect(socket, 'presence')

/** presence_query for one user, through a socket. */
export async function queried (socket: ParleyClient, userId: string): Promise<PresenceState> {
  return (await emitOk(socket, 'presence_query', { userIds: [userId] }))[userId]
}

/** Two instances with TEST_TIMING: alice (on A) and bob (on B) share a conversation; ready once B sees her online. */
export async function aliceOnASeenFromB (t: TeardownHost) {
  const cluster = await startCluster(t, { instances: 2, presenceTiming: TEST_TIMING })
  const [a, b] = cluster.instances
  const alice = await signUp(a.app, 'alice')
  const bob = await signUp(a.app, 'bob')
  // presence_query answers only about contacts.
  await openDirect(a.app, alice, bob)
  await cluster.connect(a, alice.accessToken)
  const bobOnB = await cluster.connect(b, bob.accessToken)
  await waitFor(async () => (await queried(bobOnB, alice.id)).online, 10_000, 'alice online seen from B')
  return { cluster, a, b, alice, bob, bobOnB }
}
