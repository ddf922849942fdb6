/**
 * The audit log: an entry for each admin action (who, when, IP, route, params, target, count), its filters and
 * pages, and no way to change or delete an entry through the API. Also the conversations and stats routes it logs.
 */
import t from 'tap'
import { adminWorld, allPages, send } from './admin-kit.js'
import { api } from '../../helpers/rest.js'

interface Entry { id: string, actorId: string, action: string, at: string, ip: string, route: string, params: Record<string, unknown>, targetId: string | null, resultCount: number | null, status: string }

t.test('every admin action leaves one entry with who, where, what and how many', async t => {
  const { app, root, alice, bob, carol, directId, groupId, get } = await adminWorld(t)
  await send(app, alice, directId, 'one')
  await send(app, bob, groupId, 'two')
  t.equal((await get('/messages', { senderId: alice.id, limit: 10 })).json().items.length, 1)
  t.equal((await get('/messages/export', { q: 'two' })).statusCode, 200)
  const conversations = (await get('/conversations', { userId: carol.id })).json()
  t.same(conversations.items.map((c: { id: string }) => c.id), [groupId], 'conversations of a member')
  t.equal(conversations.items[0].members.length, 3, 'with all members')
  const one = await get(`/conversations/${directId}`)
  t.match(one.json(), { id: directId, type: 'direct', members: [{ userId: alice.id, user: { username: alice.username } }, { userId: bob.id }] })
  t.equal((await get('/conversations/0123456789abcdef01234567')).statusCode, 404)
  t.same((await get('/conversations', { type: 'group', search: 'team' })).json().items.map((c: { id: string }) => c.id), [groupId], 'type + name prefix')
  t.same((await get('/conversations', { search: 'room' })).json().items, [], 'a prefix, not a substring')
  t.equal((await get('/users', { role: 'admin' })).statusCode, 200)
  t.equal((await api(app, root)('PATCH', `/api/admin/users/${carol.id}`, { role: 'admin' })).statusCode, 200)
  const stats = (await get('/stats')).json()
  t.match(stats, { users: { total: 4, admins: 2, disabled: 0 }, conversations: { direct: 1, group: 1 }, messages: { total: 2, last24h: 2 }, onlineUsers: 0 })
  t.equal(stats.instances.length, 1, 'one instance')
  t.match(stats.instances[0], { instanceId: /./, sockets: 0 })

  const log = (await get('/audit', { limit: 200 })).json().items as Entry[]
  t.same(log.map(entry => entry.action), [
    'stats.read', 'users.update', 'users.list', 'conversations.list', 'conversations.list', 'conversations.read',
    'conversations.list', 'messages.export', 'messages.search'
  ], 'newest first; the failed read (404) left none, and this read is not in its own page')
  const byAction = (action: string) => log.find(entry => entry.action === action) as Entry
  t.match(byAction('messages.search'), { actorId: root.id, ip: '127.0.0.1', route: 'GET /api/admin/messages', params: { senderId: alice.id, limit: 10 }, resultCount: 1, status: 'done' })
  t.match(byAction('messages.export'), { route: 'GET /api/admin/messages/export', params: { q: 'two' }, resultCount: 1, status: 'completed' })
  t.match(byAction('users.update'), { targetId: carol.id, params: { role: 'admin' }, resultCount: null })
  t.match(byAction('conversations.read'), { targetId: directId, resultCount: 1 })
  t.equal((await get('/audit', { action: 'audit.read' })).json().items.length, 1, 'reading the log is logged too')
})

t.test('filters and pages of the log; entries cannot be changed or deleted', async t => {
  const { app, root, alice, get } = await adminWorld(t)
  await api(app, root)('PATCH', `/api/admin/users/${alice.id}`, { role: 'admin' })
  for (let i = 0; i < 4; i++) await get('/stats', {}, alice)
  const mid = new Date().toISOString()
  await get('/stats')
  t.equal((await get('/audit', { actorId: alice.id })).json().items.length, 4, 'by actor')
  t.equal((await get('/audit', { actorId: root.id, action: 'users.update' })).json().items.length, 1, 'actor + action')
  t.same((await get('/audit', { from: mid, action: 'stats.read' })).json().items.map((entry: Entry) => entry.actorId), [root.id], 'from')
  const all = await allPages<Entry>(async cursor => (await get('/audit', { action: 'stats.read', limit: 2, ...cursor !== undefined ? { cursor } : {} })).json())
  t.equal(all.length, 5, 'pages of two, each entry once')
  t.equal(new Set(all.map(entry => entry.id)).size, 5)
  t.equal((await get('/audit', { action: 'messages.delete' })).statusCode, 400, 'an unknown action is a 400')

  const id = all[0].id
  for (const method of ['DELETE', 'PATCH', 'PUT', 'POST'] as const) {
    for (const url of [`/api/admin/audit/${id}`, '/api/admin/audit']) {
      const res = await api(app, root)(method, url, {})
      t.ok([404, 405].includes(res.statusCode), `${method} ${url}: ${res.statusCode}`)
    }
  }
  t.equal(await app.models.AuditEntry.countDocuments({ _id: id }), 1, 'still there')
})

t.test('a conversation id that is no ObjectId names nothing: 404, not a crash', async t => {
  const { get } = await adminWorld(t)
  for (const id of ['x', 'z'.repeat(64), '%24gt']) t.equal((await get(`/conversations/${id}`)).statusCode, 404, id)
})
