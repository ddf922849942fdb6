import t from 'tap'
import { directChat, send } from '../../helpers/conversations.js'
import { api } from '../../helpers/rest.js'
import { newSession, signUp } from '../../helpers/users.js'

t.test('send and page: seq from 1, ascending pages, before/after cursors, hasMore', async t => {
  const { app, alice, bob, id } = await directChat(t)
  const first = await api(app, alice)('POST', `/api/conversations/${id}/messages`, { body: 'hello' })
  t.equal(first.statusCode, 201)
  t.match(first.json(), { conversationId: id, seq: 1, senderId: alice.id, body: 'hello', attachments: [], clientMsgId: null, replyToId: null, editedAt: null, deletedAt: null })
  t.same(Object.keys(first.json()).sort(), ['attachments', 'body', 'clientMsgId', 'conversationId', 'createdAt', 'deletedAt', 'editedAt', 'id', 'replyToId', 'senderId', 'seq'])
  for (let i = 2; i <= 7; i++) await send(app, i % 2 === 0 ? bob : alice, id, `m${i}`)

  const seqs = (res: { json: () => { items: Array<{ seq: number }> } }) => res.json().items.map(m => m.seq)
  const latest = await api(app, bob)('GET', `/api/conversations/${id}/messages?limit=3`)
  t.same(seqs(latest), [5, 6, 7], 'default: the latest page, ascending')
  t.equal(latest.json().hasMore, true)
  const older = await api(app, bob)('GET', `/api/conversations/${id}/messages?limit=3&beforeSeq=5`)
  t.same(seqs(older), [2, 3, 4])
  t.equal(older.json().hasMore, true)
  const oldest = await api(app, bob)('GET', `/api/conversations/${id}/messages?limit=3&beforeSeq=2`)
  t.same(seqs(oldest), [1])
  t.equal(oldest.json().hasMore, false)
  const newer = await api(app, bob)('GET', `/api/conversations/${id}/messages?afterSeq=4&limit=2`)
  t.same(seqs(newer), [5, 6])
  t.equal(newer.json().hasMore, true)
  const between = await api(app, bob)('GET', `/api/conversations/${id}/messages?afterSeq=2&beforeSeq=5`)
  t.same(seqs(between), [3, 4])
  t.same(seqs(await api(app, bob)('GET', `/api/conversations/${id}/messages`)), [1, 2, 3, 4, 5, 6, 7])

  for (const query of ['limit=0', 'limit=201', 'beforeSeq=0', 'afterSeq=-1', 'afterSeq[$gt]=0', 'x=1']) {
    t.equal((await api(app, bob)('GET', `/api/conversations/${id}/messages?${query}`)).statusCode, 400, query)
  }
})

t.test('authorization: outsiders, unknown and malformed ids are 404; operator objects are 400', async t => {
  const { app, alice, bob, id } = await directChat(t)
  const eve = await signUp(app)
  const message = await send(app, alice, id, 'private')
  const asEve = api(app, eve)
  for (const [method, url, payload] of [
    ['GET', `/api/conversations/${id}/messages`, undefined],
    ['POST', `/api/conversations/${id}/messages`, { body: 'intrude' }],
    ['PATCH', `/api/messages/${message.id}`, { body: 'changed' }],
    ['DELETE', `/api/messages/${message.id}`, undefined],
    ['GET', '/api/conversations/0123456789abcdef01234567/messages', undefined],
    ['GET', '/api/conversations/nope/messages', undefined],
    ['PATCH', '/api/messages/nope', { body: 'x' }],
    ['DELETE', '/api/messages/0123456789abcdef01234567', undefined]
  ] as const) {
    const res = await asEve(method, url, payload)
    t.equal(res.statusCode, 404, `${method} ${url}`)
  }
  t.equal(await app.models.Message.countDocuments({}), 1, 'nothing stored by the outsider')
  t.equal((await app.models.Message.findById(message.id).lean())?.body, 'private')
  t.notMatch((await asEve('GET', `/api/conversations/${id}/messages`)).body, /private/)

  const asAlice = api(app, alice)
  for (const payload of [{ body: { $gt: '' } }, { body: 'x', clientMsgId: { $gt: '' } }, { body: 'x', replyToId: { $ne: null } }, { body: 'x', conversationId: id }]) {
    t.equal((await asAlice('POST', `/api/conversations/${id}/messages`, payload)).statusCode, 400, JSON.stringify(payload))
  }
  t.equal((await asAlice('POST', `/api/conversations/${id}/messages`, { body: 'x', replyToId: '0123456789abcdef01234567' })).json().code, 'REPLY_NOT_FOUND')
  const reply = await asAlice('POST', `/api/conversations/${id}/messages`, { body: 'replying', replyToId: message.id })
  t.equal(reply.json().replyToId, message.id)
  t.equal((await asAlice('PATCH', `/api/messages/${message.id}`, { body: { $set: 'x' } })).statusCode, 400)
})

t.test('bodies: empty or blank 400, over MESSAGE_MAX_BYTES (UTF-8 bytes) 413, unknown attachments 404', async t => {
  const { app, alice, bob, id } = await directChat(t, { MESSAGE_MAX_BYTES: '100' })
  const post = async (payload: unknown) => await api(app, alice)('POST', `/api/conversations/${id}/messages`, payload)
  for (const body of ['', '   \n\t ']) {
    const res = await post({ body })
    t.equal(res.statusCode, 400)
    t.equal(res.json().code, 'EMPTY_MESSAGE')
  }
  t.equal((await post({})).statusCode, 400)
  t.equal((await post({ body: 'a'.repeat(100) })).statusCode, 201, 'exactly the limit')
  const tooBig = await post({ body: 'a'.repeat(101) })
  t.equal(tooBig.statusCode, 413)
  t.equal(tooBig.json().code, 'PAYLOAD_TOO_LARGE')
  t.equal((await post({ body: 'é'.repeat(51) })).statusCode, 413, '102 bytes in 51 characters')
  t.equal((await post({ body: 'x'.repeat(2 * 1024 * 1024) })).statusCode, 413, 'over the JSON body limit too')
  const files = await post({ body: 'x', attachmentIds: ['0123456789abcdef01234567'] })
  t.equal(files.statusCode, 404, 'an attachment nobody uploaded')
  t.equal(files.json().code, 'ATTACHMENT_NOT_FOUND')
  const message = (await post({ body: 'ok' })).json()
  t.equal((await api(app, alice)('PATCH', `/api/messages/${message.id}`, { body: 'b'.repeat(101) })).statusCode, 413)
  t.equal((await api(app, alice)('PATCH', `/api/messages/${message.id}`, { body: ' ' })).statusCode, 400)
  t.equal(await app.models.Message.countDocuments({}), 2)
})

t.test('clientMsgId: a retry answers 200 with the original; nothing stored twice, no seq consumed', async t => {
  const { app, alice, bob, id } = await directChat(t)
  const post = async (user: typeof alice, payload: unknown) => await api(app, user)('POST', `/api/conversations/${id}/messages`, payload)
  const first = await post(alice, { body: 'once', clientMsgId: 'c-1' })
  t.equal(first.statusCode, 201)
  const retry = await post(alice, { body: 'once (retried)', clientMsgId: 'c-1' })
  t.equal(retry.statusCode, 200)
  t.same(retry.json(), first.json(), 'the original, unchanged')
  const bobs = await post(bob, { body: 'same key, other sender', clientMsgId: 'c-1' })
  t.equal(bobs.statusCode, 201, 'keys are per sender')
  t.equal(bobs.json().seq, 2, 'no seq consumed by the retry')

  // Concurrent retries of one message: still one stored.
  const racing = await Promise.all(Array.from({ length: 10 }, async () => await post(alice, { body: 'race', clientMsgId: 'c-2' })))
  t.same(new Set(racing.map(r => r.json().id)).size, 1)
  t.equal(racing.filter(r => r.statusCode === 201).length, 1)
  t.equal(await app.models.Message.countDocuments({ clientMsgId: 'c-2' }), 1)
  const all = (await api(app, alice)('GET', `/api/conversations/${id}/messages`)).json().items
  t.same(all.map((m: { seq: number }) => m.seq), [1, 2, 3])
})

t.test('50 concurrent sends in one conversation get seqs exactly 1..50', async t => {
  const { app, alice, bob, id } = await directChat(t)
  const results = await Promise.all(Array.from({ length: 50 }, async (_, i) =>
    await api(app, i % 2 === 0 ? alice : bob)('POST', `/api/conversations/${id}/messages`, { body: `n${i}` })))
  t.same(results.map(r => r.statusCode).filter(s => s !== 201), [])
  t.same(results.map(r => r.json().seq).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1))
  const stored = await app.models.Message.find({ conversationId: id }).sort({ seq: 1 }).lean()
  t.same(stored.map(m => m.seq), Array.from({ length: 50 }, (_, i) => i + 1), 'no gaps, no duplicates')
  const view = (await api(app, alice)('GET', `/api/conversations/${id}`)).json()
  t.equal(view.lastSeq, 50)
  t.equal(view.lastMessage.seq, 50, 'lastMessage is the highest seq, whatever order the writes finished in')
})

t.test('edit and delete: sender only (or a platform admin), soft delete keeps id and seq', async t => {
  const { app, alice, bob, id } = await directChat(t)
  const m1 = await send(app, alice, id, 'first')
  const m2 = await send(app, alice, id, 'second')

  const byBob = await api(app, bob)('PATCH', `/api/messages/${m1.id}`, { body: 'hijack' })
  t.equal(byBob.statusCode, 403)
  t.equal(byBob.json().code, 'NOT_SENDER')
  const edited = await api(app, alice)('PATCH', `/api/messages/${m2.id}`, { body: 'second, edited' })
  t.equal(edited.statusCode, 200)
  t.match(edited.json(), { id: m2.id, seq: 2, body: 'second, edited', editedAt: String })
  t.match((await api(app, bob)('GET', `/api/conversations/${id}`)).json().lastMessage, { body: 'second, edited' }, 'lastMessage follows edits')

  t.equal((await api(app, bob)('DELETE', `/api/messages/${m1.id}`)).statusCode, 403)
  t.equal((await api(app, alice)('DELETE', `/api/messages/${m2.id}`)).statusCode, 204)
  t.equal((await api(app, alice)('DELETE', `/api/messages/${m2.id}`)).statusCode, 204, 'deleting again is a no-op')
  const items = (await api(app, bob)('GET', `/api/conversations/${id}/messages`)).json().items
  t.match(items[1], { id: m2.id, seq: 2, body: '', attachments: [], deletedAt: String })
  t.match((await api(app, bob)('GET', `/api/conversations/${id}`)).json().lastMessage, { id: m2.id, body: '', deletedAt: String })
  t.equal((await api(app, alice)('PATCH', `/api/messages/${m2.id}`, { body: 'resurrect' })).json().code, 'MESSAGE_DELETED')

  await app.models.User.updateOne({ _id: bob.id }, { $set: { role: 'admin' } })
  const asAdmin = await api(app, await newSession(app, bob))('DELETE', `/api/messages/${m1.id}`)
  t.equal(asAdmin.statusCode, 204, 'a platform admin may delete anyone\'s message')
  t.ok((await app.models.Message.findById(m1.id).lean())?.deletedAt)
  const next = await send(app, alice, id, 'after deletes')
  t.equal(next.seq, 3, 'deleted messages keep their seq')
})

t.test('rate limit: RATE_LIMIT_MESSAGES per user per 10 s, 429 with Retry-After', async t => {
  const { app, alice, bob, id } = await directChat(t, { RATE_LIMIT_MESSAGES: '3' })
  for (let i = 0; i < 3; i++) await send(app, alice, id, `m${i}`)
  const limited = await api(app, alice)('POST', `/api/conversations/${id}/messages`, { body: 'one too many' })
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'RATE_LIMITED')
  t.ok(Number(limited.headers['retry-after']) >= 1)
  t.equal((await api(app, bob)('POST', `/api/conversations/${id}/messages`, { body: 'bob is fine' })).statusCode, 201, 'per user')
  t.equal(await app.models.Message.countDocuments({ senderId: alice.id }), 3)
})

t.test('a deleted account\'s messages stay, the sender shown as deleted', async t => {
  const { app, alice, bob, id } = await directChat(t)
  const message = await send(app, bob, id, 'bye')
  t.equal((await api(app, bob)('DELETE', '/api/users/me', { password: bob.password })).statusCode, 204)
  const items = (await api(app, alice)('GET', `/api/conversations/${id}/messages`)).json().items
  t.match(items, [{ id: message.id, body: 'bye', senderId: bob.id }])
  const member = (await api(app, alice)('GET', `/api/conversations/${id}`)).json().members.find((m: { userId: string }) => m.userId === bob.id)
  t.match(member.user, { id: bob.id, deleted: true, username: 'deleted-user' })
  t.equal((await api(app, alice)('POST', '/api/conversations', { type: 'direct', userId: bob.id })).statusCode, 200, 'the existing conversation still opens')
})
