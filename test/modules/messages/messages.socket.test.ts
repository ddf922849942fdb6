import t from 'tap'
import type { TeardownHost } from '../../helpers/build-app.js'
import { collect, emitAck, emitOk, emitRaw, nextEvent, startRealtimeApp, untyped } from '../../helpers/realtime.js'
import { newSession, signUp } from '../../helpers/users.js'

async function setup (t: TeardownHost, environment: NodeJS.ProcessEnv = {}) {
  const kit = await startRealtimeApp(t, { RATE_LIMIT_MESSAGES: '0', ...environment })
  const alice = await signUp(kit.app, 'alice')
  const bob = await signUp(kit.app, 'bob')
  const a1 = await kit.connect(alice.accessToken)
  const a2 = await kit.connect((await newSession(kit.app, alice)).accessToken)
  const b1 = await kit.connect(bob.accessToken)
  return { kit, alice, bob, a1, a2, b1 }
}

t.test('chat_message to a receiverId: creates the conversation, acks the sender, re_message to every other socket', async t => {
  const { kit, alice, bob, a1, a2, b1 } = await setup(t)
  const updatedB = nextEvent(b1, 'conversation_updated')
  const updatedA2 = nextEvent(a2, 'conversation_updated')
  const gotB = nextEvent(b1, 're_message')
  const gotA2 = nextEvent(a2, 're_message')
  const onA1 = collect(a1, 're_message')

  const ack = await emitAck(a1, 'chat_message', { receiverId: bob.id, body: 'hi bob', clientMsgId: 'k1' })
  t.ok(ack.ok)
  if (!ack.ok) return
  t.match(ack.data, { seq: 1, senderId: alice.id, body: 'hi bob', clientMsgId: 'k1' })
  const conversationId = ack.data.conversationId
  t.match(await updatedB, { action: 'conversation_updated', conversation: { id: conversationId, type: 'direct' } })
  t.match(await updatedA2, { conversation: { id: conversationId } })
  t.same(await gotB, { action: 're_message', message: ack.data })
  t.same((await gotA2).message, ack.data, "the sender's other device")

  // Bob answers on the same conversation; a REST send reaches every socket (the REST caller has none to skip).
  const back = nextEvent(a1, 're_message')
  const reply = await emitOk(b1, 'chat_message', { conversationId, body: 'hi alice' })
  t.equal(reply.seq, 2)
  t.same((await back).message, reply)
  const restA1 = nextEvent(a1, 're_message')
  const restB1 = nextEvent(b1, 're_message')
  const res = await kit.app.inject({ method: 'POST', url: `/api/conversations/${conversationId}/messages`, headers: { authorization: `Bearer ${alice.accessToken}` }, payload: { body: 'via REST' } })
  t.equal(res.statusCode, 201)
  t.equal((await restA1).message.body, 'via REST')
  t.equal((await restB1).message.seq, 3)
  t.same(onA1.map(e => e.message.seq), [2, 3], 'the sending socket never got its own message back, only the ack')

  // A new socket joins its conversation rooms on connect.
  const b2 = await kit.connect((await newSession(kit.app, bob)).accessToken)
  const toB2 = nextEvent(b2, 're_message')
  await emitOk(a1, 'chat_message', { conversationId, body: 'to all of bob' })
  t.equal((await toB2).message.seq, 4)
})

t.test('retries with the same clientMsgId: one ack data, one delivery, one stored', async t => {
  const { kit, bob, a1, b1 } = await setup(t)
  const seen = collect(b1, 're_message')
  const first = await emitOk(a1, 'chat_message', { receiverId: bob.id, body: 'once', clientMsgId: 'retry-me' })
  const again = await Promise.all([1, 2, 3].map(async () => await emitOk(a1, 'chat_message', { conversationId: first.conversationId, body: 'once', clientMsgId: 'retry-me' })))
  for (const data of again) t.same(data, first)
  const marker = nextEvent(b1, 're_message')
  await emitOk(a1, 'chat_message', { conversationId: first.conversationId, body: 'marker' })
  await marker
  t.same(seen.map(e => e.message.body), ['once', 'marker'], 'delivered once')
  t.equal(await kit.app.models.Message.countDocuments({ clientMsgId: 'retry-me' }), 1)
})

t.test('offline catch-up through sync: nothing lost, nothing twice', async t => {
  const { kit, bob, a1, b1 } = await setup(t)
  const first = await emitOk(a1, 'chat_message', { receiverId: bob.id, body: 'm1' })
  const conversationId = first.conversationId
  await nextEvent(b1, 're_message').catch(() => {})
  await emitOk(b1, 'delivered', { conversationId, seq: 1 })
  b1.disconnect()
  for (let i = 2; i <= 5; i++) await emitOk(a1, 'chat_message', { conversationId, body: `m${i}` })

  const back = await kit.connect((await newSession(kit.app, bob)).accessToken)
  const withCursor = await emitOk(back, 'sync', { cursors: [{ conversationId, afterSeq: 1 }] })
  t.same(withCursor.conversations.map((c: any) => [c.conversationId, c.messages.map((m: any) => m.seq), c.hasMore]), [[conversationId, [2, 3, 4, 5], false]])
  const withoutCursor = await emitOk(back, 'sync', {})
  t.same(withoutCursor.conversations[0].messages.map((m: any) => m.body), ['m2', 'm3', 'm4', 'm5'], 'omitted: everything after the delivered mark')
  await emitOk(back, 'delivered', { conversationId, seq: 5 })
  t.same((await emitOk(back, 'sync', {})).conversations, [], 'nothing undelivered left')
  t.same((await emitOk(back, 'sync', { cursors: [{ conversationId, afterSeq: 5 }] })).conversations, [{ conversationId, messages: [], hasMore: false }])

  // Pages of at most 100.
  for (let i = 6; i <= 105; i++) await kit.app.messages.send(first.senderId, { conversationId, body: `n${i}` })
  const paged = await emitOk(back, 'sync', { cursors: [{ conversationId, afterSeq: 0 }] })
  t.equal(paged.conversations[0].messages.length, 100)
  t.equal(paged.conversations[0].hasMore, true)
  const rest = await emitOk(back, 'sync', { cursors: [{ conversationId, afterSeq: 100 }] })
  t.same(rest.conversations[0].messages.map((m: any) => m.seq), [101, 102, 103, 104, 105])
  t.equal(rest.conversations[0].hasMore, false)
})

t.test('receipts, typing, edit and delete broadcasts', async t => {
  const { kit, alice, bob, a1, a2, b1 } = await setup(t)
  const b2 = await kit.connect((await newSession(kit.app, bob)).accessToken)
  const m1 = await emitOk(a1, 'chat_message', { receiverId: bob.id, body: 'one' })
  const conversationId = m1.conversationId
  await emitOk(a1, 'chat_message', { conversationId, body: 'two' })

  const receiptA1 = nextEvent(a1, 'receipt')
  const receiptB2 = nextEvent(b2, 'receipt')
  const onB1 = collect(b1, 'receipt')
  t.same(await emitOk(b1, 'read', { conversationId, seq: 2 }), {})
  t.match(await receiptA1, { action: 'receipt', conversationId, userId: bob.id, kind: 'read', seq: 2, at: String })
  t.match(await receiptB2, { kind: 'read', seq: 2 }, "the reader's other device learns it too")
  const laterA1 = collect(a1, 'receipt')
  await emitOk(b1, 'read', { conversationId, seq: 1 })
  t.same(onB1, [], 'the sending socket gets only its ack')
  const view = await kit.app.inject({ method: 'GET', url: `/api/conversations/${conversationId}`, headers: { authorization: `Bearer ${bob.accessToken}` } })
  t.match(view.json(), { readSeq: 2, unreadCount: 0, deliveredSeq: 2 }, 'a backward read mark changes nothing')
  await emitOk(b1, 'chat_message', { conversationId, body: 'three' })
  const delivered = nextEvent(b1, 'receipt')
  await emitOk(a2, 'delivered', { conversationId, seq: 99 })
  t.match(await delivered, { kind: 'delivered', userId: alice.id, seq: 3 }, 'clamped to lastSeq')
  t.same(laterA1.map(e => [e.kind, e.seq]), [['delivered', 3]], 'the backward read mark told nobody; a1 heard its other device')

  const typing = collect(a1, 'typing')
  const typingOwn = collect(b2, 'typing')
  await emitOk(b1, 'typing', { conversationId, isTyping: true })
  await emitOk(b1, 'typing', { conversationId, isTyping: true })
  const stopped = nextEvent(a2, 'typing')
  await emitOk(b1, 'typing', { conversationId, isTyping: false })
  t.same(await stopped, { action: 'typing', conversationId, userId: bob.id, isTyping: false })
  t.same(typing.map(e => e.isTyping), [true, false], 'the repeat inside the throttle window was dropped')
  t.same(typingOwn, [], 'typing goes to the other members only')

  const updated = nextEvent(b1, 'message_updated')
  const edited = await emitOk(a1, 'message_edit', { messageId: m1.id, body: 'one (edited)' })
  t.match(edited, { id: m1.id, body: 'one (edited)', editedAt: String })
  t.same(await updated, { action: 'message_updated', message: edited })
  const deleted = nextEvent(b2, 'message_deleted')
  t.same(await emitOk(a1, 'message_delete', { messageId: m1.id }), { messageId: m1.id })
  t.same(await deleted, { action: 'message_deleted', conversationId, messageId: m1.id, seq: 1 })
  const byBob = await emitAck(b1, 'message_edit', { messageId: m1.id, body: 'x' })
  t.match(byBob, { ok: false, error: { code: 'NOT_SENDER' } })
})

t.test('a third user gets nothing and gets error acks; bad payloads get error acks', async t => {
  const { kit, bob, a1, b1 } = await setup(t, { MESSAGE_MAX_BYTES: '50', RATE_LIMIT_MESSAGES: '20' })
  const eve = await signUp(kit.app, 'eve')
  const e1 = await kit.connect(eve.accessToken)
  const heard: string[] = []
  for (const event of ['re_message', 'typing', 'receipt', 'message_updated', 'message_deleted', 'conversation_updated'] as const) {
    e1.on(event, () => { heard.push(event) })
  }
  const m1 = await emitOk(a1, 'chat_message', { receiverId: bob.id, body: 'secret' })
  const conversationId = m1.conversationId
  // Valid and malformed payloads alike: outside the typed maps.
  const refused = async (event: string, payload: unknown, code: string) => {
    const ack = await emitRaw(untyped(e1), event, payload)
    t.match(ack, { ok: false, error: { code } }, `${event} ${JSON.stringify(payload).slice(0, 60)}`)
  }
  await refused('chat_message', { conversationId, body: 'let me in' }, 'CONVERSATION_NOT_FOUND')
  await refused('typing', { conversationId, isTyping: true }, 'CONVERSATION_NOT_FOUND')
  await refused('read', { conversationId, seq: 1 }, 'CONVERSATION_NOT_FOUND')
  await refused('delivered', { conversationId, seq: 1 }, 'CONVERSATION_NOT_FOUND')
  await refused('sync', { cursors: [{ conversationId, afterSeq: 0 }] }, 'CONVERSATION_NOT_FOUND')
  await refused('message_edit', { messageId: m1.id, body: 'x' }, 'MESSAGE_NOT_FOUND')
  await refused('message_delete', { messageId: m1.id }, 'MESSAGE_NOT_FOUND')
  await refused('chat_message', { conversationId: { $gt: '' }, body: 'x' }, 'VALIDATION_ERROR')
  await refused('chat_message', { conversationId, receiverId: bob.id, body: 'x' }, 'VALIDATION_ERROR')
  await refused('chat_message', { body: 'x' }, 'VALIDATION_ERROR')
  await refused('chat_message', 'not an object', 'VALIDATION_ERROR')
  await refused('chat_message_file', { conversationId, attachmentIds: [m1.id] }, 'CONVERSATION_NOT_FOUND')
  t.same((await emitOk(e1, 'sync', {})).conversations, [], 'sync shows eve none of it')
  await refused('chat_message', { receiverId: bob.id, body: 'x'.repeat(51) }, 'PAYLOAD_TOO_LARGE')
  await refused('chat_message', { receiverId: bob.id, body: '  ' }, 'EMPTY_MESSAGE')

  // Activity in alice and bob's conversation, then a marker to eve: Socket.IO keeps one socket's order.
  await emitOk(a1, 'chat_message', { conversationId, body: 'more' })
  await emitOk(b1, 'typing', { conversationId, isTyping: true })
  await emitOk(b1, 'read', { conversationId, seq: 2 })
  await emitOk(a1, 'message_edit', { messageId: m1.id, body: 'edited' })
  await emitOk(a1, 'message_delete', { messageId: m1.id })
  const marker = nextEvent(e1, 're_message')
  const own = await emitOk(b1, 'chat_message', { receiverId: eve.id, body: 'hello eve' })
  t.equal((await marker).message.id, own.id)
  t.same(heard, ['conversation_updated', 're_message'], 'eve heard only of her own conversation')
  t.equal(await kit.app.models.Message.countDocuments({ senderId: eve.id }), 0)

  for (let i = 0; i < 30; i++) {
    const ack = await emitAck(e1, 'chat_message', { conversationId: own.conversationId, body: `spam ${i}` })
    if (!ack.ok) {
      t.equal(ack.error.code, 'RATE_LIMITED')
      break
    }
    t.ok(i < 20, 'limited within the allowance')
  }
})
