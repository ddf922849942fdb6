/**
 * Edits and deletes fan out to every member like sends: they count against the sender's RATE_LIMIT_MESSAGES
 * budget, over REST and over the socket alike.
 */
import t from 'tap'
import { openDirect, send } from '../../helpers/conversations.js'
import { emitAck, startRealtimeApp } from '../../helpers/realtime.js'
import { api } from '../../helpers/rest.js'
import { signUp } from '../../helpers/users.js'

t.test('edits and deletes share the message budget; over it they are 429 / RATE_LIMITED and change nothing', async t => {
  const kit = await startRealtimeApp(t, { RATE_LIMIT_MESSAGES: '5' })
  const [alice, bob] = await Promise.all([signUp(kit.app, 'alice'), signUp(kit.app, 'bob')])
  const conversationId = await openDirect(kit.app, alice, bob)
  const message = await send(kit.app, alice, conversationId, 'v0')
  const statuses = []
  for (let i = 1; i <= 5; i++) statuses.push((await api(kit.app, alice)('PATCH', `/api/messages/${message.id}`, { body: `v${i}` })).statusCode)
  t.same(statuses, [200, 200, 200, 200, 429], 'one send and four edits fill the budget of 5')
  const limited = await api(kit.app, alice)('PATCH', `/api/messages/${message.id}`, { body: 'refused' })
  t.equal(limited.json().code, 'RATE_LIMITED')
  t.ok(Number(limited.headers['retry-after']) >= 1, 'with Retry-After')
  t.equal((await api(kit.app, alice)('DELETE', `/api/messages/${message.id}`)).statusCode, 429, 'deletes too')
  const socket = await kit.connect(alice.accessToken)
  t.match(await emitAck(socket, 'message_edit', { messageId: message.id, body: 'socket' }), { ok: false, error: { code: 'RATE_LIMITED' } })
  t.match(await emitAck(socket, 'message_delete', { messageId: message.id }), { ok: false, error: { code: 'RATE_LIMITED' } })
  const stored = await kit.app.models.Message.findById(message.id).lean()
  t.equal(stored?.body, 'v4', 'the refused edits and deletes changed nothing')
})
