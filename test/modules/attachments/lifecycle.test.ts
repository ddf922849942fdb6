/**
 * What happens to uploads after they are stored: unposted ones are swept after UPLOAD_ORPHAN_TTL (metadata, GridFS
 * file and chunks), posted ones stay, and once every message carrying a file is deleted nobody but an admin can
 * download it and its bytes are removed once the release grace (30 s) has passed, without waiting for the TTL.
 */
import t from 'tap'
import { buildChatApp, type TeardownHost } from '../../helpers/build-app.js'
import { openDirect, send } from '../../helpers/conversations.js'
import { api } from '../../helpers/rest.js'
import { login, signUp } from '../../helpers/users.js'
import type { AttachmentsPluginOptions } from '../../../src/modules/attachments/attachments.plugin.js'
import { bucketCounts, download, pngFixture, uploaded } from './attachment-helpers.js'

const ADMIN = { ADMIN_USERNAME: 'root', ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'root password' }
const HOUR = 3600_000

async function setup (t: TeardownHost, environment: NodeJS.ProcessEnv = {}, attachments: AttachmentsPluginOptions = {}) {
  const app = await buildChatApp(t, { ...ADMIN, UPLOAD_ORPHAN_TTL: '1h', ...environment }, { build: { attachments } })
  const alice = await signUp(app, 'alice')
  const bob = await signUp(app, 'bob')
  const root = await login(app, 'root', 'root password')
  const conversationId = await openDirect(app, alice, bob)
  return { app, alice, bob, root, conversationId }
}

/** Moves an attachment's createdAt back by `ms` in the database. */
async function age (app: Awaited<ReturnType<typeof setup>>['app'], id: string, ms: number): Promise<void> {
  const doc = await app.models.Attachment.findById(id).lean()
  await app.models.Attachment.collection.updateOne({ _id: doc!._id }, { $set: { createdAt: new Date(doc!.createdAt.getTime() - ms) } })
}

async function gridFsHas (app: Awaited<ReturnType<typeof setup>>['app'], id: string): Promise<{ file: boolean, chunks: number }> {
  const db = app.storage.connection.db!
  const doc = await app.models.Attachment.findById(id).lean()
  const oid = doc?._id ?? new (await import('mongoose')).Types.ObjectId(id)
  return {
    file: await db.collection('attachments.files').countDocuments({ _id: oid }) > 0,
    chunks: await db.collection('attachments.chunks').countDocuments({ files_id: oid })
  }
}

t.test('the sweep removes uploads never posted once older than UPLOAD_ORPHAN_TTL; posted and young ones stay', async t => {
  const { app, alice, conversationId } = await setup(t)
  const file = { filename: 'a.png', data: pngFixture(300 * 1024) }
  const orphan = await uploaded(app, alice, file)
  const scopedOrphan = await uploaded(app, alice, file, [{ name: 'conversationId', value: conversationId }])
  const posted = await uploaded(app, alice, file)
  const young = await uploaded(app, alice, file)
  await send(app, alice, conversationId, 'with a file', { attachmentIds: [posted.id] })
  for (const id of [orphan.id, scopedOrphan.id, posted.id]) await age(app, id, 2 * HOUR)
  t.ok((await gridFsHas(app, orphan.id)).chunks > 1, 'the orphan has several chunks')

  const removed = await app.attachments.sweep()
  t.equal(removed, 2, 'two orphans removed')
  for (const id of [orphan.id, scopedOrphan.id]) {
    t.equal(await app.models.Attachment.countDocuments({ _id: id }), 0, 'metadata gone')
    t.same(await gridFsHas(app, id), { file: false, chunks: 0 }, 'GridFS file and chunks gone')
    t.equal((await download(app, alice, id)).statusCode, 404)
  }
  for (const id of [posted.id, young.id]) {
    t.equal((await download(app, alice, id)).statusCode, 200, 'posted or younger than the TTL: kept')
    t.equal((await gridFsHas(app, id)).file, true)
  }
  t.equal(await app.attachments.sweep(), 0, 'nothing more to sweep')
})

t.test('the sweep runs on its own timer', async t => {
  const app = await buildChatApp(t, { UPLOAD_ORPHAN_TTL: '1s' }, { build: { attachments: { sweepIntervalMs: 100 } } })
  const alice = await signUp(app, 'alice')
  const orphan = await uploaded(app, alice, { filename: 'a.png', data: pngFixture(10) })
  const deadline = Date.now() + 5000
  while (await app.models.Attachment.countDocuments({ _id: orphan.id }) > 0 && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  t.equal(await app.models.Attachment.countDocuments({ _id: orphan.id }), 0, 'swept without a call')
  t.same(await bucketCounts(app), { files: 0, chunks: 0 })
})

t.test('once every message carrying a file is deleted, only admins can download it; the sweep then removes it', async t => {
  const { app, alice, bob, root, conversationId } = await setup(t)
  const file = await uploaded(app, alice, { filename: 'a.png', data: pngFixture(100) })
  const first = await send(app, alice, conversationId, 'one', { attachmentIds: [file.id] })
  const second = await send(app, alice, conversationId, 'two', { attachmentIds: [file.id] })
  const status = async (user: { accessToken: string }) => (await download(app, user as never, file.id)).statusCode
  t.equal(await status(bob), 200, 'a member of the conversation it was posted in')

  t.equal((await api(app, alice)('DELETE', `/api/messages/${first.id}`)).statusCode, 204)
  t.equal(await status(bob), 200, 'still carried by another message')
  t.equal(await status(alice), 200)

  t.equal((await api(app, alice)('DELETE', `/api/messages/${second.id}`)).statusCode, 204)
  t.equal(await status(bob), 404, 'no live message carries it: members lose it')
  t.equal(await status(alice), 404, 'and so does the uploader')
  t.equal(await status(root as never), 200, 'admins still can')

  t.equal(await app.attachments.sweep(), 0, 'released files wait the release grace (a claim may be in flight)')
  t.equal(await app.models.Attachment.countDocuments({ _id: file.id, releasedAt: { $exists: true } }), 1, 'marked released')
  t.equal(await app.attachments.sweep(new Date(Date.now() + 31_000)), 1, 'then they go, long before the orphan TTL')
  t.same(await bucketCounts(app), { files: 0, chunks: 0 })
})

t.test('the uploader may post a released file again: readable again, no longer released', async t => {
  const { app, alice, bob, conversationId } = await setup(t)
  const file = await uploaded(app, alice, { filename: 'a.png', data: pngFixture(100) })
  const message = await send(app, alice, conversationId, 'one', { attachmentIds: [file.id] })
  await api(app, alice)('DELETE', `/api/messages/${message.id}`)
  t.equal((await download(app, bob, file.id)).statusCode, 404)
  await send(app, alice, conversationId, 'again', { attachmentIds: [file.id] })
  t.equal((await download(app, bob, file.id)).statusCode, 200)
  t.equal(await app.attachments.sweep(new Date(Date.now() + 2 * HOUR)), 0, 'carried again: kept')
})

t.test('released(): the messages service reports a deleted message\'s files', async t => {
  const { app, alice, bob, conversationId } = await setup(t)
  const file = await uploaded(app, alice, { filename: 'a.png', data: pngFixture(100) })
  const kept = await uploaded(app, alice, { filename: 'b.png', data: pngFixture(100) })
  const message = await send(app, alice, conversationId, 'files', { attachmentIds: [file.id, kept.id] })
  await send(app, alice, conversationId, 'again', { attachmentIds: [kept.id] })
  // The soft delete empties the message's attachments; nobody downloads the file afterwards.
  const doc = await app.models.Message.findById(message.id).lean()
  await app.models.Message.updateOne({ _id: message.id }, { $set: { attachments: [], deletedAt: new Date(), body: '' } })
  await app.attachments.released(doc!.attachments)
  t.equal(await app.attachments.sweep(new Date(Date.now() + 2 * HOUR)), 1, 'the released file is swept, the one still carried is not')
  t.equal((await download(app, bob, kept.id)).statusCode, 200)
  t.equal((await download(app, bob, file.id)).statusCode, 404)
})

t.test('deleting a message releases its files: swept after the grace though nobody downloaded them since', async t => {
  const { app, alice, conversationId } = await setup(t)
  const file = await uploaded(app, alice, { filename: 'a.png', data: pngFixture(100) })
  const message = await send(app, alice, conversationId, 'one', { attachmentIds: [file.id] })
  t.equal((await api(app, alice)('DELETE', `/api/messages/${message.id}`)).statusCode, 204)
  t.equal(await app.models.Attachment.countDocuments({ _id: file.id, releasedAt: { $exists: true } }), 1, 'released by the delete itself')
  t.equal(await app.attachments.sweep(new Date(Date.now() + 2 * HOUR)), 1)
  t.same(await bucketCounts(app), { files: 0, chunks: 0 })
})

t.test('the bytes of a deleted message\'s files go on their own once the grace has passed, also after an admin delete', async t => {
  // The interval sweep is far off: only the release brings the sweep forward.
  const { app, alice, root, conversationId } = await setup(t, {}, { sweepIntervalMs: 3_600_000, releaseGraceMs: 50 })
  const own = await uploaded(app, alice, { filename: 'a.png', data: pngFixture(300 * 1024) })
  const moderated = await uploaded(app, alice, { filename: 'b.png', data: pngFixture(100) })
  const kept = await uploaded(app, alice, { filename: 'c.png', data: pngFixture(100) })
  const first = await send(app, alice, conversationId, 'one', { attachmentIds: [own.id] })
  const second = await send(app, alice, conversationId, 'two', { attachmentIds: [moderated.id, kept.id] })
  await send(app, alice, conversationId, 'three', { attachmentIds: [kept.id] })
  t.equal((await api(app, alice)('DELETE', `/api/messages/${first.id}`)).statusCode, 204, 'the sender deletes')
  t.equal((await api(app, root as never)('DELETE', `/api/messages/${second.id}`)).statusCode, 204, 'an admin deletes')
  const deadline = Date.now() + 5000
  while ((await gridFsHas(app, own.id)).file || (await gridFsHas(app, moderated.id)).file) {
    if (Date.now() > deadline) break
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  for (const id of [own.id, moderated.id]) t.same(await gridFsHas(app, id), { file: false, chunks: 0 }, 'bytes removed')
  t.same(await gridFsHas(app, kept.id), { file: true, chunks: 1 }, 'a file another message carries stays')
  t.equal((await download(app, alice, kept.id)).statusCode, 200)
})
