/**
 * Client payloads may carry `action` equal to the event name (the contract says every payload carries it, and the
 * websocket chat clients Parley replaces send it); any other value is refused with VALIDATION_ERROR.
 */
import t from 'tap'
import { emitAck, emitRaw, nextEvent, startRealtimeApp, untyped } from '../helpers/realtime.js'
import { signUp } from '../helpers/users.js'

t.test('action equal to the event name is accepted; any other value is refused and changes nothing', async t => {
  const kit = await startRealtimeApp(t)
  const [alice, bob] = await Promise.all([signUp(kit.app, 'alice'), signUp(kit.app, 'bob')])
  const [aliceSocket, bobSocket] = await Promise.all([kit.connect(alice.accessToken), kit.connect(bob.accessToken)])

  const delivered = nextEvent(bobSocket, 're_message')
  const sent = await emitAck(aliceSocket, 'chat_message', { action: 'chat_message', receiverId: bob.id, body: 'hello' })
  t.match(sent, { ok: true, data: { seq: 1, body: 'hello', senderId: alice.id } })
  t.match(await delivered, { action: 're_message', message: { seq: 1, body: 'hello' } })
  if (!sent.ok) return
  const conversationId = sent.data.conversationId

  for (const action of ['other', 'CHAT_MESSAGE', 're_message', '', null, 1, { $ne: null }]) {
    const ack = await emitRaw(untyped(aliceSocket), 'chat_message', { action, receiverId: bob.id, body: 'refused' })
    t.match(ack, { ok: false, error: { code: 'VALIDATION_ERROR', message: /action/ } }, `action ${JSON.stringify(action)}`)
  }
  t.match(await emitAck(aliceSocket, 'read', { action: 'read', conversationId, seq: 1 }), { ok: true }, 'every event takes its own name')
  t.match(await emitRaw(untyped(aliceSocket), 'read', { action: 'delivered', conversationId, seq: 1 }), { ok: false, error: { code: 'VALIDATION_ERROR' } })
  const history = await kit.app.inject({ method: 'GET', url: `/api/conversations/${conversationId}/messages`, headers: { authorization: `Bearer ${alice.accessToken}` } })
  t.same(history.json().items.map((m: { body: string }) => m.body), ['hello'], 'refused sends stored nothing')
})
