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
