import t from 'tap'
import Fastify from 'fastify'
import clusterPlugin from '../../src/cluster/cluster.plugin.js'
import readinessPlugin from '../../src/plugins/readiness.plugin.js'
import { testConfig, buildTestApp } from '../helpers/build-app.js'
import { freePort } from '../helpers/redis-server.js'
import { parseRevocation } from '../../src/cluster/revocation-relay.js'
import { startCluster } from '../helpers/cluster.js'
import { signUp } from '../helpers/users.js'
import { waitFor } from '../helpers/wait.js'

t.test('without REDIS_URL app.cluster is null and /ready checks MongoDB only', async t => {
  const app = await buildTestApp(t)
  t.equal(app.cluster, null)
  const res = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(res.statusCode, 200)
  t.same(Object.keys(res.json().checks), ['mongodb'])
})

t.test('an unreachable REDIS_URL fails the start with an error naming it', async t => {
  const port = await freePort()
  // The cluster plugin alone (a whole app would leave its embedded database running when a plugin fails).
  const app = Fastify({ logger: false })
  app.decorate('config', testConfig({ REDIS_URL: `redis://:secret@127.0.0.1:${port}` }))
  await app.register(readinessPlugin)
  void app.register(clusterPlugin, { connectTimeoutMs: 300 })
  t.teardown(async () => { await app.close().catch(() => {}) })
  const started = Date.now()
  try {
    await app.ready()
    t.fail('started without Redis')
  } catch (error) {
    const message = (error as Error).message
    t.match(message, /^REDIS_URL: could not connect to redis:\/\/\*\*\*@127\.0\.0\.1/)
    t.notMatch(message, /secret/, 'the password is not in the message')
  }
  t.ok(Date.now() - started < 5000, 'within the connect timeout')
})

t.test('channels: JSON payloads reach every instance, this one included; bad payloads are ignored', async t => {
  const cluster = await startCluster(t, { instances: 2 })
  const [a, b] = cluster.instances.map(i => i.app.cluster!)
  t.not(a.instanceId, b.instanceId)
  t.ok(a.isUp() && b.isUp())
  const seenA: unknown[] = []
  const seenB: unknown[] = []
  const stopA = a.subscribe('test', p => { seenA.push(p) })
  b.subscribe('test', p => { seenB.push(p) })
  // A listener that throws must not stop the others.
  b.subscribe('test', () => { throw new Error('listener bug') })
  // Subscriptions are asynchronous: publish until both hear the first.
  await waitFor(async () => {
    a.publish('test', { n: 0 })
    await new Promise(resolve => setTimeout(resolve, 50))
    return seenA.length > 0 && seenB.length > 0
  }, 5000, 'subscriptions')
  seenA.length = 0
  seenB.length = 0
  // Garbage on the channel (not JSON) from a foreign publisher, then a good payload.
  await a.redis.publish('parley:test', '{not json')
  b.publish('test', { n: 1, nested: { ok: true } })
  await waitFor(() => seenA.length === 1 && seenB.length === 1, 5000, 'the payload')
  t.same(seenA, [{ n: 1, nested: { ok: true } }])
  t.same(seenB, [{ n: 1, nested: { ok: true } }])
  // Not serialisable: logged, nothing sent, no throw.
  const circular: Record<string, unknown> = {}
  circular.self = circular
  a.publish('test', circular)
  stopA()
  b.publish('test', { n: 2 })
  await waitFor(() => seenB.length === 2, 5000, 'the second payload')
  t.same(seenA, [{ n: 1, nested: { ok: true } }], 'unsubscribed')

  const ready = await cluster.instances[0].app.inject({ method: 'GET', url: '/ready' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json().checks, { mongodb: 'ok', redis: 'ok' })
})

t.test('revocation payloads are validated', async t => {
  const good = { sid: 'a'.repeat(24), userId: 'b'.repeat(24), reason: 'logout', revokedAt: new Date().toISOString() }
  t.same(parseRevocation(good), { ...good, revokedAt: new Date(good.revokedAt) })
  for (const bad of [
    null, 'x', 42, [], {},
    { ...good, sid: { $gt: '' } },
    { ...good, sid: 'a'.repeat(23) },
    { ...good, userId: 7 },
    { ...good, reason: 'because' },
    { ...good, revokedAt: 'yesterday' },
    { ...good, revokedAt: 1 }
  ]) {
    t.equal(parseRevocation(bad), null, JSON.stringify(bad))
  }
})

t.test('an instance closes cleanly while Redis is down', async t => {
  const cluster = await startCluster(t, { instances: 1 })
  const [A] = cluster.instances
  const user = await signUp(A.app, 'hank')
  await cluster.connect(A, user.accessToken)
  await cluster.redis.stop()
  await waitFor(() => A.app.cluster?.isUp() === false, 5000, 'the outage')
  // Broadcasts and (un)subscriptions made now fail inside ioredis: none may surface as an unhandled rejection.
  A.app.realtime.io.emit('typing', { action: 'typing', conversationId: 'c', userId: 'u', isTyping: true })
  A.app.cluster!.publish('test', { during: 'outage' })
  const stop = A.app.cluster!.subscribe('late', () => {})
  stop()
  const started = Date.now()
  await A.app.close()
  t.ok(Date.now() - started < 3000, `closed in ${Date.now() - started} ms`)
  // Closed clients stay closed: Redis coming back does not revive them.
  await cluster.redis.start()
  await new Promise(resolve => setTimeout(resolve, 600))
  const { redis, pub, sub } = A.app.cluster!
  t.same([redis, pub, sub].filter(c => c.status === 'ready' || c.status === 'connecting'), [], 'no client reconnected')
})
