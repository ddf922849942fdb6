// The group-commit writer through the real service and engine: batches that mix conversations, members and
// outsiders, retries inside one batch, and a conversation whose lastSeq lags its messages (a crash between the
// insert and the bookkeeping write) heal without gaps or duplicates.
import t from 'tap'
import { Types } from 'mongoose'
import { buildChatApp } from '../../helpers/build-app.js'
import { directChat, openDirect } from '../../helpers/conversations.js'
import { api } from '../../helpers/rest.js'
import { signUp } from '../../helpers/users.js'

t.test('one flush across conversations: per-conversation seqs 1..N, outsiders refused alone, marks and lists right', async t => {
  const app = await buildChatApp(t)
  const [alice, bob, carol, mallory] = await Promise.all([signUp(app), signUp(app), signUp(app), signUp(app)])
  const ab = await openDirect(app, alice, bob)
  const ac = await openDirect(app, alice, carol)
  const sends = []
  for (let i = 0; i < 30; i++) {
    sends.push(app.messages.send(alice.id, { conversationId: ab, body: `ab ${i}` }))
    sends.push(app.messages.send(bob.id, { conversationId: ab, body: `ba ${i}` }))
    sends.push(app.messages.send(carol.id, { conversationId: ac, body: `ca ${i}` }))
    sends.push(app.messages.send(mallory.id, { conversationId: ab, body: 'let me in' }))
  }
  const settled = await Promise.allSettled(sends)
  const refused = settled.filter(result => result.status === 'rejected')
  t.equal(refused.length, 30, 'only the outsider\'s sends fail')
  t.ok(refused.every(result => (result as PromiseRejectedResult).reason.code === 'CONVERSATION_NOT_FOUND'))
  const stored = settled.flatMap(result => result.status === 'fulfilled' ? [result.value.message] : [])
  const seqsOf = (conversationId: string): number[] => stored.filter(m => m.conversationId === conversationId).map(m => m.seq).sort((a, b) => a - b)
  t.same(seqsOf(ab), Array.from({ length: 60 }, (_, i) => i + 1))
  t.same(seqsOf(ac), Array.from({ length: 30 }, (_, i) => i + 1))
  t.notOk(stored.some(m => m.body === 'let me in'))
  const inStore = await app.models.Message.countDocuments({ conversationId: new Types.ObjectId(ab) })
  t.equal(inStore, 60, 'nothing stored for the outsider')

  const list = async (who: typeof alice): Promise<Array<{ id: string, lastSeq: number, unreadCount: number, lastMessage: { seq: number } }>> =>
    (await api(app, who)('GET', '/api/conversations')).json().items
  const bobsView = (await list(bob)).find(c => c.id === ab)
  t.equal(bobsView?.lastSeq, 60)
  t.equal(bobsView?.lastMessage.seq, 60, 'lastMessage is the highest seq')
  t.ok((bobsView?.unreadCount ?? -1) < 60 && (bobsView?.unreadCount ?? -1) >= 0, 'bob has read up to his own last message')
  const carolsView = (await list(carol)).find(c => c.id === ac)
  t.equal(carolsView?.unreadCount, 0, 'the only sender has read everything')
})

t.test('the same clientMsgId twice in one batch: stored once, both answered with it', async t => {
  const { app, alice, bob, id: ab } = await directChat(t)
  const results = await Promise.all([
    app.messages.send(alice.id, { conversationId: ab, body: 'first', clientMsgId: 'same' }),
    app.messages.send(alice.id, { conversationId: ab, body: 'first', clientMsgId: 'same' }),
    app.messages.send(alice.id, { conversationId: ab, body: 'after' })
  ])
  t.equal(results[0].message.id, results[1].message.id)
  t.same(results.map(r => r.created), [true, false, true])
  t.equal(results[0].message.seq, 1)
  t.equal(results[2].message.seq, 2, 'the retry took no seq')
  t.equal(await app.models.Message.countDocuments({ conversationId: new Types.ObjectId(ab) }), 2)
})

t.test('a lastSeq that lags the stored messages (crash before the bookkeeping write) heals on the next send', async t => {
  const { app, alice, bob, id: ab } = await directChat(t)
  for (let i = 0; i < 5; i++) await app.messages.send(alice.id, { conversationId: ab, body: `m${i}` })
  await app.models.Conversation.updateOne({ _id: ab }, { $set: { lastSeq: 2 } })
  // Delivered messages can be ahead of lastSeq for a moment (the write behind the delivery): marks reach them.
  t.equal((await api(app, bob)('POST', `/api/conversations/${ab}/read`, { seq: 99 })).statusCode, 204)
  const mark = await app.models.ConversationMember.findOne({ conversationId: ab, userId: bob.id }).lean()
  t.equal(mark?.readSeq, 5, 'clamped to the highest stored message, not to the lagging lastSeq')
  const next = await Promise.all([
    app.messages.send(bob.id, { conversationId: ab, body: 'x' }),
    app.messages.send(bob.id, { conversationId: ab, body: 'y', clientMsgId: 'y1' })
  ])
  t.same(next.map(r => r.message.seq).sort(), [6, 7], 'continues after the highest stored seq')
  const conversation = await app.models.Conversation.findById(ab).lean()
  t.equal(conversation?.lastSeq, 7)
  const seqs = (await app.models.Message.find({ conversationId: new Types.ObjectId(ab) }).sort({ seq: 1 }).lean()).map(m => m.seq)
  t.same(seqs, [1, 2, 3, 4, 5, 6, 7], 'no gap, no duplicate')
})

t.test('a hidden direct conversation comes back with the next message', async t => {
  const { app, alice, bob, id: ab } = await directChat(t)
  await app.messages.send(alice.id, { conversationId: ab, body: 'hi' })
  t.equal((await api(app, bob)('DELETE', `/api/conversations/${ab}`)).statusCode, 204)
  t.notOk((await api(app, bob)('GET', '/api/conversations')).json().items.some((c: { id: string }) => c.id === ab), 'hidden')
  await app.messages.send(alice.id, { conversationId: ab, body: 'still there?' })
  const back = (await api(app, bob)('GET', '/api/conversations')).json().items.find((c: { id: string }) => c.id === ab)
  t.equal(back?.lastMessage.body, 'still there?')
  t.equal(back?.unreadCount, 1, 'hiding read the first message; the new one is unread')
})

t.test('one instance, many flushes in a row: the seqs it claimed are never taken twice (no conflicts to retry)', async t => {
  const { app, alice, bob, id: ab } = await directChat(t)
  const before = { ...app.messages.writer.stats }
  const waves = []
  for (let wave = 0; wave < 20; wave++) {
    waves.push(Promise.all(Array.from({ length: 10 }, async (_, i) => await app.messages.send(wave % 2 === 0 ? alice.id : bob.id, { conversationId: ab, body: `w${wave}.${i}` }))))
    await new Promise(resolve => setImmediate(resolve))
  }
  const seqs = (await Promise.all(waves)).flat().map(r => r.message.seq).sort((a, b) => a - b)
  t.same(seqs, Array.from({ length: 200 }, (_, i) => i + 1))
  const stats = app.messages.writer.stats
  t.ok(stats.flushes - before.flushes > 1, `several flushes (${stats.flushes - before.flushes})`)
  t.equal(stats.seqConflicts - before.seqConflicts, 0, 'no insert lost its seq')
  t.equal(stats.stored - before.stored, 200)
})

// Found by the SDK's jitter harness (test/cluster/sdk-jitter.test.ts): a send queued while the last batch was being
// written waited for some later send to start the writer again, and went unanswered when none came (a lone
// sender's message right after a reconnect, the last message of a burst).
t.test('a send that arrives while the last batch is written is stored without waiting for another send', async t => {
  const { app, alice, id: ab } = await directChat(t)
  const writer = app.messages.writer
  const message = (body: string) => ({ conversationId: new Types.ObjectId(ab), senderId: new Types.ObjectId(alice.id), body, attachments: [] })
  let second: ReturnType<typeof writer.write> | null = null
  // onStored runs after the first batch's insert, before the writer has seen that nothing else is queued.
  await writer.write(message('first'), () => { second = writer.write(message('second')) })
  const stranded = new Promise<'stranded'>(resolve => setTimeout(() => { resolve('stranded') }, 5000))
  const result = await Promise.race([second as unknown as ReturnType<typeof writer.write>, stranded])
  t.not(result, 'stranded', 'the second send was stored without another send after it')
  if (result !== 'stranded') t.equal(result.message.seq, 2)
})
