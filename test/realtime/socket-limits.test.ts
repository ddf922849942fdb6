/**
 * A user's sockets cannot make the server do unbounded work: their events of any kind count against
 * RATE_LIMIT_SOCKET_EVENTS per 10 s (per user, so reconnecting resets nothing), at most MAX_EVENTS_IN_FLIGHT run at
 * once per socket, and a user opens at most MAX_SOCKETS_PER_USER sockets on an instance and HANDSHAKES_PER_MINUTE
 * handshakes. Past a limit the event is answered RATE_LIMITED (or the handshake refused) and nothing else changes.
 */
import t from 'tap'
import { MAX_EVENTS_IN_FLIGHT } from '../../src/realtime/connection.js'
import { HANDSHAKES_PER_MINUTE, MAX_SOCKETS_PER_USER } from '../../src/realtime/gateway.plugin.js'
import { waitFor } from '../helpers/wait.js'
import { emitAck, startRealtimeApp } from '../helpers/realtime.js'
import { signUp } from '../helpers/users.js'

t.test('events over the user\'s budget are answered RATE_LIMITED, on every socket of the user, reconnects included', async t => {
  const kit = await startRealtimeApp(t, { RATE_LIMIT_SOCKET_EVENTS: '20' })
  const [alice, bob] = await Promise.all([signUp(kit.app, 'alice'), signUp(kit.app, 'bob')])
  const [busy, calm] = await Promise.all([kit.connect(alice.accessToken), kit.connect(bob.accessToken)])
  const answers = []
  for (let i = 0; i < 25; i++) answers.push(await emitAck(busy, 'presence_query', { userIds: [alice.id] }))
  t.equal(answers.filter(ack => ack.ok).length, 20, 'the budget passes')
  const refused = answers.filter(ack => !ack.ok)
  t.equal(refused.length, 5)
  t.match(refused[0], { ok: false, error: { code: 'RATE_LIMITED', message: /retry in \d+ s/ } })
  t.ok(busy.connected, 'the socket stays connected')
  const fresh = await kit.connect(alice.accessToken)
  t.match(await emitAck(fresh, 'presence_query', { userIds: [alice.id] }), { ok: false, error: { code: 'RATE_LIMITED' } }, 'a new socket of hers shares the spent budget')
  t.match(await emitAck(calm, 'presence_query', { userIds: [bob.id] }), { ok: true }, 'another user has their own')
})

t.test('a user opens at most MAX_SOCKETS_PER_USER sockets on an instance; a freed one can be used again', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await signUp(kit.app, 'alice')
  const open = []
  for (let i = 0; i < MAX_SOCKETS_PER_USER; i++) open.push(await kit.connect(alice.accessToken))
  const refused = await kit.connect(alice.accessToken, { reconnection: false }).then(() => null, (error: Error & { data?: unknown }) => error)
  t.match(refused, { message: 'unavailable', data: { code: 'RATE_LIMITED' } }, 'one more is refused')
  open[0].disconnect()
  await waitFor(() => kit.app.realtime.io.sockets.sockets.size === MAX_SOCKETS_PER_USER - 1)
  t.ok((await kit.connect(alice.accessToken)).connected, 'a freed slot is served')
})

t.test('more than HANDSHAKES_PER_MINUTE handshakes of one user are refused (a reconnect loop)', async t => {
  const kit = await startRealtimeApp(t)
  const alice = await signUp(kit.app, 'alice')
  let refused: unknown = null
  for (let i = 0; i < HANDSHAKES_PER_MINUTE + 1 && refused === null; i++) {
    const socket = await kit.connect(alice.accessToken, { reconnection: false }).catch((error: Error) => { refused = error; return null })
    socket?.disconnect()
  }
  t.match(refused, { message: 'unavailable', data: { code: 'RATE_LIMITED', message: /retry in \d+ s/ } })
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
