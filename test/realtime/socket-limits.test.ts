/**
 * One socket cannot make the server do unbounded work: events of any kind count against RATE_LIMIT_SOCKET_EVENTS
 * per 10 s, and at most MAX_EVENTS_IN_FLIGHT run at once; past either, the event is answered RATE_LIMITED and
 * nothing else changes (the socket stays connected and is served again once under the limits).
 */
import t from 'tap'
import { MAX_EVENTS_IN_FLIGHT } from '../../src/realtime/connection.js'
import { emitAck, startRealtimeApp } from '../helpers/realtime.js'
import { signUp } from '../helpers/users.js'

t.test('events over the per-socket budget are answered RATE_LIMITED; other sockets are not affected', async t => {
  const kit = await startRealtimeApp(t, { RATE_LIMIT_SOCKET_EVENTS: '20' })
  const alice = await signUp(kit.app, 'alice')
  const [busy, calm] = await Promise.all([kit.connect(alice.accessToken), kit.connect(alice.accessToken)])
  const answers = []
  for (let i = 0; i < 25; i++) answers.push(await emitAck(busy, 'presence_query', { userIds: [alice.id] }))
  t.equal(answers.filter(ack => ack.ok).length, 20, 'the budget passes')
  const refused = answers.filter(ack => !ack.ok)
  t.equal(refused.length, 5)
  t.match(refused[0], { ok: false, error: { code: 'RATE_LIMITED', message: /retry in \d+ s/ } })
  t.ok(busy.connected, 'the socket stays connected')
  t.match(await emitAck(calm, 'presence_query', { userIds: [alice.id] }), { ok: true }, 'another socket of the same user has its own budget')
})

t.test('more events in flight than the cap: the excess is answered at once, every event gets an answer', async t => {
  const kit = await startRealtimeApp(t, { RATE_LIMIT_SOCKET_EVENTS: '0' })
  const alice = await signUp(kit.app, 'alice')
  const socket = await kit.connect(alice.accessToken)
  const total = MAX_EVENTS_IN_FLIGHT * 3
  const answers = await Promise.all(Array.from({ length: total }, async () => await emitAck(socket, 'sync', {}, 20_000)))
  const limited = answers.filter(ack => !ack.ok && ack.error.code === 'RATE_LIMITED').length
  t.equal(answers.length, total, 'nothing left unanswered')
  t.ok(limited > 0, `some refused while ${MAX_EVENTS_IN_FLIGHT} were running (${limited} of ${total})`)
  t.ok(answers.filter(ack => ack.ok).length >= MAX_EVENTS_IN_FLIGHT, 'up to the cap ran')
  t.match(await emitAck(socket, 'sync', {}), { ok: true }, 'served again once they finished')
})
