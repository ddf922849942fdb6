import t from 'tap'
import { buildChatApp } from '../../helpers/build-app.js'
import { directChat, openDirect, send } from '../../helpers/conversations.js'
import { api } from '../../helpers/rest.js'
import { signUp } from '../../helpers/users.js'

t.test('direct conversations: one per pair, 201 then 200, visible to both members only', async t => {
  const app = await buildChatApp(t)
  const alice = await signUp(app)
  const bob = await signUp(app)
  const eve = await signUp(app)

  const first = await api(app, alice)('POST', '/api/conversations', { type: 'direct', userId: bob.id, subject: 'Lunch' })
  t.equal(first.statusCode, 201)
  const conversation = first.json()
  t.match(conversation, { type: 'direct', subject: 'Lunch', name: null, visibility: 'private', createdBy: alice.id, lastSeq: 0, lastMessage: null, unreadCount: 0, readSeq: 0 })
  t.same(conversation.members.map((m: { userId: string }) => m.userId).sort(), [alice.id, bob.id].sort())
  t.equal(conversation.members.find((m: { userId: string }) => m.userId === bob.id).user.username, bob.username)

  const again = await api(app, bob)('POST', '/api/conversations', { type: 'direct', userId: alice.id })
  t.equal(again.statusCode, 200, 'the other side opening it gets the same one')
  t.equal(again.json().id, conversation.id)

  // Concurrent opens of a new pair: the unique directKey leaves exactly one.
  const results = await Promise.all(Array.from({ length: 10 }, () => api(app, alice)('POST', '/api/conversations', { type: 'direct', userId: eve.id })))
  t.same(new Set(results.map(r => r.json().id)).size, 1)
  t.equal(results.filter(r => r.statusCode === 201).length, 1)
  t.equal(await app.models.Conversation.countDocuments({ type: 'direct' }), 2)

  t.equal((await api(app, bob)('GET', `/api/conversations/${conversation.id}`)).statusCode, 200)
  const outsider = await api(app, eve)('GET', `/api/conversations/${conversation.id}`)
  t.equal(outsider.statusCode, 404)
  t.equal(outsider.json().code, 'CONVERSATION_NOT_FOUND')
  for (const bad of ['nope', '0123456789abcdef01234567', '%7B%22%24gt%22%3A%22%22%7D', 'x'.repeat(64)]) {
    const res = await api(app, alice)('GET', `/api/conversations/${bad}`)
    t.equal(res.statusCode, 404, bad)
  }
  t.equal((await api(app, alice)('GET', `/api/conversations/${'x'.repeat(65)}`)).statusCode, 400)
})

t.test('opening: bad input is a 4xx, never a 500', async t => {
  const app = await buildChatApp(t)
  const alice = await signUp(app)
  const call = api(app, alice)
  const cases: Array<[unknown, number]> = [
    [{ type: 'direct', userId: { $gt: '' } }, 400],
    [{ type: 'direct', userId: alice.id }, 400],
    [{ type: 'direct', userId: '0123456789abcdef01234567' }, 404],
    [{ type: 'direct', userId: 'not-an-id' }, 404],
    [{ type: 'group', name: 'x', memberIds: [{ $gt: '' }] }, 400],
    [{ type: 'direct' }, 400],
    [{ type: 'direct', userId: alice.id, extra: 1 }, 400]
  ]
  for (const [payload, status] of cases) {
    const res = await call('POST', '/api/conversations', payload)
    t.equal(res.statusCode, status, JSON.stringify(payload))
  }
  t.equal((await app.inject({ method: 'GET', url: '/api/conversations' })).statusCode, 401)
})

t.test('list: latest activity first, cursor pages, lastMessage and unreadCount per caller', async t => {
  const app = await buildChatApp(t)
  const me = await signUp(app)
  const others = [await signUp(app), await signUp(app), await signUp(app)]
  const ids = []
  for (const other of others) ids.push(await openDirect(app, me, other))
  await send(app, others[0], ids[0], 'hello from 0')
  await send(app, others[0], ids[0], 'again from 0')
  await send(app, me, ids[1], 'me to 1')

  const list = (await api(app, me)('GET', '/api/conversations')).json()
  t.same(list.items.map((c: { id: string }) => c.id), [ids[1], ids[0], ids[2]])
  t.equal(list.nextCursor, null)
  t.match(list.items[0], { lastSeq: 1, unreadCount: 0, readSeq: 1, lastMessage: { body: 'me to 1', senderId: me.id, seq: 1 } })
  t.match(list.items[1], { lastSeq: 2, unreadCount: 2, readSeq: 0, lastMessage: { body: 'again from 0' } })
  t.match(list.items[2], { lastSeq: 0, unreadCount: 0, lastMessage: null })

  const seen: string[] = []
  let cursor: string | null = null
  for (let pages = 0; pages < 5; pages++) {
    const page: { items: Array<{ id: string }>, nextCursor: string | null } =
      (await api(app, me)('GET', `/api/conversations?limit=1${cursor !== null ? `&cursor=${cursor}` : ''}`)).json()
    t.equal(page.items.length, 1)
    seen.push(page.items[0].id)
    cursor = page.nextCursor
    if (cursor === null) break
  }
  t.same(seen, [ids[1], ids[0], ids[2]], 'every conversation once across pages')
  for (const query of ['limit=0', 'limit=201', 'cursor=garbage', 'cursor[$gt]=x']) {
    t.equal((await api(app, me)('GET', `/api/conversations?${query}`)).statusCode, 400, query)
  }
  const theirs = (await api(app, others[0])('GET', '/api/conversations')).json()
  t.same(theirs.items.map((c: { id: string }) => c.id), [ids[0]], 'only their own')
  t.match(theirs.items[0], { unreadCount: 0, readSeq: 2 }, "the sender's own messages count as read")
})

t.test('read marks: forward only, clamped to lastSeq; unreadCount follows', async t => {
  const { app, alice, bob, id } = await directChat(t)
  const eve = await signUp(app)
  for (let i = 1; i <= 5; i++) await send(app, alice, id, `m${i}`)
  const view = async () => (await api(app, bob)('GET', `/api/conversations/${id}`)).json()
  t.match(await view(), { lastSeq: 5, unreadCount: 5, readSeq: 0 })

  t.equal((await api(app, bob)('POST', `/api/conversations/${id}/read`, { seq: 3 })).statusCode, 204)
  t.match(await view(), { unreadCount: 2, readSeq: 3 })
  t.equal((await api(app, bob)('POST', `/api/conversations/${id}/read`, { seq: 1 })).statusCode, 204)
  t.match(await view(), { unreadCount: 2, readSeq: 3 }, 'never backward')
  t.equal((await api(app, bob)('POST', `/api/conversations/${id}/read`, { seq: 999 })).statusCode, 204)
  t.match(await view(), { unreadCount: 0, readSeq: 5 }, 'clamped to lastSeq')
  await send(app, alice, id, 'm6')
  t.match(await view(), { unreadCount: 1, readSeq: 5 }, 'a new message is unread (not hidden by the over-long mark)')

  t.equal((await api(app, eve)('POST', `/api/conversations/${id}/read`, { seq: 1 })).statusCode, 404)
  for (const payload of [{ seq: -1 }, { seq: 'x' }, { seq: { $gt: 0 } }, {}]) {
    t.equal((await api(app, bob)('POST', `/api/conversations/${id}/read`, payload)).statusCode, 400, JSON.stringify(payload))
  }
})

t.test('hiding a direct conversation: gone from the caller\'s list until a new message arrives', async t => {
  const { app, alice, bob, id } = await directChat(t)
  const eve = await signUp(app)
  await send(app, bob, id, 'hi')
  const listed = async (user: typeof alice) => (await api(app, user)('GET', '/api/conversations')).json().items.map((c: { id: string }) => c.id)

  t.equal((await api(app, eve)('DELETE', `/api/conversations/${id}`)).statusCode, 404)
  t.equal((await api(app, alice)('DELETE', `/api/conversations/${id}`)).statusCode, 204)
  t.same(await listed(alice), [])
  t.same(await listed(bob), [id], 'still there for the other member')
  t.equal((await api(app, alice)('GET', `/api/conversations/${id}`)).statusCode, 200, 'still readable by id')

  await send(app, bob, id, 'are you there?')
  t.same(await listed(alice), [id], 'a new message brings it back')
  t.match((await api(app, alice)('GET', `/api/conversations/${id}`)).json(), { unreadCount: 1 }, 'hidden history counts as read')

  t.equal((await api(app, alice)('DELETE', `/api/conversations/${id}`)).statusCode, 204)
  t.equal((await api(app, alice)('POST', '/api/conversations', { type: 'direct', userId: bob.id })).statusCode, 200)
  t.same(await listed(alice), [id], 'opening it again un-hides it too')
})
