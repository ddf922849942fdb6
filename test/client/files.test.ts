/**
 * client.sendFile and client.download: a file send shows pending at once, is uploaded (multipart), reaches the
 * other member with its attachment and replaces the pending copy; download returns the same bytes with the token;
 * refusals fail the message with the server's code (and a failed file can be retried once the cause is fixed); a
 * lost answer is uploaded again with the same clientMsgId and stored once.
 */
import t from 'tap'
import { ApiError, retryAfterHeaderMs, type FetchLike, type LocalMessage, type MessagePayload } from '../../client/src/index.js'
import { pngFixture, bucketCounts } from '../modules/attachments/attachment-helpers.js'
import { openDirect } from '../helpers/conversations.js'
import { signUp } from '../helpers/users.js'
import { waitFor } from '../helpers/wait.js'
import { directClients, stored, waitForStored } from './client-kit.js'

const bytesOf = async (blob: Blob): Promise<Buffer> => Buffer.from(await blob.arrayBuffer())

t.test('an image sent with sendFile reaches the other member with its attachment; download gives the same bytes', async t => {
  const kit = await directClients(t)
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob)
  await bob.conversations.load()
  const data = pngFixture(5000)
  const local = alice.sendFile(kit.id, new File([data], 'holiday.png', { type: 'image/png' }), { body: 'look at this' })
  t.match(local, { status: 'pending', body: 'look at this', senderId: kit.alice.id, file: { name: 'holiday.png', size: data.length, type: 'image/png' } },
    'returns the pending local copy at once')
  t.match(alice.messages(kit.id), [{ status: 'pending', clientMsgId: local.clientMsgId, file: { name: 'holiday.png' } }], 'shown pending')
  t.equal(alice.pending, 1, 'counted as pending')

  await waitForStored(alice, kit.id, 1)
  await waitForStored(bob, kit.id, 1)
  const [mine] = stored(alice.messages(kit.id))
  const [theirs] = stored(bob.messages(kit.id))
  t.match(mine, { seq: 1, clientMsgId: local.clientMsgId, body: 'look at this', attachments: [{ name: 'holiday.png', size: data.length, mimeType: 'image/png' }] },
    'the stored copy replaced the pending one')
  t.same(theirs, mine, 'bob has the same message')
  // Our own socket may show the stored copy (re_message_file reaches every socket of a REST send) before the answer.
  await waitFor(() => alice.pending === 0, 5000, 'the upload answered')
  await waitFor(() => bob.conversations.get(kit.id)?.lastMessage?.id === theirs.id, 5000, 'bob\'s list')
  t.equal(bob.conversations.get(kit.id)?.unreadCount, 1)

  const [attachment] = theirs.attachments
  t.ok((await bytesOf(await bob.download(attachment))).equals(data), 'bob downloads the same bytes')
  t.ok((await bytesOf(await alice.download(`${kit.url}${attachment.url}`))).equals(data), 'by absolute URL on the server too')
  await t.rejects(alice.download(`http://elsewhere.example${attachment.url}`), /Not a URL of this server/, 'the token goes nowhere else')
  const carol = await signUp(kit.app, 'carol')
  const carolClient = await kit.client(carol, { connect: false })
  await t.rejects(carolClient.download(attachment), { status: 404, code: 'ATTACHMENT_NOT_FOUND' }, 'a non-member is refused')

  const plain = alice.sendFile(kit.id, new Blob([Buffer.from('just some text\n')]))
  t.match(plain.file, { name: 'file', type: '' }, 'a Blob without a name')
  await waitForStored(bob, kit.id, 2)
  t.match(stored(bob.messages(kit.id))[1], { body: '', attachments: [{ name: 'file', mimeType: 'text/plain' }] }, 'a file without text')
})

t.test('refused uploads fail with the server\'s code without holding up the next; a failed file can be retried', async t => {
  const kit = await directClients(t, { UPLOAD_MAX_BYTES: '2000' })
  const carol = await signUp(kit.app, 'carol')
  const alice = await kit.client(kit.alice)
  const bob = await kit.client(kit.bob)
  const failures: LocalMessage[] = []
  alice.on('send_failed', message => { failures.push(message) })

  const tooLarge = alice.sendFile(kit.id, new Blob([pngFixture(3000)]), { name: 'big.png' })
  const small = alice.sendFile(kit.id, new Blob([pngFixture(100)]), { name: 'small.png' })
  const empty = alice.sendFile(kit.id, new Blob([]), { name: 'empty.txt' })
  await waitFor(() => failures.length === 2 && stored(alice.messages(kit.id)).length === 1, 10_000, 'two failures, one stored')
  t.match(failures.find(m => m.clientMsgId === tooLarge.clientMsgId), { status: 'failed', error: { code: 'PAYLOAD_TOO_LARGE' }, file: { name: 'big.png' } })
  t.match(failures.find(m => m.clientMsgId === empty.clientMsgId), { status: 'failed', error: { code: 'EMPTY_FILE' } })
  t.match(alice.messages(kit.id), [
    { status: 'stored', seq: 1, clientMsgId: small.clientMsgId, attachments: [{ name: 'small.png' }] },
    { status: 'failed', clientMsgId: tooLarge.clientMsgId },
    { status: 'failed', clientMsgId: empty.clientMsgId }
  ], 'the upload after a refused one went on')
  alice.discard(kit.id, empty.clientMsgId)
  t.equal(alice.messages(kit.id).length, 2, 'a discarded failure is gone')

  // Not a member: refused before a byte is stored; once alice is in, the same file goes through on retry.
  const group = await bob.conversations.createGroup({ name: 'later', memberIds: [carol.id] })
  const data = pngFixture(500)
  const early = alice.sendFile(group.id, new Blob([data], { type: 'image/png' }), { name: 'early.png', body: 'for the group' })
  await waitFor(() => failures.some(m => m.clientMsgId === early.clientMsgId), 5000, 'refused: not a member')
  t.match(alice.messages(group.id), [{ status: 'failed', clientMsgId: early.clientMsgId, error: { code: 'CONVERSATION_NOT_FOUND' } }])
  t.equal(alice.pending, 0)
  await bob.conversations.addMembers(group.id, [kit.alice.id])
  alice.retry(group.id, early.clientMsgId)
  t.match(alice.messages(group.id), [{ status: 'pending', clientMsgId: early.clientMsgId }], 'retried: pending again')
  await waitForStored(alice, group.id, 1)
  await waitForStored(bob, group.id, 1)
  const [message] = stored(bob.messages(group.id))
  t.match(message, { senderId: kit.alice.id, body: 'for the group', clientMsgId: early.clientMsgId, attachments: [{ name: 'early.png', size: data.length }] })
  t.ok((await bytesOf(await bob.download(message.attachments[0]))).equals(data))
  t.equal(await kit.app.models.Message.countDocuments({}), 2, 'nothing stored for the refusals')
})

t.test('a lost answer: the upload is sent again with the same clientMsgId and stored once', async t => {
  const kit = await directClients(t)
  let lost = 0
  // The network drops the first upload's answer after the server stored it.
  const flaky: FetchLike = async (input, init) => {
    const res = await (globalThis.fetch as unknown as FetchLike)(input, init)
    if (init?.method === 'POST' && input.endsWith('/messages') && lost === 0) {
      lost++
      throw new TypeError('fetch failed')
    }
    return res
  }
  const alice = await kit.client(kit.alice, { fetch: flaky, outbox: { retryBaseMs: 50 } })
  const bob = await kit.client(kit.bob)
  const received: MessagePayload[] = []
  bob.socket.on('re_message_file', ({ message }) => { received.push(message) })
  const data = pngFixture(800)
  const local = alice.sendFile(kit.id, new Blob([data]), { name: 'once.png' })
  // The live event may show the stored copy first: wait for the upload itself to be answered.
  await waitFor(() => alice.pending === 0, 10_000, 'the upload answered')
  t.equal(lost, 1, 'the first answer was lost')
  t.match(stored(alice.messages(kit.id)), [{ seq: 1, clientMsgId: local.clientMsgId, attachments: [{ name: 'once.png' }] }])
  t.equal(await kit.app.models.Message.countDocuments({ conversationId: kit.id }), 1, 'stored once')
  await waitFor(async () => (await bucketCounts(kit.app)).files === 1, 5000, 'the second upload removed')
  await waitForStored(bob, kit.id, 1)
  t.equal(received.length, 1, 'delivered once')
})

t.test('Retry-After and ApiError', async t => {
  t.equal(retryAfterHeaderMs('3'), 3000)
  t.equal(retryAfterHeaderMs(new Date(Date.now() + 10_000).toUTCString(), Date.now()) !== null, true)
  t.equal(retryAfterHeaderMs(null), null)
  t.equal(retryAfterHeaderMs('soon'), null)
  const error = new ApiError(429, 'RATE_LIMITED', 'slow down', 2000)
  t.equal(error.retryAfterMs, 2000)
  t.equal(new ApiError(500, 'INTERNAL_ERROR', 'x').retryAfterMs, null)
})

t.test('sendFile to another user\'s direct conversation fails with CONVERSATION_NOT_FOUND', async t => {
  const kit = await directClients(t)
  const carol = await signUp(kit.app, 'carol')
  const notMine = await openDirect(kit.app, kit.bob, carol)
  const alice = await kit.client(kit.alice)
  const failed = new Promise<LocalMessage>(resolve => { alice.on('send_failed', resolve) })
  alice.sendFile(notMine, new Blob([pngFixture(10)]), { name: 'x.png' })
  t.match(await failed, { status: 'failed', conversationId: notMine, error: { code: 'CONVERSATION_NOT_FOUND' } })
  t.same(await bucketCounts(kit.app), { chunks: 0, files: 0 }, 'nothing stored')
})

t.test('uploads that cannot succeed soon fail instead of retrying for ever', async t => {
  await t.test('a network that never answers: NETWORK_ERROR after 6 retries, and the next file goes on', async t => {
    const kit = await directClients(t)
    let attempts = 0
    const down: FetchLike = async (input, init) => {
      if (init?.method === 'POST' && input.endsWith('/messages') && attempts < 7) {
        attempts++
        throw new TypeError('fetch failed')
      }
      return await (globalThis.fetch as unknown as FetchLike)(input, init)
    }
    const alice = await kit.client(kit.alice, { fetch: down, outbox: { retryBaseMs: 5 } })
    const failed: LocalMessage[] = []
    alice.on('send_failed', message => { failed.push(message) })
    alice.sendFile(kit.id, new Blob([pngFixture(100)]), { name: 'lost.png' })
    alice.sendFile(kit.id, new Blob([pngFixture(100)]), { name: 'next.png' })
    await waitFor(() => failed.length === 1, 10_000, 'the first file to fail')
    t.equal(attempts, 7, 'the first try and 6 retries')
    t.match(failed[0], { status: 'failed', error: { code: 'NETWORK_ERROR' }, file: { name: 'lost.png' } })
    await waitFor(() => stored(alice.messages(kit.id)).length === 1, 10_000, 'the next file stored')
    t.match(stored(alice.messages(kit.id)), [{ attachments: [{ name: 'next.png' }] }], 'the next file was not held up')
    t.equal(await kit.app.models.Message.countDocuments({ conversationId: kit.id }), 1)
  })

  await t.test('the hourly upload limit (Retry-After of an hour) fails with RATE_LIMITED at once', async t => {
    const kit = await directClients(t, { RATE_LIMIT_UPLOADS: '1' })
    const alice = await kit.client(kit.alice)
    const failed: LocalMessage[] = []
    alice.on('send_failed', message => { failed.push(message) })
    alice.sendFile(kit.id, new Blob([pngFixture(100)]), { name: 'first.png' })
    alice.sendFile(kit.id, new Blob([pngFixture(100)]), { name: 'second.png' })
    await waitFor(() => failed.length === 1, 10_000, 'the second file to fail')
    t.match(failed[0], { error: { code: 'RATE_LIMITED' }, file: { name: 'second.png' } })
    t.equal(alice.pending, 0, 'nothing waits for an hour')
    t.equal(await kit.app.models.Message.countDocuments({ conversationId: kit.id }), 1)
  })
})
