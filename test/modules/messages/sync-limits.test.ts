/**
 * `sync` is bounded per ack: at most SYNC_MAX_CONVERSATIONS conversations and about SYNC_MAX_BYTES of messages,
 * with `hasMore` saying that the next call brings the rest; nothing is lost or repeated across the calls.
 */
import t from 'tap'
import { Types } from 'mongoose'
import { SYNC_MAX_BYTES, SYNC_MAX_CONVERSATIONS } from '../../../src/modules/messages/message-sync.js'
import { openDirect } from '../../helpers/conversations.js'
import { emitOk, startRealtimeApp } from '../../helpers/realtime.js'
import { register, signUp } from '../../helpers/users.js'

t.test('more conversations than one ack carries: two calls, each conversation once', async t => {
  const kit = await startRealtimeApp(t, { RATE_LIMIT_MESSAGES: '0', RATE_LIMIT_REGISTER: '0' })
  const bob = await signUp(kit.app, 'bob')
  const total = SYNC_MAX_CONVERSATIONS + 10
  const others = await Promise.all(Array.from({ length: total }, async (_, i) => await register(kit.app, `friend${i}`)))
  for (const other of others) {
    const id = await openDirect(kit.app, bob, other)
    await kit.app.messages.send(other.id, { conversationId: id, body: `hello from ${other.username}` })
  }
  const socket = await kit.connect(bob.accessToken)
  const first = await emitOk(socket, 'sync', {})
  t.equal(first.conversations.length, SYNC_MAX_CONVERSATIONS, 'one ack carries at most the cap')
  t.equal(first.hasMore, true, 'and says there is more')
  for (const answer of first.conversations) await emitOk(socket, 'delivered', { conversationId: answer.conversationId, seq: 1 })
  const second = await emitOk(socket, 'sync', {})
  t.equal(second.conversations.length, 10)
  t.equal(second.hasMore, false)
  const seen = [...first.conversations, ...second.conversations].map(answer => answer.conversationId)
  t.equal(new Set(seen).size, total, 'every conversation exactly once')
})

t.test('more bytes than one ack carries: the conversation is cut with hasMore and continues from there', async t => {
  const kit = await startRealtimeApp(t, { RATE_LIMIT_MESSAGES: '0' })
  const [alice, bob] = await Promise.all([signUp(kit.app, 'alice'), signUp(kit.app, 'bob')])
  const id = await openDirect(kit.app, alice, bob)
  const body = 'x'.repeat(16_000)
  for (let i = 0; i < 100; i++) await kit.app.messages.send(alice.id, { conversationId: id, body })
  const socket = await kit.connect(bob.accessToken)
  const first = await emitOk(socket, 'sync', { cursors: [{ conversationId: id, afterSeq: 0 }] })
  const got = first.conversations[0].messages
  t.ok(got.length > 0 && got.length < 100, `cut by size (${got.length} of 100 messages)`)
  t.ok(got.length * body.length <= SYNC_MAX_BYTES, 'within the byte budget')
  t.equal(first.conversations[0].hasMore, true)
  t.equal(first.hasMore, true)
  const last = got[got.length - 1].seq
  const second = await emitOk(socket, 'sync', { cursors: [{ conversationId: id, afterSeq: last }] })
  t.equal(second.conversations[0].messages[0].seq, last + 1, 'continues right after the last one received')
  const unknown = await emitOk(socket, 'sync', {}).catch((error: Error) => error)
  t.notOk(unknown instanceof Error, 'a sync without cursors answers too')
  await t.rejects(emitOk(socket, 'sync', { cursors: [{ conversationId: new Types.ObjectId().toHexString(), afterSeq: 0 }] }),
    'a conversation the caller is not in is still refused')
})
