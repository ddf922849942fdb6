/** Who may download an attachment, how uploads are scoped to conversations, and AttachmentsService.claim. */
import t from 'tap'
import { Types } from 'mongoose'
import { AppError } from '../../../src/shared/errors.js'
import { buildChatApp, type TeardownHost } from '../../helpers/build-app.js'
import { openDirect } from '../../helpers/conversations.js'
import { api } from '../../helpers/rest.js'
import { login, signUp } from '../../helpers/users.js'
import { bucketCounts, download, pngFixture, upload, uploaded } from './attachment-helpers.js'

const ADMIN = { ADMIN_USERNAME: 'root', ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'root password' }

async function setup (t: TeardownHost) {
  const app = await buildChatApp(t, ADMIN)
  const alice = await signUp(app)
  const bob = await signUp(app)
  const carol = await signUp(app)
  const root = { ...await login(app, 'root', 'root password') }
  const conversationId = await openDirect(app, alice, bob)
  return { app, alice, bob, carol, root, conversationId }
}

async function notFoundCode (promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'resolved'
  } catch (error) {
    return error instanceof AppError ? `${error.statusCode} ${error.code}` : String(error)
  }
}

t.test('downloads: the uploader, members of a scoped conversation and admins; everyone else 404', async t => {
  const { app, alice, bob, carol, root, conversationId } = await setup(t)
  const file = { filename: 'a.png', data: pngFixture(100) }
  const unscoped = await uploaded(app, alice, file)
  const scoped = await uploaded(app, alice, file, [{ name: 'conversationId', value: conversationId }])
  const late = await upload(app, alice, [file, { name: 'conversationId', value: conversationId }])
  t.equal(late.statusCode, 201, 'conversationId may come after the file')

  const status = async (user: { accessToken: string } | null, id: string) => (await download(app, user as never, id)).statusCode
  t.equal(await status(alice, unscoped.id), 200, 'uploader')
  t.equal(await status(bob, unscoped.id), 404, 'not posted anywhere: only the uploader')
  t.equal(await status(root as never, unscoped.id), 200, 'admin')
  for (const id of [scoped.id, late.json().id]) {
    t.equal(await status(alice, id), 200)
    t.equal(await status(bob, id), 200, 'a member of the conversation it is scoped to')
    t.equal(await status(carol, id), 404, 'a stranger')
    t.equal(await status(root as never, id), 200, 'admin')
    t.equal(await status(null, id), 401, 'no token')
  }
  const stranger = await download(app, carol, scoped.id)
  t.equal(stranger.json().code, 'ATTACHMENT_NOT_FOUND')
  t.notOk(stranger.headers['content-disposition'], 'nothing about the file leaks')

  // Malformed, unknown and operator-looking ids name nothing: the same 404.
  for (const id of ['abc', '0'.repeat(24), new Types.ObjectId().toHexString(), '%7B%22%24gt%22%3A%22%22%7D', 'x'.repeat(64)]) {
    const res = await download(app, alice, id)
    t.equal(res.statusCode, 404, id)
    t.equal(res.json().code, 'ATTACHMENT_NOT_FOUND', id)
  }
  t.equal((await download(app, alice, 'x'.repeat(65))).statusCode, 400, 'over-long ids fail validation')
  t.equal((await app.inject({ method: 'GET', url: `/api/attachments/${scoped.id}?id[$gt]=`, headers: { authorization: `Bearer ${carol.accessToken}` } })).statusCode, 404)
})

t.test('uploading into a conversation needs membership: 404 and nothing stored otherwise', async t => {
  const { app, carol, conversationId } = await setup(t)
  const file = { filename: 'a.png', data: pngFixture(300_000) }
  for (const [label, parts] of [
    ['before the file', [{ name: 'conversationId', value: conversationId }, file]],
    ['after the file', [file, { name: 'conversationId', value: conversationId }]],
    ['malformed id', [{ name: 'conversationId', value: 'nope' }, file]],
    ['unknown id', [{ name: 'conversationId', value: new Types.ObjectId().toHexString() }, file]]
  ] as const) {
    const res = await upload(app, carol, [...parts])
    t.equal(res.statusCode, 404, label)
    t.equal(res.json().code, 'CONVERSATION_NOT_FOUND', label)
  }
  t.same(await bucketCounts(app), { chunks: 0, files: 0 })
  t.equal(await app.models.Attachment.countDocuments({}), 0)
})

t.test('claim: own uploads, unscoped or scoped here; de-duplicated in order; scopes them for the members', async t => {
  const { app, alice, bob, carol, conversationId } = await setup(t)
  const other = await openDirect(app, alice, carol)
  const conversation = new Types.ObjectId(conversationId)
  const a = await uploaded(app, alice, { filename: 'a.png', data: pngFixture(10) })
  const b = await uploaded(app, alice, { filename: 'b.pdf', data: Buffer.from('%PDF-1.4\n') })
  const scopedHere = await uploaded(app, alice, { filename: 'c.png', data: pngFixture(10) }, [{ name: 'conversationId', value: conversationId }])
  const scopedElsewhere = await uploaded(app, alice, { filename: 'd.png', data: pngFixture(10) }, [{ name: 'conversationId', value: other }])
  const bobs = await uploaded(app, bob, { filename: 'e.png', data: pngFixture(10) })

  t.equal((await download(app, bob, a.id)).statusCode, 404, 'before the claim bob cannot read it')
  const claimed = await app.attachments.claim(alice.id, conversation, [b.id, a.id, b.id, scopedHere.id])
  t.same(claimed.map(c => String(c._id)), [b.id, a.id, scopedHere.id], 'given order, duplicates dropped')
  t.same(claimed.map(c => [c.name, c.size, c.mimeType]), [['b.pdf', 9, 'application/pdf'], ['a.png', a.size, 'image/png'], ['c.png', scopedHere.size, 'image/png']])
  t.equal((await download(app, bob, a.id)).statusCode, 404, 'claimed, but no message carries it yet')
  await app.models.Message.create({ conversationId: conversation, seq: 1000, senderId: alice.id, body: '', attachments: claimed })
  t.equal((await download(app, bob, a.id)).statusCode, 200, 'carried by a stored message: the members may read it')
  t.equal((await download(app, carol, a.id)).statusCode, 404)
  const doc = await app.models.Attachment.findById(a.id).lean()
  t.same(doc?.conversationIds.map(String), [conversationId])
  await app.attachments.claim(alice.id, conversation, [a.id])
  t.same((await app.models.Attachment.findById(a.id).lean())?.conversationIds.map(String), [conversationId], 'claiming again adds nothing')

  const refused = async (userId: string, ids: string[], label: string) =>
    t.equal(await notFoundCode(app.attachments.claim(userId, conversation, ids)), '404 ATTACHMENT_NOT_FOUND', label)
  await refused(alice.id, [bobs.id], "someone else's upload")
  await refused(bob.id, [a.id], "someone else's upload, even when bob is a member")
  await refused(alice.id, [scopedElsewhere.id], 'scoped to another conversation')
  await refused(alice.id, [a.id, scopedElsewhere.id], 'one bad id refuses the lot')
  await refused(alice.id, ['nope'], 'malformed id')
  await refused(alice.id, [new Types.ObjectId().toHexString()], 'unknown id')
  await refused(alice.id, [{ $gt: '' } as unknown as string], 'an operator object')
  t.same(await app.attachments.claim(alice.id, conversation, []), [], 'nothing to claim')
  t.same((await app.models.Attachment.findById(scopedElsewhere.id).lean())?.conversationIds.map(String), [other], 'a refused claim changes nothing')
  t.equal((await download(app, bob, bobs.id)).statusCode, 200)
  t.equal((await api(app, alice)('GET', `/api/attachments/${bobs.id}`)).statusCode, 404)
})
