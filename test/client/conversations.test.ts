/**
 * client.conversations: the list follows live events across clients (order, lastMessage, unread counts that
 * match the server's GET /api/conversations once its bookkeeping is written), a message for a conversation not in
 * the list fetches it, markRead on one device clears the other's badge, edits and deletes of the last message
 * show, and the group calls (create, add, rename, leave, remove, join) update every member's list.
 */
import t from 'tap'
import type { Conversation, FetchLike, ParleyClient } from '../../client/src/index.js'
import { api } from '../helpers/rest.js'
import { newSession, signUp, type TestUser } from '../helpers/users.js'
import { waitFor } from '../helpers/wait.js'
import { directClients, startClientApp, stored, waitForStored } from './client-kit.js'
import type { FastifyInstance } from 'fastify'

/** The server's view of the user's conversation, from GET /api/conversations. */
async function serverView (app: FastifyInstance, user: TestUser, id: string): Promise<Conversation | undefined> {
  const res = await api(app, user)('GET', '/api/conversations?limit=200')
  return (res.json().items as Conversation[]).find(c => c.id === id)
}

/** Waits until the client's list and the server agree on the conversation's lastSeq, readSeq and unreadCount. */
async function agreesWithServer (app: FastifyInstance, user: TestUser, client: ParleyClient, id: string, lastSeq: number): Promise<void> {
  let seen = ''
  await waitFor(async () => {
    const local = client.conversations.get(id)
    const remote = await serverView(app, user, id)
    seen = JSON.stringify({ local: local && [local.lastSeq, local.readSeq, local.unreadCount], remote: remote && [remote.lastSeq, remote.readSeq, remote.unreadCount] })
    return local !== undefined && remote !== undefined && local.lastSeq === lastSeq && remote.lastSeq === lastSeq &&
      local.readSeq === remote.readSeq && local.unreadCount === remote.unreadCount
  }, 10_000, `the list to agree with the server (${seen})`)
}

t.test('the list follows messages live: order, lastMessage, unread counts as the server counts them', async t => {
  const kit = await directClients(t)
  const carol = await signUp(kit.app, 'carol')
  const withCarol = (await api(kit.app, kit.alice)('POST', '/api/conversations', { type: 'direct', userId: carol.id })).json().id as string
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob)
  const carolClient = await kit.client(carol)
  const lists: Conversation[][] = []
  alice.conversations.on('changed', list => { lists.push(list) })
  await alice.conversations.load()
  await bob.conversations.load()
  t.same(alice.conversations.list().map(c => c.id), [withCarol, kit.id], 'latest activity first (the newer conversation)')
  t.equal(lists.length, 1, 'load emits changed once')
  t.match(alice.conversations.get(kit.id), { id: kit.id, type: 'direct', lastSeq: 0, unreadCount: 0, lastMessage: null })
  t.equal(alice.conversations.get('000000000000000000000000'), undefined)

  bob.send(kit.id, 'one')
  bob.send(kit.id, 'two')
  await waitFor(() => alice.conversations.get(kit.id)?.unreadCount === 2, 5000, 'two unread for alice')
  t.same(alice.conversations.list().map(c => c.id), [kit.id, withCarol], 'the conversation with a new message moved to the top')
  t.match(alice.conversations.get(kit.id), { lastSeq: 2, readSeq: 0, lastMessage: { seq: 2, body: 'two', senderId: kit.bob.id } })
  await waitFor(() => bob.conversations.get(kit.id)?.lastSeq === 2, 5000, 'bob\'s own acked sends')
  t.match(bob.conversations.get(kit.id), { lastSeq: 2, readSeq: 2, unreadCount: 0, lastMessage: { body: 'two' } }, 'our own sends are read')
  await agreesWithServer(kit.app, kit.alice, alice, kit.id, 2)
  await agreesWithServer(kit.app, kit.bob, bob, kit.id, 2)

  carolClient.send(withCarol, 'hi from carol')
  await waitFor(() => alice.conversations.list()[0]?.id === withCarol, 5000, 'carol\'s conversation on top')
  t.match(alice.conversations.get(withCarol), { lastSeq: 1, unreadCount: 1, lastMessage: { body: 'hi from carol' } })
  alice.send(withCarol, 'hi carol')
  await waitFor(() => alice.conversations.get(withCarol)?.lastSeq === 2, 5000, 'alice\'s reply')
  t.match(alice.conversations.get(withCarol), { readSeq: 2, unreadCount: 0 }, 'replying moves our read mark, as on the server')
  await agreesWithServer(kit.app, kit.alice, alice, withCarol, 2)
  const last = lists.at(-1) as Conversation[]
  t.same(last.map(c => c.id), alice.conversations.list().map(c => c.id), 'changed carries the list')
})

t.test('a message for a conversation not in the list fetches it; a new direct conversation arrives live', async t => {
  const kit = await directClients(t)
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob)
  // Alice hides the conversation (DELETE on a direct one): it leaves her list on the server.
  t.equal((await api(kit.app, kit.alice)('DELETE', `/api/conversations/${kit.id}`)).statusCode, 204)
  await alice.conversations.load()
  t.same(alice.conversations.list(), [], 'hidden: not in the list')
  bob.send(kit.id, 'are you there?')
  await waitFor(() => alice.conversations.get(kit.id) !== undefined, 5000, 'the conversation fetched')
  t.match(alice.conversations.get(kit.id), { lastSeq: 1, unreadCount: 1, lastMessage: { body: 'are you there?' } }, 'with the message that brought it')
  await agreesWithServer(kit.app, kit.alice, alice, kit.id, 1)

  const dave = await signUp(kit.app, 'dave')
  const daveClient = await kit.client(dave)
  await daveClient.conversations.load()
  const opened = await daveClient.conversations.openDirect(kit.alice.id)
  t.match(opened, { type: 'direct', members: [{ userId: dave.id }, { userId: kit.alice.id }] })
  t.equal(daveClient.conversations.list()[0]?.id, opened.id, 'the answer is in the caller\'s list')
  await waitFor(() => alice.conversations.get(opened.id) !== undefined, 5000, 'conversation_updated reached alice')
  t.equal(alice.conversations.list()[0]?.id, opened.id, 'on top of alice\'s list')
  t.equal((await daveClient.conversations.openDirect(kit.alice.id)).id, opened.id, 'opening again answers the same conversation')
})

t.test('markRead on one device clears the unread count on the other; the server agrees', async t => {
  const kit = await directClients(t)
  const phone = await kit.client(kit.alice)
  const laptop = await kit.client({ ...kit.alice, ...await newSession(kit.app, kit.alice) })
  const bob = await kit.client(kit.bob)
  await Promise.all([phone.conversations.load(), laptop.conversations.load(), bob.conversations.load()])
  t.equal(await phone.conversations.markRead(kit.id), false, 'nothing to mark yet')
  for (let i = 0; i < 3; i++) bob.send(kit.id, `m${i}`)
  await waitForStored(phone, kit.id, 3)
  await waitFor(() => laptop.conversations.get(kit.id)?.unreadCount === 3 && phone.conversations.get(kit.id)?.unreadCount === 3, 5000, 'three unread on both devices')
  await agreesWithServer(kit.app, kit.alice, laptop, kit.id, 3)

  const changes: number[] = []
  phone.conversations.on('changed', list => { changes.push(list.find(c => c.id === kit.id)?.unreadCount ?? -1) })
  const marking = phone.conversations.markRead(kit.id)
  t.match(phone.conversations.get(kit.id), { readSeq: 3, unreadCount: 0 }, 'cleared at once on the device that read')
  t.same(changes, [0], 'and told with changed')
  t.equal(await marking, true, 'the server took the mark')
  t.equal(await phone.conversations.markRead(kit.id), false, 'nothing newer to mark')
  await waitFor(() => laptop.conversations.get(kit.id)?.unreadCount === 0, 5000, 'the other device\'s badge cleared by the receipt')
  t.match(laptop.conversations.get(kit.id), { readSeq: 3, unreadCount: 0 })
  await agreesWithServer(kit.app, kit.alice, laptop, kit.id, 3)

  bob.send(kit.id, 'one more')
  await waitFor(() => laptop.conversations.get(kit.id)?.unreadCount === 1, 5000, 'one new unread')
  await waitForStored(laptop, kit.id, 4)
  t.equal(await laptop.conversations.markRead(kit.id), true)
  await waitFor(() => phone.conversations.get(kit.id)?.unreadCount === 0, 5000, 'the phone follows')
  await agreesWithServer(kit.app, kit.alice, phone, kit.id, 4)

  // Offline, the mark goes over REST.
  bob.send(kit.id, 'while the phone is offline')
  await waitForStored(phone, kit.id, 5)
  phone.socket.disconnect()
  t.equal(await phone.conversations.markRead(kit.id), true, 'marked over REST')
  await waitFor(() => laptop.conversations.get(kit.id)?.unreadCount === 0 && laptop.conversations.get(kit.id)?.readSeq === 5, 5000, 'the laptop follows')
  await agreesWithServer(kit.app, kit.alice, laptop, kit.id, 5)
})

t.test('edits and deletes of the last message show in the list', async t => {
  const kit = await directClients(t)
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob)
  await alice.conversations.load()
  bob.send(kit.id, 'first')
  bob.send(kit.id, 'typo')
  await waitForStored(bob, kit.id, 2)
  await waitFor(() => alice.conversations.get(kit.id)?.lastSeq === 2, 5000, 'two messages')
  const [first, second] = stored(bob.messages(kit.id))
  const edit = await bob.socket.emitWithAck('message_edit', { messageId: first.id, body: 'first, edited' })
  t.ok(edit.ok)
  t.equal(alice.conversations.get(kit.id)?.lastMessage?.body, 'typo', 'an edit of an older message leaves lastMessage')
  t.ok((await bob.socket.emitWithAck('message_edit', { messageId: second.id, body: 'fixed' })).ok)
  await waitFor(() => alice.conversations.get(kit.id)?.lastMessage?.body === 'fixed', 5000, 'the edit shows')
  t.ok((await bob.socket.emitWithAck('message_delete', { messageId: second.id })).ok)
  await waitFor(() => alice.conversations.get(kit.id)?.lastMessage?.deletedAt != null, 5000, 'the delete shows')
  t.match(alice.conversations.get(kit.id)?.lastMessage, { id: second.id, body: '', attachments: [] })
  const remote = await serverView(kit.app, kit.alice, kit.id)
  t.match(remote?.lastMessage, { id: second.id, body: '', deletedAt: String }, 'as the server has it')
})

t.test('groups: create, add, rename, leave, remove and join update every member\'s list', async t => {
  const kit = await startClientApp(t, { RATE_LIMIT_REGISTER: '0' })
  const [aliceUser, bobUser, carolUser, daveUser, erinUser] = await Promise.all(['alice', 'bob', 'carol', 'dave', 'erin'].map(async name => await signUp(kit.app, name)))
  const [alice, bob, carol, dave, erin] = await Promise.all([aliceUser, bobUser, carolUser, daveUser, erinUser].map(async user => await kit.client(user)))
  await Promise.all([alice, bob, carol, dave, erin].map(async client => { await client.conversations.load() }))

  const found = await alice.searchUsers(bobUser.username.slice(0, 6))
  t.ok(found.some(user => user.id === bobUser.id), 'searchUsers finds bob by a prefix')
  t.match(found.find(user => user.id === bobUser.id), { username: bobUser.username, deleted: false })
  t.same(await alice.searchUsers('nobody-has-this-name'), [])

  const group = await alice.conversations.createGroup({ name: 'Team', memberIds: [bobUser.id, carolUser.id], subject: 'work' })
  t.match(group, { type: 'group', name: 'Team', subject: 'work', visibility: 'private' })
  t.match(group.members.find(m => m.userId === aliceUser.id), { role: 'owner' })
  t.equal(alice.conversations.get(group.id), group, 'in the creator\'s list from the answer')
  await waitFor(() => bob.conversations.get(group.id) !== undefined && carol.conversations.get(group.id) !== undefined, 5000, 'the members got it live')

  const added = await alice.conversations.addMembers(group.id, [daveUser.id])
  t.equal(added.members.length, 4)
  await waitFor(() => dave.conversations.get(group.id)?.members.length === 4, 5000, 'dave got the group')
  await waitFor(() => bob.conversations.get(group.id)?.members.length === 4, 5000, 'bob sees dave')

  const renamed = await alice.conversations.update(group.id, { name: 'Team 2', visibility: 'public' })
  t.match(renamed, { name: 'Team 2', visibility: 'public' })
  await waitFor(() => carol.conversations.get(group.id)?.name === 'Team 2', 5000, 'carol sees the new name')

  bob.send(group.id, 'bye all')
  await waitForStored(bob, group.id, 1)
  await waitFor(() => alice.conversations.get(group.id)?.unreadCount === 1, 5000, 'alice has one unread')
  await bob.conversations.leave(group.id)
  t.equal(bob.conversations.get(group.id), undefined, 'gone from the leaver\'s list at once')
  t.same(bob.messages(group.id), [], 'and its timeline forgotten')
  await waitFor(() => alice.conversations.get(group.id)?.members.every(m => m.userId !== bobUser.id) === true, 5000, 'member_left reached alice')
  t.equal(alice.conversations.get(group.id)?.members.length, 3)

  await alice.conversations.removeMember(group.id, carolUser.id)
  t.notOk(alice.conversations.get(group.id)?.members.some(m => m.userId === carolUser.id), 'removed from the remover\'s copy at once')
  await waitFor(() => carol.conversations.get(group.id) === undefined, 5000, 'carol\'s list dropped it (member_left to her)')
  await waitFor(() => dave.conversations.get(group.id)?.members.length === 2, 5000, 'dave sees two members')

  const joined = await erin.conversations.join(group.id)
  t.ok(joined.members.some(m => m.userId === erinUser.id), 'erin joined the public group')
  t.equal(erin.conversations.get(group.id)?.name, 'Team 2')
  await waitFor(() => alice.conversations.get(group.id)?.members.length === 3, 5000, 'alice sees erin')
  await t.rejects(carol.conversations.update(group.id, { name: 'not mine' }), { status: 404, code: 'CONVERSATION_NOT_FOUND' }, 'REST refusals are ApiErrors')

  await dave.conversations.removeMember(group.id, daveUser.id) // our own id leaves
  t.equal(dave.conversations.get(group.id), undefined)

  // The list on the server agrees with each client's.
  for (const [user, client] of [[aliceUser, alice], [erinUser, erin], [bobUser, bob], [carolUser, carol], [daveUser, dave]] as const) {
    const remote = (await api(kit.app, user)('GET', '/api/conversations')).json().items as Conversation[]
    t.same(client.conversations.list().map(c => c.id), remote.map(c => c.id), `${user.username}: the same list as the server`)
  }
})

t.test('after a reconnect the list is loaded again (events missed while offline)', async t => {
  const kit = await directClients(t)
  const alice = await kit.client(kit.alice)
  await alice.conversations.load()
  const group = (await api(kit.app, kit.bob)('POST', '/api/conversations', { type: 'group', name: 'g', memberIds: [] })).json()
  alice.socket.disconnect()
  t.equal((await api(kit.app, kit.bob)('POST', `/api/conversations/${group.id}/members`, { userIds: [kit.alice.id] })).statusCode, 200)
  t.equal(alice.conversations.get(group.id), undefined, 'offline: not seen')
  alice.socket.connect()
  await waitFor(() => alice.conversations.get(group.id) !== undefined, 5000, 'the group after the reconnect')
  t.equal(alice.conversations.list().length, 2)
})

t.test('a read mark the server did not take is put back and sent again by the next markRead', async t => {
  const kit = await directClients(t)
  let dropped = 0
  // The first REST read mark is lost on the way (the client is offline, so the mark goes over REST).
  const flaky: FetchLike = async (input, init) => {
    if (init?.method === 'POST' && input.endsWith('/read') && dropped === 0) {
      dropped++
      throw new TypeError('fetch failed')
    }
    return await (globalThis.fetch as unknown as FetchLike)(input, init)
  }
  const alice = await kit.client(kit.alice, { fetch: flaky })
  const bob = await kit.client(kit.bob)
  await alice.conversations.load()
  bob.send(kit.id, 'm1')
  bob.send(kit.id, 'm2')
  await waitForStored(alice, kit.id, 2)
  await waitFor(() => alice.conversations.get(kit.id)?.unreadCount === 2, 5000, 'two unread')
  alice.socket.disconnect()
  t.equal(await alice.conversations.markRead(kit.id), false, 'the mark was lost')
  t.equal(dropped, 1)
  t.match(alice.conversations.get(kit.id), { readSeq: 0, unreadCount: 2 }, 'the badge is back: not read as far as the server knows')
  t.equal(await alice.conversations.markRead(kit.id), true, 'sent again')
  t.match(alice.conversations.get(kit.id), { readSeq: 2, unreadCount: 0 })
  await agreesWithServer(kit.app, kit.alice, alice, kit.id, 2)
})
