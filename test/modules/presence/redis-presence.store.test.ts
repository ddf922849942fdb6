/**
 * RedisPresenceStore against a real Redis, several stores standing for several instances (each with its own
 * cluster connections from the real cluster plugin): cluster-wide first/last answered once under concurrency,
 * the mirror, reaping a crashed instance once, re-announcing after being reaped alive or after Redis lost its data,
 * and never throwing while Redis is down.
 */
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import readinessPlugin from '../../../src/plugins/readiness.plugin.js'
import clusterPlugin from '../../../src/cluster/cluster.plugin.js'
import { RedisPresenceStore } from '../../../src/modules/presence/redis-presence.store.js'
import type { PresenceTransition } from '../../../src/modules/presence/presence.store.js'
import type { TeardownHost } from '../../helpers/build-app.js'
import { startTestRedis } from '../../helpers/redis-server.js'
import { sleep, waitFor } from '../../helpers/wait.js'
import { CRASH_BOUND_MS, TEST_TIMING } from './presence-helpers.js'

interface Node { store: RedisPresenceStore, heard: PresenceTransition[][], app: FastifyInstance }

async function startNodes (t: TeardownHost, url: string, count: number): Promise<Node[]> {
  const nodes: Node[] = []
  t.teardown(async () => {
    for (const node of nodes) await node.store.close()
    for (const node of nodes) await node.app.close()
  })
  for (let i = 0; i < count; i++) {
    const app = Fastify({ logger: false })
    app.decorate('config', { redisUrl: url } as unknown as FastifyInstance['config'])
    await app.register(readinessPlugin)
    await app.register(clusterPlugin, { maxRetryDelayMs: 300 })
    await app.ready()
    if (app.cluster === null) throw new Error('expected a cluster')
    const store = new RedisPresenceStore({ cluster: app.cluster, log: app.log, ...TEST_TIMING })
    const heard: PresenceTransition[][] = []
    store.onTransitions(transitions => { heard.push(transitions) })
    await store.start()
    nodes.push({ store, heard, app })
  }
  return nodes
}

const id = (n: number): string => n.toString(16).padStart(24, 'a')

t.test('first and last socket cluster-wide are answered once, even all at once', async t => {
  const redis = await startTestRedis(t)
  const [a, b, c] = await startNodes(t, redis.url, 3)
  const u = id(1)
  t.equal(await a.store.add(u, 's1'), true, 'first socket anywhere: online')
  t.equal(await b.store.add(u, 's2'), false, 'a second device on another instance: no change')
  t.equal(await b.store.add(u, 's2'), false, 'a repeated add counts once')
  t.equal(await a.store.remove(u, 's1'), false, 'one device left on B')
  t.equal(await c.store.remove(u, 's9'), false, 'an unknown socket changes nothing')
  t.same([...await c.store.onlineAmong([u, id(2)])], [u], 'C reads the shared state')
  t.equal(await b.store.remove(u, 's2'), true, 'last socket anywhere: offline')
  t.equal(await b.store.remove(u, 's2'), false, 'removing it again changes nothing')

  const v = id(3)
  const adds = await Promise.all([a, b, c].flatMap((node, i) => Array.from({ length: 10 }, async (_, j) => await node.store.add(v, `s${i}-${j}`))))
  t.equal(adds.filter(Boolean).length, 1, '30 concurrent adds on 3 instances: one is the first')
  t.equal(await a.store.count(), 1)
  await waitFor(() => a.store.isOnline(v) && b.store.isOnline(v) && c.store.isOnline(v), 5000, 'mirrors heard it')
  const removes = await Promise.all([a, b, c].flatMap((node, i) => Array.from({ length: 10 }, async (_, j) => await node.store.remove(v, `s${i}-${j}`))))
  t.equal(removes.filter(Boolean).length, 1, '30 concurrent removes: one is the last')
  t.equal(await c.store.count(), 0)
  await waitFor(() => !a.store.isOnline(v) && !b.store.isOnline(v) && !c.store.isOnline(v), 5000, 'mirrors heard it')
  t.equal(await a.store.count(), 0)
  t.same(a.heard.concat(b.heard, c.heard), [], 'no transitions outside add/remove')
})

t.test('a crashed instance is reaped once, within ttl + reaper period; a graceful one leaves at once', async t => {
  const redis = await startTestRedis(t)
  const [a, b, c, d] = await startNodes(t, redis.url, 4)
  const [u1, u2, u3] = [id(11), id(12), id(13)]
  await a.store.add(u1, 'a1')
  await a.store.add(u2, 'a2')
  await b.store.add(u2, 'b2')
  await d.store.add(u3, 'd3')
  await waitFor(() => c.store.isOnline(u1) && c.store.isOnline(u2), 5000, 'C mirrors them')

  const crashedAt = Date.now()
  a.store.simulateCrash()
  t.equal(await a.store.remove(u1, 'a1'), false, 'a crashed store says nothing more')
  await waitFor(() => !c.store.isOnline(u1), CRASH_BOUND_MS, 'u1 reaped')
  const took = Date.now() - crashedAt
  t.ok(took >= TEST_TIMING.ttlMs - 1000, `not reaped before the TTL ran out (${took} ms)`)
  await sleep(3 * TEST_TIMING.reapMs)
  const reaped = [...b.heard, ...c.heard, ...d.heard].flat()
  t.same(reaped.map(r => [r.userId, r.online]), [[u1, false]], 'u1 offline, reported by exactly one instance; u2 is still on B')
  t.ok(reaped[0].at.getTime() <= crashedAt + 50 && reaped[0].at.getTime() > crashedAt - 2000, 'at: the dead instance\'s last heartbeat')
  t.equal(c.store.isOnline(u2), true)
  t.same([...await c.store.onlineAmong([u1, u2])], [u2])

  // Graceful: D leaves, its user is offline at once (no TTL wait), and D itself reports it.
  const before = d.heard.length
  await d.store.close()
  t.same(d.heard.slice(before).flat().map(r => [r.userId, r.online]), [[u3, false]], 'the leaving instance reports its users')
  t.same([...await b.store.onlineAmong([u3])], [], 'offline at once')
})

t.test('an instance reaped while alive (stalled) comes back with its users', async t => {
  const redis = await startTestRedis(t)
  const [a, b] = await startNodes(t, redis.url, 2)
  const u = id(21)
  await a.store.add(u, 'a1')
  a.store.retime({ heartbeatMs: 60_000 }) // stalls: no heartbeat
  await waitFor(() => b.heard.flat().some(r => r.userId === u && !r.online), 15_000, 'B reaps the stalled instance')
  t.same([...await b.store.onlineAmong([u])], [], 'offline while A is silent')
  a.store.retime({ heartbeatMs: TEST_TIMING.heartbeatMs })
  await waitFor(() => a.heard.flat().some(r => r.userId === u && r.online), 15_000, 'A re-announces')
  t.same([...await b.store.onlineAmong([u])], [u], 'online again cluster-wide')
  await waitFor(() => b.store.isOnline(u), 5000, 'B mirrors it')
  t.equal(await a.store.remove(u, 'a1'), true, 'and the count is exact again')
})

t.test('Redis down: nothing throws, answers fall back; after a restart (data lost) the state is rebuilt', async t => {
  const redis = await startTestRedis(t)
  const [a, b] = await startNodes(t, redis.url, 2)
  const [u, w, x] = [id(31), id(32), id(33)]
  await a.store.add(u, 'a1')
  await a.store.add(x, 'ax')
  await b.store.add(w, 'b1')
  await waitFor(() => b.store.isOnline(u) && a.store.isOnline(w), 5000, 'mirrors')

  await redis.stop()
  await waitFor(() => !a.app.cluster?.isUp(), 5000, 'A noticed')
  t.equal(await a.store.add(u, 'a2'), false, 'a second local device: not first, from the local view')
  t.equal(await a.store.remove(x, 'ax'), true, 'last local device: offline, from the local view')
  t.same([...await b.store.onlineAmong([u, w, x])].sort(), [u, w, x].sort(), 'B answers from its mirror (x left A during the outage: B cannot know)')
  t.same([...await a.store.onlineAmong([u, w, x])].sort(), [u, w].sort(), 'A answers from its own sockets and its mirror')
  t.equal(await a.store.count(), 2, 'count from the local view (u and the mirrored w)')
  t.equal(b.store.isOnline(u), true, 'isOnline keeps answering')

  await redis.start()
  await waitFor(async () => {
    const online = await b.store.onlineAmong([u, w, x])
    return online.has(u) && online.has(w) && !online.has(x) && b.app.cluster?.isUp() === true
  }, 15_000, 'rebuilt in Redis')
  t.equal(await a.store.count(), 2, 'u and w, counted once each')
  await waitFor(() => b.store.isOnline(u) && !b.store.isOnline(x), 5000, 'B mirror rebuilt')
  t.equal(await a.store.remove(u, 'a1'), false, 'u still has a2')
  t.equal(await a.store.remove(u, 'a2'), true, 'counts survived the restart exactly')
})
