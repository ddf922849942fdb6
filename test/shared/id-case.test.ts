/**
 * Ids are accepted in any letter case and normalised to lower case at the edge (REST params and bodies, socket
 * payloads): an upper-cased id names the same user, conversation or message, never a second one.
 */
import t from 'tap'
import { emitAck, startRealtimeApp } from '../helpers/realtime.js'
import { signUp } from '../helpers/users.js'

t.test('an upper-cased id finds the same direct conversation, REST and socket; it is never a second one', async t => {
  const kit = await startRealtimeApp(t)
  const [alice, bob] = await Promise.all([signUp(kit.app, 'alice'), signUp(kit.app, 'bob')])
  const call = async (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
    await kit.app.inject({ method, url, payload, headers: { authorization: `Bearer ${alice.accessToken}` } })

  const created = await call('POST', '/api/conversations', { type: 'direct', userId: bob.id })
  t.equal(created.statusCode, 201)
  const id: string = created.json().id
  const again = await call('POST', '/api/conversations', { type: 'direct', userId: bob.id.toUpperCase() })
  t.equal(again.statusCode, 200, 'the existing conversation, not a new one')
  t.equal(again.json().id, id)
  const self = await call('POST', '/api/conversations', { type: 'direct', userId: alice.id.toUpperCase() })
  t.equal(self.statusCode, 400)
  t.equal(self.json().code, 'SELF_CONVERSATION', 'an upper-cased own id is still yourself')
  t.equal(await kit.app.models.Conversation.countDocuments({ type: 'direct' }), 1)

  t.equal((await call('GET', `/api/conversations/${id.toUpperCase()}`)).json().id, id, 'path ids too')
  t.equal((await call('GET', `/api/users/${bob.id.toUpperCase()}`)).json().id, bob.id, 'user ids in paths too')
  const sent = await call('POST', `/api/conversations/${id.toUpperCase()}/messages`, { body: 'one' })
  t.equal(sent.statusCode, 201)
  t.equal(sent.json().conversationId, id, 'stored under the canonical id')
  const edited = await call('PATCH', `/api/messages/${String(sent.json().id).toUpperCase()}`, { body: 'one, edited' })
  t.equal(edited.statusCode, 200)

  const socket = await kit.connect(alice.accessToken)
  const viaSocket = await emitAck(socket, 'chat_message', { receiverId: bob.id.toUpperCase(), body: 'two' })
  t.match(viaSocket, { ok: true, data: { conversationId: id, seq: 2 } }, 'receiverId in any case opens the same conversation')
  const byConversation = await emitAck(socket, 'chat_message', { conversationId: id.toUpperCase(), body: 'three' })
  t.match(byConversation, { ok: true, data: { conversationId: id, seq: 3 } })
  t.match(await emitAck(socket, 'read', { conversationId: id.toUpperCase(), seq: 3 }), { ok: true })
  const synced = await emitAck(socket, 'sync', { cursors: [{ conversationId: id.toUpperCase(), afterSeq: 1 }] })
  t.match(synced, { ok: true, data: { conversations: [{ conversationId: id, messages: [{ seq: 2 }, { seq: 3 }] }] } })
  t.equal(await kit.app.models.Conversation.countDocuments({ type: 'direct' }), 1, 'still one conversation for the pair')
})
