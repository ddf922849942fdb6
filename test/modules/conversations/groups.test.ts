/**
 * Groups over REST and sockets: creation, roles and who may do what, membership moving sockets live, join/leave,
 * ownership passing on, public discovery, receipts from the marks, the limits.
 */
import t, { type Test } from 'tap'
import { Types } from 'mongoose'
import { arrives, emitAck, emitOk, nextEvent, startRealtimeApp } from '../../helpers/realtime.js'
import { api } from '../../helpers/rest.js'
import { signUp, type TestUser } from '../../helpers/users.js'
import { waitFor } from '../../helpers/wait.js'

async function setup (t: Test, environment: NodeJS.ProcessEnv = {}) {
  const kit = await startRealtimeApp(t, { RATE_LIMIT_MESSAGES: '0', RATE_LIMIT_REGISTER: '0', ...environment })
  const [owner, admin, member, outsider] = await Promise.all(['owner', 'admin', 'member', 'outsider'].map(async name => await signUp(kit.app, name)))
  const as = (user: TestUser) => api(kit.app, user)
  const created = await as(owner)('POST', '/api/conversations', { type: 'group', name: 'Team', subject: 'work', memberIds: [admin.id, member.id.toUpperCase()] })
  t.equal(created.statusCode, 201, 'created')
  const group = created.json()
  t.equal((await as(owner)('PATCH', `/api/conversations/${group.id}/members/${admin.id}`, { role: 'admin' })).statusCode, 200)
  return { kit, owner, admin, member, outsider, as, group }
}

t.test('create: the creator owns it, members are in, ids in any case; bad input is a 4xx', async t => {
  const { owner, admin, member, as, group } = await setup(t)
  t.match(group, { type: 'group', name: 'Team', subject: 'work', visibility: 'private', createdBy: owner.id })
  const roles = Object.fromEntries((await as(owner)('GET', `/api/conversations/${group.id}`)).json().members.map((m: { userId: string, role: string }) => [m.userId, m.role]))
  t.same(roles, { [owner.id]: 'owner', [admin.id]: 'admin', [member.id]: 'member' })
  for (const [body, status] of [
    [{ type: 'group', name: '', memberIds: [] }, 400], [{ type: 'group', name: '   ', memberIds: [] }, 400],
    [{ type: 'group', name: 'x'.repeat(101), memberIds: [] }, 400], [{ type: 'group', name: 'x', memberIds: Array.from({ length: 101 }, () => new Types.ObjectId().toHexString()) }, 400],
    [{ type: 'group', name: 'x', memberIds: [new Types.ObjectId().toHexString()] }, 404], [{ type: 'group', name: 'x', memberIds: [{ $gt: '' }] }, 400],
    [{ type: 'group', name: 'x', memberIds: [], visibility: 'secret' }, 400]
  ] as const) t.equal((await as(owner)('POST', '/api/conversations', body)).statusCode, status, JSON.stringify(body).slice(0, 60))
})

t.test('who may do what: non-members 404, members not admins 403, admins not on the owner or each other', async t => {
  const { kit, owner, admin, member, outsider, as, group } = await setup(t)
  const second = await signUp(kit.app, 'second')
  t.equal((await as(owner)('POST', `/api/conversations/${group.id}/members`, { userIds: [second.id] })).statusCode, 200)
  t.equal((await as(owner)('PATCH', `/api/conversations/${group.id}/members/${second.id}`, { role: 'admin' })).statusCode, 200)
  const url = `/api/conversations/${group.id}`
  t.equal((await as(outsider)('GET', url)).statusCode, 404, 'an outsider does not see it')
  t.equal((await as(outsider)('GET', `${url}/messages`)).statusCode, 404)
  t.equal((await as(outsider)('PATCH', url, { name: 'x' })).statusCode, 404)
  t.equal((await as(outsider)('POST', `${url}/join`)).statusCode, 403, 'a private group cannot be joined')
  t.equal((await as(member)('PATCH', url, { name: 'x' })).statusCode, 403, 'a member cannot rename')
  t.equal((await as(member)('POST', `${url}/members`, { userIds: [outsider.id] })).statusCode, 403)
  t.equal((await as(member)('DELETE', `${url}/members/${admin.id}`)).statusCode, 403)
  t.equal((await as(admin)('DELETE', `${url}/members/${owner.id}`)).statusCode, 403, 'an admin cannot remove the owner')
  t.equal((await as(admin)('DELETE', `${url}/members/${second.id}`)).statusCode, 403, 'nor another admin')
  t.equal((await as(admin)('PATCH', `${url}/members/${member.id}`, { role: 'admin' })).statusCode, 403, 'only the owner changes roles')
  t.equal((await as(admin)('DELETE', url)).statusCode, 403, 'only the owner deletes it')
  t.equal((await as(admin)('PATCH', url, { name: 'Renamed' })).statusCode, 200, 'an admin renames')
  t.equal((await as(admin)('DELETE', `${url}/members/${member.id}`)).statusCode, 204, 'and removes a member')
  t.equal((await as(member)('GET', `${url}/messages`)).statusCode, 404, 'the removed member can no longer read history')
  t.equal((await as(member)('POST', `${url}/messages`, { body: 'hi' })).statusCode, 404, 'nor send')
})

t.test('membership moves sockets live: a removed member stops receiving at once, an added one starts', async t => {
  const { kit, owner, member, outsider, as, group } = await setup(t)
  const [ownerSocket, memberSocket, outsiderSocket] = await Promise.all([owner, member, outsider].map(async user => await kit.connect(user.accessToken)))
  const joined = nextEvent(outsiderSocket, 'member_joined')
  t.equal((await as(owner)('POST', `/api/conversations/${group.id}/members`, { userIds: [outsider.id] })).statusCode, 200)
  t.same(await joined, { action: 'member_joined', conversationId: group.id, userId: outsider.id })
  const toNew = nextEvent(outsiderSocket, 're_message')
  await emitOk(ownerSocket, 'chat_message', { conversationId: group.id, body: 'welcome' })
  t.match(await toNew, { message: { body: 'welcome' } }, 'the new member receives at once')

  const left = nextEvent(memberSocket, 'member_left')
  t.equal((await as(owner)('DELETE', `/api/conversations/${group.id}/members/${member.id}`)).statusCode, 204)
  t.same(await left, { action: 'member_left', conversationId: group.id, userId: member.id }, 'the removed user learns it')
  const stillThere = arrives(memberSocket, 're_message', 500)
  await emitOk(ownerSocket, 'chat_message', { conversationId: group.id, body: 'after the removal' })
  t.notOk(await stillThere, 'nothing after the removal reaches them')
  t.match(await emitAck(memberSocket, 'typing', { conversationId: group.id, isTyping: true }), { ok: false, error: { code: 'CONVERSATION_NOT_FOUND' } })
  t.match(await emitAck(memberSocket, 'sync', { cursors: [{ conversationId: group.id, afterSeq: 0 }] }), { ok: false, error: { code: 'CONVERSATION_NOT_FOUND' } })
})

t.test('leaving: the owner hands over to the longest-standing admin, else member; the last one deletes the group', async t => {
  const { kit, owner, admin, member, as, group } = await setup(t)
  const url = `/api/conversations/${group.id}`
  t.equal((await as(owner)('POST', `${url}/leave`)).statusCode, 204)
  const after = (await as(admin)('GET', url)).json()
  t.same(Object.fromEntries(after.members.map((m: { userId: string, role: string }) => [m.userId, m.role])), { [admin.id]: 'owner', [member.id]: 'member' }, 'the admin owns it now')
  t.equal((await as(admin)('DELETE', `${url}/members/${admin.id}`)).statusCode, 204, 'removing yourself is leaving')
  t.match((await as(member)('GET', url)).json(), { members: [{ userId: member.id, role: 'owner' }] }, 'then the member')
  const memberSocket = await kit.connect(member.accessToken)
  const deleted = nextEvent(memberSocket, 'conversation_deleted')
  t.equal((await as(member)('POST', `${url}/leave`)).statusCode, 204)
  t.same(await deleted, { action: 'conversation_deleted', conversationId: group.id })
  t.equal(await kit.app.models.Conversation.countDocuments({ _id: group.id }), 0, 'the last member leaving deletes it')
})

t.test('public groups: discovered by name prefix, joined by anyone, history readable after joining', async t => {
  const { owner, outsider, as, group } = await setup(t)
  const url = `/api/conversations/${group.id}`
  await as(owner)('POST', `${url}/messages`, { body: 'before you came' })
  t.same((await as(outsider)('GET', '/api/conversations/public?search=te')).json().items, [], 'a private group is not listed')
  t.equal((await as(outsider)('GET', `${url}/messages`)).statusCode, 404, 'nor readable before joining')
  t.equal((await as(owner)('PATCH', url, { visibility: 'public' })).statusCode, 200)
  for (const search of ['te', 'TEAM', 'Team']) {
    t.same((await as(outsider)('GET', `/api/conversations/public?search=${search}`)).json().items.map((g: { id: string }) => g.id), [group.id], search)
  }
  t.same((await as(outsider)('GET', '/api/conversations/public?search=.*')).json().items, [], 'regex metacharacters are literal')
  t.equal((await as(outsider)('POST', `${url}/join`)).statusCode, 200)
  t.equal((await as(outsider)('POST', `${url}/join`)).statusCode, 200, 'joining again changes nothing')
  t.same((await as(outsider)('GET', `${url}/messages`)).json().items.map((m: { body: string }) => m.body), ['before you came'], 'members read the whole history')
})

t.test('receipts: who has delivered and read up to a seq, from the marks; members only', async t => {
  const { owner, admin, member, outsider, as, group } = await setup(t)
  const url = `/api/conversations/${group.id}`
  await as(owner)('POST', `${url}/messages`, { body: 'one' })
  await as(owner)('POST', `${url}/messages`, { body: 'two' })
  await as(admin)('POST', `${url}/read`, { seq: 2 })
  await as(member)('POST', `${url}/read`, { seq: 1 })
  const receipts = (await as(member)('GET', `${url}/receipts?seq=2`)).json()
  t.same(receipts.read.sort(), [owner.id, admin.id].sort(), 'the sender and the admin have read 2')
  t.equal((await as(outsider)('GET', `${url}/receipts?seq=1`)).statusCode, 404)
  t.equal((await as(member)('GET', `${url}/receipts?seq=0`)).statusCode, 400)
})

t.test('limits: GROUP_MAX_MEMBERS (409 GROUP_FULL) and groups created per hour (429)', async t => {
  const { kit, owner, outsider, as, group } = await setup(t, { GROUP_MAX_MEMBERS: '3' })
  const full = await as(owner)('POST', `/api/conversations/${group.id}/members`, { userIds: [outsider.id] })
  t.equal(full.statusCode, 409)
  t.equal(full.json().code, 'GROUP_FULL')
  const statuses = []
  for (let i = 0; i < 21; i++) statuses.push((await as(outsider)('POST', '/api/conversations', { type: 'group', name: `g${i}`, memberIds: [] })).statusCode)
  t.equal(statuses.filter(s => s === 201).length, 20)
  t.equal(statuses[20], 429, 'the 21st group in an hour is refused')
  void kit
})

t.test('presence: a user sharing several groups with a watcher is pushed once, not once per group', async t => {
  const { kit, owner, member, as } = await setup(t)
  for (const name of ['second', 'third']) {
    t.equal((await as(owner)('POST', '/api/conversations', { type: 'group', name, memberIds: [member.id] })).statusCode, 201)
  }
  const watcher = await kit.connect(owner.accessToken)
  const pushes: unknown[] = []
  watcher.on('presence', payload => { if (payload.userId === member.id) pushes.push(payload) })
  await kit.connect(member.accessToken)
  await waitFor(() => pushes.length > 0, 5000, 'the online push')
  await emitAck(watcher, 'presence_query', { userIds: [] })
  t.equal(pushes.length, 1, 'three shared groups, one push')
})

t.test('a group\'s owner and admins delete members\' messages; members do not delete others\'', async t => {
  const { owner, admin, member, as, group } = await setup(t)
  const url = `/api/conversations/${group.id}/messages`
  const byMember = (await as(member)('POST', url, { body: 'by the member' })).json()
  const byOwner = (await as(owner)('POST', url, { body: 'by the owner' })).json()
  const refused = await as(member)('DELETE', `/api/messages/${byOwner.id}`)
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().code, 'NOT_SENDER')
  t.equal((await as(admin)('DELETE', `/api/messages/${byMember.id}`)).statusCode, 204, 'an admin moderates')
  t.equal((await as(owner)('DELETE', `/api/messages/${byMember.id}`)).statusCode, 204, 'the owner too (again: no change)')
  const history = (await as(member)('GET', url)).json().items
  t.match(history[0], { id: byMember.id, body: '', deletedAt: String })
  t.match(history[1], { id: byOwner.id, body: 'by the owner', deletedAt: null })
})

t.test('a removed member: every socket event through the group is refused; re-added, they see what the history rule says', async t => {
  const { kit, owner, member, as, group } = await setup(t)
  const url = `/api/conversations/${group.id}`
  const own = (await as(member)('POST', `${url}/messages`, { body: 'mine' })).json()
  await as(owner)('POST', `${url}/messages`, { body: 'while you were in' })
  const socket = await kit.connect(member.accessToken)
  t.equal((await as(owner)('DELETE', `${url}/members/${member.id}`)).statusCode, 204)
  const refused = { ok: false, error: { code: /CONVERSATION_NOT_FOUND|MESSAGE_NOT_FOUND/ } }
  t.match(await emitAck(socket, 'chat_message', { conversationId: group.id, body: 'x' }), refused, 'chat_message')
  t.match(await emitAck(socket, 'chat_message_file', { conversationId: group.id, attachmentIds: [own.id] }), { ok: false }, 'chat_message_file')
  t.match(await emitAck(socket, 'message_edit', { messageId: own.id, body: 'edited' }), refused, 'editing their own old message')
  t.match(await emitAck(socket, 'message_delete', { messageId: own.id }), refused, 'deleting it')
  for (const event of ['delivered', 'read'] as const) t.match(await emitAck(socket, event, { conversationId: group.id, seq: 2 }), refused, event)
  t.match(await emitAck(socket, 'typing', { conversationId: group.id, isTyping: true }), refused, 'typing')
  t.match(await emitAck(socket, 'presence_query', { userIds: [owner.id] }), { ok: true, data: { [owner.id]: { online: false, lastSeenAt: null } } },
    'no presence through the group any more')
  t.equal((await as(member)('GET', `${url}/receipts?seq=1`)).statusCode, 404, 'no receipts')

  await as(owner)('POST', `${url}/messages`, { body: 'while you were out' })
  t.equal((await as(owner)('POST', `${url}/members`, { userIds: [member.id] })).statusCode, 200, 're-added')
  const history = (await as(member)('GET', `${url}/messages`)).json().items.map((m: { body: string }) => m.body)
  t.same(history, ['mine', 'while you were in', 'while you were out'], 'members read the whole history, as docs/groups.md says')
  t.match(await emitAck(socket, 'chat_message', { conversationId: group.id, body: 'back' }), { ok: true }, 'and send again at once')
})

t.test('public discovery pages by name with a cursor, the search prefix kept across pages', async t => {
  const { owner, outsider, as } = await setup(t)
  for (const name of ['Alpha one', 'alpha two', 'Alpha three', 'Beta']) {
    t.equal((await as(owner)('POST', '/api/conversations', { type: 'group', name, memberIds: [], visibility: 'public' })).statusCode, 201)
  }
  const first = (await as(outsider)('GET', '/api/conversations/public?search=alpha&limit=2')).json()
  t.same(first.items.map((g: { name: string }) => g.name), ['Alpha one', 'Alpha three'])
  t.type(first.nextCursor, 'string')
  const second = (await as(outsider)('GET', `/api/conversations/public?search=alpha&limit=2&cursor=${first.nextCursor}`)).json()
  t.same(second.items.map((g: { name: string }) => g.name), ['alpha two'], 'Beta is not an alpha')
  t.equal(second.nextCursor, null)
})
