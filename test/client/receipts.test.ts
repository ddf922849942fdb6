/**
 * client.receipts: one of our messages goes sent -> delivered (the other's device confirmed it) -> read, from the
 * live `receipt` events; in a group only once every other member got there; a fresh device learns the states of
 * older messages with `load()` (GET /api/conversations/:id/receipts).
 */
import t from 'tap'
import { api } from '../helpers/rest.js'
import { newSession, signUp } from '../helpers/users.js'
import { waitFor } from '../helpers/wait.js'
import { directClients, startClientApp, stored, waitForStored } from './client-kit.js'

t.test('a message goes sent -> delivered -> read as the receiver\'s device gets it and reads it', async t => {
  const kit = await directClients(t)
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob, { connect: false })
  await alice.conversations.load()
  const changes: string[] = []
  alice.receipts.on('changed', conversationId => { changes.push(conversationId) })

  alice.send(kit.id, 'are you there?')
  await waitForStored(alice, kit.id, 1)
  const [message] = stored(alice.messages(kit.id))
  t.equal(alice.receipts.stateOf(kit.id, message.seq), 'sent', 'stored, bob offline: sent')
  t.equal(alice.receipts.stateOf('000000000000000000000000', 1), 'sent', 'a conversation not in the list: sent')

  await bob.connect() // syncs the message and confirms it with a delivered mark
  await waitFor(() => alice.receipts.stateOf(kit.id, message.seq) === 'delivered', 5000, 'delivered')
  t.same(alice.receipts.marksOf(kit.id, kit.bob.id), { deliveredSeq: 1, readSeq: 0 })
  t.ok(changes.includes(kit.id), 'changed names the conversation')

  alice.send(kit.id, 'second')
  await waitForStored(bob, kit.id, 2)
  await bob.conversations.load()
  t.equal(await bob.conversations.markRead(kit.id), true)
  await waitFor(() => alice.receipts.stateOf(kit.id, 2) === 'read', 5000, 'read')
  t.equal(alice.receipts.stateOf(kit.id, 1), 'read', 'the earlier one too')
  t.equal(alice.receipts.stateOf(kit.id, 3), 'sent', 'a later seq is not covered')

  // Bob's own message moves his marks to it (as on the server).
  bob.send(kit.id, 'yes')
  await waitForStored(alice, kit.id, 3)
  t.same(alice.receipts.marksOf(kit.id, kit.bob.id), { deliveredSeq: 3, readSeq: 3 })
  const answer = (await api(kit.app, kit.alice)('GET', `/api/conversations/${kit.id}/receipts?seq=3`)).json()
  t.ok(answer.read.includes(kit.bob.id), 'the server agrees')
})

t.test('in a group a message is read once every other member read it; load() fills a fresh device', async t => {
  const kit = await startClientApp(t, { RATE_LIMIT_REGISTER: '0' })
  const [aliceUser, bobUser, carolUser] = await Promise.all(['alice', 'bob', 'carol'].map(async name => await signUp(kit.app, name)))
  const alice = await kit.client(aliceUser)
  const bob = await kit.client(bobUser)
  const carol = await kit.client(carolUser)
  const group = await alice.conversations.createGroup({ name: 'g', memberIds: [bobUser.id, carolUser.id] })
  alice.send(group.id, 'hello both')
  await waitForStored(bob, group.id, 1)
  await waitForStored(carol, group.id, 1)
  await waitFor(() => alice.receipts.stateOf(group.id, 1) === 'delivered', 5000, 'delivered to both devices')
  await bob.conversations.load()
  await bob.conversations.markRead(group.id)
  await waitFor(() => alice.receipts.marksOf(group.id, bobUser.id).readSeq === 1, 5000, 'bob\'s receipt')
  t.equal(alice.receipts.stateOf(group.id, 1), 'delivered', 'one of two read: still delivered')
  await carol.conversations.load()
  await carol.conversations.markRead(group.id)
  await waitFor(() => alice.receipts.stateOf(group.id, 1) === 'read', 5000, 'read by both')

  // A second device of alice's, started afterwards: no receipt events, load() asks the server.
  const laptop = await kit.client({ ...aliceUser, ...await newSession(kit.app, aliceUser) })
  await laptop.conversations.load()
  t.equal(laptop.receipts.stateOf(group.id, 1), 'sent', 'nothing known yet')
  await laptop.receipts.load(group.id, 1)
  t.equal(laptop.receipts.stateOf(group.id, 1), 'read', 'from GET /receipts')
  t.same(laptop.receipts.marksOf(group.id, carolUser.id), { deliveredSeq: 1, readSeq: 1 })
  await t.rejects(laptop.receipts.load(group.id, 0), { status: 400, code: 'VALIDATION_ERROR' })

  // A member who leaves no longer counts: the state is over the members in the list.
  alice.send(group.id, 'second')
  await waitForStored(carol, group.id, 2)
  await carol.conversations.markRead(group.id)
  await waitFor(() => alice.receipts.marksOf(group.id, carolUser.id).readSeq === 2, 5000, 'carol read the second')
  await waitFor(() => alice.receipts.stateOf(group.id, 2) === 'delivered', 5000, 'bob got it, has not read it')
  await bob.conversations.leave(group.id)
  await waitFor(() => alice.receipts.stateOf(group.id, 2) === 'read', 5000, 'read by every member left')
})

t.test('refresh() on a fresh device: every one of our messages shows its state, from a few receipt queries', async t => {
  const kit = await directClients(t)
  const alice = await kit.client(kit.alice)
  for (let i = 1; i <= 6; i++) alice.send(kit.id, `m${i}`)
  await waitForStored(alice, kit.id, 6)
  // Bob's device takes all six (delivered marks), and he reads up to 4.
  const bob = await kit.client(kit.bob)
  await waitForStored(bob, kit.id, 6)
  t.equal((await api(kit.app, kit.bob)('POST', `/api/conversations/${kit.id}/read`, { seq: 4 })).statusCode, 204)
  await waitFor(async () => (await api(kit.app, kit.alice)('GET', `/api/conversations/${kit.id}/receipts?seq=6`)).json().delivered.includes(kit.bob.id), 5000, 'delivered up to 6')

  // Alice's new device: nothing live told it any of this.
  const queries: string[] = []
  const counting = async (input: string, init?: Parameters<typeof fetch>[1]): Promise<any> => {
    if (input.includes('/receipts?')) queries.push(input)
    return await fetch(input, init as RequestInit)
  }
  const fresh = await kit.client({ ...kit.alice, ...await newSession(kit.app, kit.alice) }, { fetch: counting as never })
  await fresh.conversations.load()
  await fresh.loadOlder(kit.id)
  t.same([1, 2, 3, 4, 5, 6].map(seq => fresh.receipts.stateOf(kit.id, seq)), Array(6).fill('sent'), 'unknown before')
  await fresh.receipts.refresh(kit.id)
  t.same([1, 2, 3, 4, 5, 6].map(seq => fresh.receipts.stateOf(kit.id, seq)), ['read', 'read', 'read', 'read', 'delivered', 'delivered'])
  t.ok(queries.length <= 6, `a binary search, not one query per message (${queries.length})`)
  const before = queries.length
  await fresh.receipts.refresh(kit.id)
  t.ok(queries.length - before <= 3, 'what is known is not asked again')
})
