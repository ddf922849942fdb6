/** Files in messages: the multipart form of POST .../messages, attachmentIds in JSON, and chat_message_file. */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { directChat } from '../../helpers/conversations.js'
import { emitAck, nextEvent, startRealtimeApp } from '../../helpers/realtime.js'
import { api, bearer } from '../../helpers/rest.js'
import { signUp, type TestUser } from '../../helpers/users.js'
import { bucketCounts, download, multipart, pngFixture, uploaded, type Part } from './attachment-helpers.js'

async function postMultipart (app: FastifyInstance, user: TestUser, conversationId: string, parts: Part[]) {
  const body = multipart(parts)
  return await app.inject({
    method: 'POST', url: `/api/conversations/${conversationId}/messages`, payload: body.payload,
    headers: { ...body.headers, ...bearer(user.accessToken) }
  })
}

t.test('multipart send: the file becomes the message attachment, the members can download it', async t => {
  const { app, alice, bob, id } = await directChat(t)
  const carol = await signUp(app)

  const json = await api(app, alice)('POST', `/api/conversations/${id}/messages`, { body: 'plain JSON still works' })
  t.equal(json.statusCode, 201)
  t.match(json.json(), { seq: 1, body: 'plain JSON still works', attachments: [] })

  const data = pngFixture(1000)
  const res = await postMultipart(app, alice, id, [
    { name: 'body', value: 'look at this' }, { name: 'clientMsgId', value: 'file-1' },
    { filename: '../holiday.png', contentType: 'application/pdf', data }
  ])
  t.equal(res.statusCode, 201, res.body)
  const message = res.json()
  t.match(message, { conversationId: id, seq: 2, senderId: alice.id, body: 'look at this', clientMsgId: 'file-1' })
  t.equal(message.attachments.length, 1)
  const [attachment] = message.attachments
  t.match(attachment, { name: 'holiday.png', size: data.length, mimeType: 'image/png', url: `/api/attachments/${attachment.id}` })
  const got = await download(app, bob, attachment.id)
  t.equal(got.statusCode, 200, 'the other member')
  t.ok(got.rawPayload.equals(data))
  t.equal((await download(app, carol, attachment.id)).statusCode, 404)
  const page = await api(app, bob)('GET', `/api/conversations/${id}/messages`)
  t.same(page.json().items.at(-1).attachments, [attachment], 'history carries it')

  // The same clientMsgId again: the original answers, and the second upload is not kept.
  const retry = await postMultipart(app, alice, id, [{ name: 'clientMsgId', value: 'file-1' }, { filename: 'again.png', data: pngFixture(10) }])
  t.equal(retry.statusCode, 200)
  t.same(retry.json(), message)
  t.same(await bucketCounts(app), { chunks: 1, files: 1 })
  t.equal(await app.models.Attachment.countDocuments({}), 1)

  const fileOnly = await postMultipart(app, alice, id, [{ filename: 'only.png', data: pngFixture(10) }])
  t.equal(fileOnly.statusCode, 201)
  t.match(fileOnly.json(), { body: '', attachments: [{ name: 'only.png' }] })
})

t.test('multipart send refusals store nothing', async t => {
  const { app, alice, bob, id } = await directChat(t, { MESSAGE_MAX_BYTES: '100' })
  const carol = await signUp(app)
  const file = { filename: 'a.png', data: pngFixture(300_000) }
  const expect = async (user: TestUser, conversationId: string, parts: Part[], status: number, code: string, label: string) => {
    const res = await postMultipart(app, user, conversationId, parts)
    t.equal(res.statusCode, status, `${label}: ${res.body}`)
    t.equal(res.json().code, code, label)
  }
  await expect(carol, id, [file], 404, 'CONVERSATION_NOT_FOUND', 'not a member')
  await expect(alice, 'nope', [file], 404, 'CONVERSATION_NOT_FOUND', 'malformed conversation id')
  await expect(alice, id, [file, { name: 'clientMsgId', value: '' }], 400, 'VALIDATION_ERROR', 'empty clientMsgId')
  await expect(alice, id, [file, { name: 'attachmentIds', value: 'x' }], 400, 'VALIDATION_ERROR', 'attachmentIds is JSON only')
  await expect(alice, id, [{ name: 'replyToId', value: '{"$gt":""}', contentType: 'application/json' }, file], 400, 'VALIDATION_ERROR', 'operator object')
  await expect(alice, id, [file, { name: 'body', value: 'x'.repeat(101) }], 413, 'PAYLOAD_TOO_LARGE', 'body over MESSAGE_MAX_BYTES')
  await expect(alice, id, [{ name: 'body', value: 'no file' }], 400, 'FILE_REQUIRED', 'no file')
  t.same(await bucketCounts(app), { chunks: 0, files: 0 })
  t.equal(await app.models.Attachment.countDocuments({}), 0)
  t.equal(await app.models.Message.countDocuments({}), 0)
})

t.test('JSON attachmentIds: own uploads only', async t => {
  const { app, alice, bob, id } = await directChat(t)
  const mine = await uploaded(app, alice, { filename: 'a.png', data: pngFixture(10) })
  const bobs = await uploaded(app, bob, { filename: 'b.png', data: pngFixture(10) })
  const res = await api(app, alice)('POST', `/api/conversations/${id}/messages`, { attachmentIds: [mine.id, mine.id] })
  t.equal(res.statusCode, 201, res.body)
  t.same(res.json().attachments, [mine])
  const refused = await api(app, alice)('POST', `/api/conversations/${id}/messages`, { attachmentIds: [bobs.id] })
  t.equal(refused.statusCode, 404)
  t.equal(refused.json().code, 'ATTACHMENT_NOT_FOUND')
})

t.test('chat_message_file: acked with the stored message, re_message_file to the other members', async t => {
  const kit = await startRealtimeApp(t, { RATE_LIMIT_MESSAGES: '0' })
  const alice = await signUp(kit.app, 'alice')
  const bob = await signUp(kit.app, 'bob')
  const a1 = await kit.connect(alice.accessToken)
  const b1 = await kit.connect(bob.accessToken)
  const attachment = await uploaded(kit.app, alice, { filename: 'a.pdf', data: Buffer.from('%PDF-1.4\nhello') })
  const gotB = nextEvent(b1, 're_message_file')
  const ack = await emitAck(a1, 'chat_message_file', { receiverId: bob.id, attachmentIds: [attachment.id], body: 'the doc' })
  t.ok(ack.ok, JSON.stringify(ack))
  if (!ack.ok) return
  t.match(ack.data, { senderId: alice.id, body: 'the doc', attachments: [attachment] })
  t.same(await gotB, { action: 're_message_file', message: ack.data })

  const bad = await emitAck(a1, 'chat_message_file', { conversationId: ack.data.conversationId, attachmentIds: ['0'.repeat(24)] })
  t.same(bad, { ok: false, error: { code: 'ATTACHMENT_NOT_FOUND', message: bad.ok ? '' : bad.error.message } })
  const invalid = await emitAck(a1, 'chat_message_file', { conversationId: ack.data.conversationId, attachmentIds: [] })
  t.equal(invalid.ok, false)
  t.equal(invalid.ok ? '' : invalid.error.code, 'VALIDATION_ERROR')
})
