/**
 * Sends the server refuses: codes a retry cannot fix fail the message (shown as `failed` with the code, told by
 * `send_failed`) without holding up the next ones; RATE_LIMITED waits the time the server names and retries.
 */
import t from 'tap'
import { retryAfterMs, type LocalMessage } from '../../client/src/index.js'
import { openDirect } from '../helpers/conversations.js'
import { signUp } from '../helpers/users.js'
import { directClients, stored, waitForStored } from './client-kit.js'
import { waitFor } from '../helpers/wait.js'

t.test('a send to a conversation the sender is not in fails with its code; later sends go on', async t => {
  const kit = await directClients(t, { MESSAGE_MAX_BYTES: '64' })
  const carol = await signUp(kit.app, 'carol')
  const notMine = await openDirect(kit.app, kit.bob, carol)
  const alice = await kit.client(kit.alice)
  const failures: LocalMessage[] = []
  alice.on('send_failed', message => { failures.push(message) })
  const refused = alice.send(notMine, 'let me in')
  const tooLarge = alice.send(kit.id, 'x'.repeat(65))
  alice.send(kit.id, 'fine')
  await waitFor(() => failures.length === 2 && stored(alice.messages(kit.id)).length === 1, 10_000, 'two failures and one stored')
  t.match(failures.find(m => m.clientMsgId === refused.clientMsgId), { status: 'failed', error: { code: 'CONVERSATION_NOT_FOUND' } })
  t.match(alice.messages(notMine), [{ status: 'failed', clientMsgId: refused.clientMsgId, error: { code: 'CONVERSATION_NOT_FOUND' } }], 'shown as failed')
  t.match(alice.messages(kit.id), [
    { status: 'stored', seq: 1, body: 'fine' },
    { status: 'failed', clientMsgId: tooLarge.clientMsgId, error: { code: 'PAYLOAD_TOO_LARGE' } }
  ], 'the message after a failed one was sent')
  t.equal(alice.pending, 0, 'failures leave the outbox')
  t.equal(await kit.app.models.Message.countDocuments({}), 1)

  alice.discard(notMine, refused.clientMsgId)
  t.same(alice.messages(notMine), [], 'a discarded failure is gone')
  // Once alice is in the conversation, the same message goes through with its clientMsgId.
  const group = await alice.session.request('POST', '/api/conversations', { type: 'group', name: 'g', memberIds: [kit.bob.id] })
  alice.send(group.id, 'x'.repeat(65))
  await waitFor(() => alice.messages(group.id)[0]?.status === 'failed', 5000, 'the group send fails')
  const failed = alice.messages(group.id)[0] as LocalMessage
  alice.retry(group.id, 'no-such-message')
  alice.discard(group.id, 'no-such-message')
  t.equal(alice.messages(group.id).length, 1, 'unknown ids change nothing')
  alice.retry(group.id, failed.clientMsgId)
  t.match(alice.messages(group.id), [{ status: 'pending', clientMsgId: failed.clientMsgId }], 'retried: pending again')
  await waitFor(() => alice.messages(group.id)[0]?.status === 'failed', 5000, 'fails again, still too large')
  t.equal(failures.length, 4)
})

t.test('leaving a group forgets its timeline: later syncs carry no cursor for it', async t => {
  const kit = await directClients(t)
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob)
  const group = await alice.session.request('POST', '/api/conversations', { type: 'group', name: 'g', memberIds: [kit.bob.id] })
  alice.send(group.id, 'hello group')
  await waitForStored(bob, group.id, 1)
  await bob.session.request('POST', `/api/conversations/${group.id}/leave`)
  await waitFor(() => bob.messages(group.id).length === 0, 5000, 'forgotten')
  const synced = new Promise<void>(resolve => { const off = bob.on('synced', () => { off(); resolve() }) })
  void bob.sync()
  await synced
  t.same(bob.messages(group.id), [], 'the sync did not fail on a cursor for the group, and brought nothing of it')
})

t.test('RATE_LIMITED: the outbox waits as long as the server says, then delivers everything once', async t => {
  t.equal(retryAfterMs('Too many messages, retry in 3 s'), 3000)
  t.equal(retryAfterMs('no wait named'), null)
  const kit = await directClients(t, { RATE_LIMIT_MESSAGES: '3' })
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob)
  const started = Date.now()
  for (let i = 0; i < 5; i++) alice.send(kit.id, `r${i}`)
  await waitForStored(bob, kit.id, 5, 30_000)
  t.ok(Date.now() - started >= 900, 'it waited for the limit to pass')
  t.same(stored(bob.messages(kit.id)).map(m => m.body), ['r0', 'r1', 'r2', 'r3', 'r4'], 'all, in order')
  t.equal(await kit.app.models.Message.countDocuments({ conversationId: kit.id }), 5, 'once each')
})
