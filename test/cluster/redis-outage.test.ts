import { Writable } from 'node:stream'
import t from 'tap'
import { startCluster } from '../helpers/cluster.js'
import { openDirect } from '../helpers/conversations.js'
import { arrives, emitAck, nextEvent } from '../helpers/realtime.js'
import { api } from '../helpers/rest.js'
import { newSession, signUp } from '../helpers/users.js'
import { waitFor } from '../helpers/wait.js'

/** Collects the instances' JSON log lines. */
function logSink (): { stream: Writable, lines: Array<{ level: number, msg: string }> } {
  const lines: Array<{ level: number, msg: string }> = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line))
      done()
    }
  })
  return { stream, lines }
}

t.test('a Redis outage: REST and local sockets keep working, then resync and cross-instance delivery resume', async t => {
  const logs = logSink()
  const cluster = await startCluster(t, {
    instances: 2,
    env: { RATE_LIMIT_MESSAGES: '50' },
    build: { revocationPollMs: 0, cluster: { maxRetryDelayMs: 200 }, logger: { level: 'info', stream: logs.stream } }
  })
  const [A, B] = cluster.instances
  const alice = await signUp(A.app, 'alice')
  const bob = await signUp(B.app, 'bob')
  const carol = await signUp(B.app, 'carol')
  const bobOnA = await newSession(A.app, bob)
  const conversationId = await openDirect(A.app, alice, bob)

  const aliceA = await cluster.connect(A, alice.accessToken)
  const bobA = await cluster.connect(A, bobOnA.accessToken)
  const bobB = await cluster.connect(B, bob.accessToken)
  const carolB = await cluster.connect(B, carol.accessToken)
  const before = nextEvent(bobB, 're_message')
  t.equal((await emitAck(aliceA, 'chat_message', { conversationId, body: 'before' })).ok, true)
  t.equal((await before).message.seq, 1, 'cross-instance delivery before the outage')

  await cluster.redis.stop()
  await waitFor(() => cluster.instances.every(i => i.app.cluster?.isUp() === false), 5000, 'the outage to be noticed')

  for (const instance of [A, B]) {
    const ready = await instance.app.inject({ method: 'GET', url: '/ready' })
    t.equal(ready.statusCode, 503, '/ready answers 503')
    t.equal(ready.json().checks.mongodb, 'ok')
    t.equal(ready.json().checks.redis, 'unavailable', 'and names redis')
  }
  // REST: login (the login limiter falls back to memory), send, history, on both instances.
  const second = await newSession(B.app, alice)
  t.ok(second.accessToken, 'login works on B')
  const sentOnB = await api(B.app, second)('POST', `/api/conversations/${conversationId}/messages`, { body: 'during, REST on B' })
  t.equal(sentOnB.statusCode, 201, 'a REST send is stored')
  const history = await api(A.app, bob)('GET', `/api/conversations/${conversationId}/messages`)
  t.equal(history.statusCode, 200)
  t.same(history.json().items.map((m: { body: string }) => m.body), ['before', 'during, REST on B'], 'history on A has it')

  // Local delivery on A still works; B cannot hear of it until Redis is back.
  const localOnA = nextEvent(bobA, 're_message')
  const missedOnB = arrives(bobB, 're_message', 300)
  const duringAck = await emitAck(aliceA, 'chat_message', { conversationId, body: 'during, socket on A' })
  t.equal(duringAck.ok, true, 'a socket send is acked')
  t.equal((await localOnA).message.body, 'during, socket on A', 'delivered to the local socket')
  t.equal(await missedOnB, false, 'not on B (Redis is down)')

  // Cluster-wide queries fail fast instead of hanging; membership changes still apply locally.
  const started = Date.now()
  await A.app.realtime.io.fetchSockets().then(() => t.fail('fetchSockets answered without Redis'), () => {})
  t.ok(Date.now() - started < 3000, 'fetchSockets gave up quickly')
  // A conversation created during the outage: carol's socket on B cannot be told.
  const withCarol = await openDirect(A.app, alice, carol)
  // ...but the creator's own socket on A joined its room at once, without Redis.
  const local = await A.app.realtime.io.local.in(`conversation:${withCarol}`).fetchSockets()
  t.same(local.map(s => s.id), [aliceA.id], 'joins apply to local sockets during the outage')

  const resyncA = nextEvent(aliceA, 'resync', 15_000)
  const resyncB = nextEvent(bobB, 'resync', 15_000)
  const resyncCarol = nextEvent(carolB, 'resync', 15_000)
  await cluster.redis.start()
  t.same(await resyncA, { action: 'resync', reason: 'cluster_reconnected' }, 'resync on A')
  t.same(await resyncB, { action: 'resync', reason: 'cluster_reconnected' }, 'resync on B')
  await resyncCarol
  t.ok(cluster.instances.every(i => i.app.cluster?.isUp() === true), 'both instances are up')
  const ready = await B.app.inject({ method: 'GET', url: '/ready' })
  t.equal(ready.statusCode, 200, '/ready is 200 again')

  // What B's socket missed comes through sync.
  const synced = await emitAck(bobB, 'sync', { cursors: [{ conversationId, afterSeq: 1 }] })
  if (!synced.ok) throw new Error(JSON.stringify(synced))
  t.same(synced.data.conversations[0].messages.map((m: { body: string }) => m.body), ['during, REST on B', 'during, socket on A'])

  // Cross-instance delivery again, including the conversation created during the outage (rooms were repaired).
  const after = nextEvent(bobB, 're_message')
  t.equal((await emitAck(aliceA, 'chat_message', { conversationId, body: 'after' })).ok, true)
  t.equal((await after).message.body, 'after', 'A to B works again')
  const toCarol = nextEvent(carolB, 're_message')
  t.equal((await emitAck(aliceA, 'chat_message', { conversationId: withCarol, body: 'hi carol' })).ok, true)
  t.equal((await toCarol).message.body, 'hi carol', 'the room joined during the outage was repaired on B')

  const lost = logs.lines.filter(l => l.msg.startsWith('redis: connection lost'))
  const restored = logs.lines.filter(l => l.msg.startsWith('redis: connection restored'))
  t.equal(lost.length, 2, 'the outage is logged once per instance')
  t.equal(lost[0].level, 40, 'as a warning')
  t.equal(restored.length, 2, 'the recovery too')
  t.same(logs.lines.filter(l => l.level >= 50), [], 'no errors logged')
})
