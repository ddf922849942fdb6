/**
 * Parley's own metrics at /metrics (docs/operations.md): after a real socket.io-client sends a chat_message and
 * gets its ack, each shows a plausible value.
 */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/build-app.js'
import { openDirect } from '../helpers/conversations.js'
import { emitOk, emitRaw, nextEvent, startRealtimeApp, untyped } from '../helpers/realtime.js'
import { startTestRedis } from '../helpers/redis-server.js'
import { signUp } from '../helpers/users.js'
import { waitFor } from '../helpers/wait.js'

interface Sample { name: string, labels: Record<string, string>, value: number }

/** The samples of a Prometheus text exposition. */
function parse (body: string): Sample[] {
  const samples: Sample[] = []
  for (const line of body.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null) continue
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key, value]))
    samples.push({ name: match[1], labels, value: Number(match[3]) })
  }
  return samples
}

async function scrape (app: FastifyInstance): Promise<(name: string, labels?: Record<string, string>) => number | undefined> {
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`)
  const samples = parse(res.body)
  // The sample with this name whose labels include these (undefined when there is none).
  return (name, labels = {}) => samples.find(sample => sample.name === name &&
    Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value
}

t.test('a chat_message over a real socket shows in every realtime and storage metric', async t => {
  const kit = await startRealtimeApp(t, { RATE_LIMIT_MESSAGES: '0' })
  const alice = await signUp(kit.app, 'alice')
  const bob = await signUp(kit.app, 'bob')
  const conversationId = await openDirect(kit.app, alice, bob)
  const aliceSocket = await kit.connect(alice.accessToken)
  const bobSocket = await kit.connect(bob.accessToken)

  const delivered = nextEvent(bobSocket, 're_message')
  const message = await emitOk(aliceSocket, 'chat_message', { conversationId, body: 'hello metrics', clientMsgId: 'm1' })
  t.equal((await delivered).message.id, message.id, 'bob got it')
  // Refusals, for their outcome classes: a payload the schema refuses, and an event nobody serves.
  t.match(await emitRaw(untyped(aliceSocket), 'chat_message', { body: 42 }), { ok: false, error: { code: 'VALIDATION_ERROR' } })
  t.match(await emitRaw(untyped(aliceSocket), 'no_such_event_123', {}), { ok: false, error: { code: 'UNKNOWN_EVENT' } })
  // A command the database refuses: a failed command (under `other`, not under its own unbounded name).
  await t.rejects(kit.app.storage.connection.db!.command({ noSuchCommand123: 1 }))

  let metric = await scrape(kit.app)
  t.equal(metric('parley_sockets_connected'), 2, 'both sockets are connected')
  t.equal(metric('parley_socket_events_total', { event: 'chat_message', outcome: 'ok' }), 1, 'one acked send')
  t.equal(metric('parley_socket_events_total', { event: 'chat_message', outcome: 'bad_request' }), 1, 'one refused payload')
  t.equal(metric('parley_socket_events_total', { event: 'other', outcome: 'bad_request' }), 1, 'the unknown event, under `other`')
  t.equal(metric('parley_socket_events_total', { event: 'no_such_event_123' }), undefined, 'no series for a client-chosen name')
  t.equal(metric('parley_socket_ack_seconds_count', { event: 'chat_message' }), 2, 'both chat_message acks are timed')
  const ackSeconds = metric('parley_socket_ack_seconds_sum', { event: 'chat_message' }) ?? 0
  t.ok(ackSeconds > 0 && ackSeconds < 5, `the acks took ${ackSeconds} s`)
  t.ok((metric('parley_socket_emits_total', { event: 're_message' }) ?? 0) >= 1, 're_message was emitted')
  t.ok((metric('parley_socket_emits_total', { event: 'conversation_updated' }) ?? 0) >= 1, 'so was the conversation update')
  t.equal(metric('parley_message_fanout_count'), 1, 'one new message')
  t.equal(metric('parley_message_fanout_sum'), 1, 'delivered to one local socket (bob\'s; alice got the ack)')
  t.equal(metric('parley_message_fanout_bucket', { le: '0' }), 0)
  t.equal(metric('parley_message_fanout_bucket', { le: '1' }), 1)
  for (const command of ['insert', 'find']) {
    t.ok((metric('parley_storage_command_seconds_count', { command }) ?? 0) > 0, `${command} commands are timed`)
  }
  t.equal(metric('parley_storage_command_errors_total', { command: 'other' }), 1, 'the refused command')
  t.equal(metric('parley_storage_command_errors_total', { command: 'insert' }), undefined, 'no insert failed')
  t.not(metric('nodejs_eventloop_lag_seconds'), undefined, 'event-loop lag is among the defaults')
  t.not(metric('nodejs_eventloop_lag_p99_seconds'), undefined)
  t.equal(metric('parley_redis_up'), undefined, 'no Redis gauge without a cluster')

  bobSocket.disconnect()
  await waitFor(async () => (await scrape(kit.app))('parley_sockets_connected') === 1, 5000, 'the gauge to drop')
  metric = await scrape(kit.app)
  t.equal(metric('parley_sockets_connected'), 1, 'one socket left')
})

t.test('apps built one after another in one process each register their metrics afresh', async t => {
  for (let i = 0; i < 2; i++) {
    const app = await buildTestApp(t)
    const metric = await scrape(app)
    t.equal(metric('parley_sockets_connected'), 0, `app ${i}: no sockets yet`)
    await app.close()
  }
})

t.test('with a cluster, parley_redis_up follows the Redis connection', async t => {
  const redis = await startTestRedis(t)
  const app = await buildTestApp(t, { REDIS_URL: redis.url }, { build: { cluster: { maxRetryDelayMs: 100 } } })
  t.equal((await scrape(app))('parley_redis_up'), 1, 'up')
  await redis.stop()
  await waitFor(async () => (await scrape(app))('parley_redis_up') === 0, 5000, 'the gauge to drop')
  await redis.start()
  await waitFor(async () => (await scrape(app))('parley_redis_up') === 1, 10_000, 'the gauge to come back')
  t.pass('down during the outage, up again after it')
})
