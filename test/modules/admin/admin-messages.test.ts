/**
 * GET /api/admin/messages: each filter alone and combined against what the test stored, literal `q`, deleted messages
 * (text only with RETAIN_DELETED_TEXT), the enriched items, and keyset pages that neither skip nor repeat while
 * messages are inserted between the pages.
 */
import t from 'tap'
import { adminWorld, allPages, send } from './admin-kit.js'
import { api } from '../../helpers/rest.js'
import { uploaded, pngFixture } from '../attachments/attachment-helpers.js'

interface Item { id: string, body: string, senderId: string, conversationId: string, createdAt: string, deletedAt: string | null, retainedBody: string | null, attachments: unknown[], conversation: { id: string, type: string, name: string | null }, sender: { id: string, username: string } }

t.test('every filter alone and combined returns exactly the matching messages, in (createdAt, id) order', async t => {
  const world = await adminWorld(t)
  const { app, alice, bob, carol, directId, groupId, get } = world
  const file = await uploaded(app, alice, { filename: 'a.png', data: pngFixture(100) })
  const stored = [
    await send(app, alice, directId, 'Hello Bob'),
    await send(app, bob, directId, 'hi alice (a+b)*'),
    await send(app, alice, groupId, 'team: hello all', { attachmentIds: [file.id] }),
    await send(app, carol, groupId, 'carol says HELLO'),
    await send(app, bob, groupId, 'a.b.c literal dots')
  ]
  const middle = stored[2].createdAt as string
  const ids = async (query: Record<string, string | number | boolean>) => {
    const res = await get('/messages', query)
    t.equal(res.statusCode, 200, JSON.stringify(query))
    return res.json().items.map((item: Item) => item.id)
  }
  const pick = (...indexes: number[]) => indexes.map(i => stored[i].id)

  t.same(await ids({}), pick(0, 1, 2, 3, 4), 'no filter: everything, oldest first')
  t.same(await ids({ order: 'desc' }), pick(4, 3, 2, 1, 0), 'order=desc')
  t.same(await ids({ conversationId: directId }), pick(0, 1), 'conversationId')
  t.same(await ids({ conversationId: directId.toUpperCase() }), pick(0, 1), 'an upper-cased id is the same conversation')
  t.same(await ids({ senderId: alice.id }), pick(0, 2), 'senderId')
  t.same(await ids({ participantId: carol.id }), pick(2, 3, 4), 'participantId: the conversations carol is in')
  t.same(await ids({ participantId: alice.id }), pick(0, 1, 2, 3, 4), 'alice is in both')
  t.same(await ids({ from: middle }), pick(2, 3, 4), 'from is inclusive')
  t.same(await ids({ to: middle }), pick(0, 1), 'to is exclusive')
  t.same(await ids({ q: 'hello' }), pick(0, 2, 3), 'q: case-insensitive')
  t.same(await ids({ q: '(a+b)*' }), pick(1), 'q: regex metacharacters are literal')
  t.same(await ids({ q: 'a.b.c' }), pick(4), 'q: a dot is a dot')
  t.same(await ids({ q: '.*' }), [], 'q: .* matches only the characters .*')
  t.same(await ids({ hasAttachment: true }), pick(2), 'hasAttachment=true')
  t.same(await ids({ hasAttachment: false }), pick(0, 1, 3, 4), 'hasAttachment=false')
  t.same(await ids({ senderId: bob.id, conversationId: groupId }), pick(4), 'sender + conversation')
  t.same(await ids({ senderId: alice.id, from: middle, q: 'HELLO' }), pick(2), 'sender + range + q')
  t.same(await ids({ participantId: carol.id, to: middle }), [], 'participant + range: nothing before the group had messages')
  t.same(await ids({ conversationId: groupId, q: 'hello', hasAttachment: false }), pick(3), 'conversation + q + attachment')
  const outsider = (await api(app, alice)('GET', '/api/users/me')).json().id as string
  t.same(await ids({ participantId: '0123456789abcdef01234567' }), [], 'a participant of nothing: empty, not everything')
  t.ok(outsider.length === 24)

  const page = (await get('/messages', { conversationId: groupId, hasAttachment: true })).json().items as Item[]
  t.match(page[0], {
    body: 'team: hello all', senderId: alice.id,
    conversation: { id: groupId, type: 'group', name: 'Team Room' },
    sender: { id: alice.id, username: alice.username },
    attachments: [{ id: file.id, name: 'a.png' }],
    retainedBody: null
  }, 'each item names its conversation and its sender')
  const direct = (await get('/messages', { conversationId: directId })).json().items as Item[]
  t.same(direct[0].conversation, { id: directId, type: 'direct', name: null })
})

t.test('bad filters are a clear 400, never a query', async t => {
  const { get } = await adminWorld(t)
  for (const query of [
    { senderId: 'nope' }, { conversationId: '0123456789abcdef0123456z' }, { from: 'yesterday' }, { to: '2026-13-45T00:00:00Z' },
    { hasAttachment: 'maybe' }, { limit: 0 }, { limit: 201 }, { order: 'sideways' }, { q: 'x'.repeat(201) }, { q: 'a\u0000b' },
    { cursor: 'not-a-cursor' }, { cursor: Buffer.from('{"t":"x","id":"y"}').toString('base64url') }, { unknown: 1 },
    { 'senderId[$gt]': '' }, { from: '2026-12-02T00:00:00Z', to: '2026-12-01T00:00:00Z' }
  ] as Array<Record<string, string | number>>) {
    const res = await get('/messages', query)
    t.equal(res.statusCode, 400, `${JSON.stringify(query)}: ${res.body}`)
    t.match(res.json(), { code: /^(VALIDATION_ERROR|INVALID_CURSOR)$/ })
  }
})

t.test('deleted messages: only with includeDeleted, and their text only when RETAIN_DELETED_TEXT is on', async t => {
  for (const retain of [false, true]) {
    const { app, alice, directId, get } = await adminWorld(t, { RETAIN_DELETED_TEXT: String(retain) })
    const gone = await send(app, alice, directId, 'regrettable words')
    const kept = await send(app, alice, directId, 'fine words')
    t.equal((await api(app, alice)('DELETE', `/api/messages/${gone.id}`)).statusCode, 204)
    t.same((await get('/messages', {})).json().items.map((item: Item) => item.id), [kept.id], `retain=${retain}: hidden by default`)
    const all = (await get('/messages', { includeDeleted: true })).json().items as Item[]
    t.same(all.map(item => item.id), [gone.id, kept.id], 'shown with includeDeleted')
    t.equal(all[0].body, '', 'the body is gone as users see it')
    t.ok(all[0].deletedAt !== null)
    t.equal(all[0].retainedBody, retain ? 'regrettable words' : null, retain ? 'the kept text' : 'no text without retention')
    const found = (await get('/messages', { includeDeleted: true, q: 'regrettable' })).json().items as Item[]
    t.same(found.map(item => item.id), retain ? [gone.id] : [], 'q finds kept text only when it is kept')
    // Users never see the kept text: not in history, not in the conversation's last message.
    const history = await api(app, alice)('GET', `/api/conversations/${directId}/messages`)
    t.notMatch(history.body, /regrettable/, 'history does not carry it')
    const stored = await app.models.Message.findById(gone.id).lean()
    t.equal(stored?.retainedBody, retain ? 'regrettable words' : undefined, 'stored only with retention')
  }
})

t.test('pages neither skip nor repeat while messages are inserted between them, both orders', async t => {
  const { app, alice, bob, directId, get } = await adminWorld(t)
  const before: string[] = []
  for (let i = 0; i < 23; i++) before.push((await send(app, i % 2 === 0 ? alice : bob, directId, `m${i}`)).id)
  for (const order of ['asc', 'desc'] as const) {
    let inserted = 0
    const seen = await allPages<Item>(async cursor => {
      // Another message lands between every two pages.
      await send(app, alice, directId, `during ${order} ${inserted++}`)
      const res = await get('/messages', { conversationId: directId, limit: 5, order, ...cursor !== undefined ? { cursor } : {} })
      t.equal(res.statusCode, 200)
      return res.json()
    })
    const ids = seen.map(item => item.id)
    t.equal(new Set(ids).size, ids.length, `${order}: no message twice`)
    const expected = order === 'asc' ? before : [...before].reverse()
    t.same(ids.filter(id => before.includes(id)), expected, `${order}: every message that existed is there once, in order`)
    const times = seen.map(item => `${item.createdAt}|${item.id}`)
    const sorted = [...times].sort()
    t.same(times, order === 'asc' ? sorted : sorted.reverse(), `${order}: (createdAt, id) order`)
  }
})

t.test('messages sharing one createdAt are ordered and paged by id', async t => {
  const { app, alice, directId, get } = await adminWorld(t)
  const sent = []
  for (let i = 0; i < 7; i++) sent.push((await send(app, alice, directId, `tie ${i}`)).id)
  const at = new Date('2026-06-01T00:00:00Z')
  await app.models.Message.collection.updateMany({}, { $set: { createdAt: at } })
  const seen = await allPages<Item>(async cursor => (await get('/messages', { limit: 2, ...cursor !== undefined ? { cursor } : {} })).json())
  t.same(seen.map(item => item.id), [...sent].sort(), 'all seven once, by id')
})
