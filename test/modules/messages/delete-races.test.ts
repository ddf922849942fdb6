/**
 * A deleted message stays deleted everywhere, whatever it races with: a delete that lands between the delivery
 * and the writer's bookkeeping (the lastMessage copy), and an edit racing a delete.
 */
import t from 'tap'
import { emitAck, emitOk, nextEvent, startRealtimeApp } from '../../helpers/realtime.js'
import { openDirect } from '../../helpers/conversations.js'
import { api } from '../../helpers/rest.js'
import { newSession, signUp } from '../../helpers/users.js'

t.test('a delete right after delivery: the conversation list never shows the deleted text', async t => {
  const kit = await startRealtimeApp(t, { RATE_LIMIT_MESSAGES: '0' })
  const [alice, bob] = await Promise.all([signUp(kit.app, 'alice'), signUp(kit.app, 'bob')])
  const conversationId = await openDirect(kit.app, alice, bob)
  const sender = await kit.connect(alice.accessToken)
  // Alice's second device sees her message as soon as it is stored, before the bookkeeping, and deletes it.
  const other = await kit.connect((await newSession(kit.app, alice)).accessToken)
  for (let round = 0; round < 15; round++) {
    const secret = `secret ${round}`
    const arrived = nextEvent(other, 're_message')
    const sent = emitOk(sender, 'chat_message', { conversationId, body: secret })
    const { message } = await arrived
    await emitOk(other, 'message_delete', { messageId: message.id })
    await sent
    await kit.app.messages.writer.drained()
    const listed = await api(kit.app, bob)('GET', '/api/conversations')
    const last = listed.json().items[0].lastMessage
    t.equal(last.id, message.id, `round ${round}: the last message`)
    t.equal(last.body, '', `round ${round}: its text is gone`)
    t.not(last.deletedAt, null, `round ${round}: marked deleted`)
  }
})

t.test('an edit racing a delete never brings the text back, and no update follows the delete', async t => {
  const kit = await startRealtimeApp(t, { RATE_LIMIT_MESSAGES: '0' })
  const [alice, bob] = await Promise.all([signUp(kit.app, 'alice'), signUp(kit.app, 'bob')])
  const conversationId = await openDirect(kit.app, alice, bob)
  const [a1, a2, b1] = await Promise.all([
    kit.connect(alice.accessToken), kit.connect((await newSession(kit.app, alice)).accessToken), kit.connect(bob.accessToken)
  ])
  const events: string[] = []
  b1.on('message_updated', () => { events.push('updated') })
  b1.on('message_deleted', () => { events.push('deleted') })
  for (let round = 0; round < 15; round++) {
    const message = await emitOk(a1, 'chat_message', { conversationId, body: `original ${round}` })
    await kit.app.messages.writer.drained()
    events.length = 0
    const [edited, deleted] = await Promise.all([
      emitAck(a1, 'message_edit', { messageId: message.id, body: `edited ${round}` }),
      emitAck(a2, 'message_delete', { messageId: message.id })
    ])
    t.ok(deleted.ok, `round ${round}: the delete succeeds`)
    t.ok(edited.ok || edited.error.code === 'MESSAGE_DELETED', `round ${round}: the edit succeeds or is refused as deleted`)
    await emitAck(b1, 'presence_query', { userIds: [] })
    t.notOk(events.indexOf('updated') > events.indexOf('deleted') && events.includes('deleted') && events.lastIndexOf('updated') > events.indexOf('deleted'),
      `round ${round}: no message_updated after message_deleted (${events.join(',')})`)
    const stored = await kit.app.models.Message.findById(message.id).lean()
    t.equal(stored?.body, '', `round ${round}: the stored message is empty`)
    const listed = await api(kit.app, bob)('GET', '/api/conversations')
    t.equal(listed.json().items[0].lastMessage.body, '', `round ${round}: the list's copy too`)
  }
})

t.test('the bookkeeping never writes back a message that was edited or deleted after it was stored', async t => {
  // The order the races above can produce on a slow database: the delete (or edit) lands between the delivery and
  // the bookkeeping, whose lastMessage copy is the message as the writer stored it.
  const kit = await startRealtimeApp(t, { RATE_LIMIT_MESSAGES: '0' })
  const [alice, bob] = await Promise.all([signUp(kit.app, 'alice'), signUp(kit.app, 'bob')])
  const conversationId = await openDirect(kit.app, alice, bob)
  const { Conversation, ConversationMember, Message } = kit.app.models
  const asStored = async (body: string) => {
    const sent = await kit.app.messages.send(alice.id, { conversationId, body })
    return await Message.findById(sent.message.id).lean().orFail()
  }
  const deleted = await asStored('deleted text')
  const edited = await asStored('before the edit')
  await kit.app.messages.remove(alice.id, 'user', String(deleted._id))
  await kit.app.messages.edit(alice.id, String(edited._id), 'after the edit')
  const { writeBookkeeping } = await import('../../../src/modules/messages/message-bookkeeping.js')
  const states = new Map([[conversationId, { memberIds: [deleted.senderId], lastSeq: 0 }]])

  await Conversation.updateOne({ _id: conversationId }, { $set: { lastSeq: 0 } })
  await writeBookkeeping({ Conversation, ConversationMember, Message }, [deleted], states)
  let copy = (await Conversation.findById(conversationId).lean().orFail()).lastMessage as { body: string, deletedAt?: Date }
  t.equal(copy.body, '', 'a deleted message\'s copy stays deleted')
  t.ok(copy.deletedAt instanceof Date)

  await Conversation.updateOne({ _id: conversationId }, { $set: { lastSeq: 0 } })
  await writeBookkeeping({ Conversation, ConversationMember, Message }, [edited], states)
  copy = (await Conversation.findById(conversationId).lean().orFail()).lastMessage as { body: string }
  t.equal(copy.body, 'after the edit', 'an edited message\'s copy is the edit')
})
