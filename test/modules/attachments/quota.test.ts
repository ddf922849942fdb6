/** Per-user storage quota (UPLOAD_QUOTA_BYTES) and upload rate (RATE_LIMIT_UPLOADS), on real uploads into GridFS. */
import t from 'tap'
import { directChat } from '../../helpers/conversations.js'
import { signUp } from '../../helpers/users.js'
import { bucketCounts, multipart, pdfFixture, upload } from './attachment-helpers.js'
import { bearer } from '../../helpers/rest.js'

/** A PDF of exactly `bytes` bytes (pdfFixture's header is 15). */
const pdf = (bytes: number) => ({ filename: 'f.pdf', data: pdfFixture(bytes - 15) })

t.test('uploads beyond the quota are 413 QUOTA_EXCEEDED and leave nothing behind', async t => {
  const { app, alice, bob, id } = await directChat(t, { UPLOAD_QUOTA_BYTES: '1000', RATE_LIMIT_UPLOADS: '0' })
  t.equal((await upload(app, alice, [pdf(600)])).statusCode, 201)
  const before = await bucketCounts(app)

  const over = await upload(app, alice, [pdf(600)])
  t.equal(over.statusCode, 413)
  t.equal(over.json().code, 'QUOTA_EXCEEDED')
  t.match(over.json().message, /quota/)
  t.same(await bucketCounts(app), before, 'no chunks or file of the refused upload stay')

  t.equal((await upload(app, alice, [pdf(400)])).statusCode, 201, 'what fits the rest of the quota is accepted')
  t.equal((await upload(app, alice, [pdf(20)])).json().code, 'QUOTA_EXCEEDED', 'the quota is full')
  t.equal((await upload(app, bob, [pdf(900)])).statusCode, 201, 'each user has their own quota')

  // The multipart message form stores through the same service: the same quota.
  const body = multipart([{ name: 'body', value: 'hi' }, pdf(20)])
  const send = await app.inject({
    method: 'POST', url: `/api/conversations/${id}/messages`, payload: body.payload, headers: { ...body.headers, ...bearer(alice.accessToken) }
  })
  t.equal(send.statusCode, 413)
  t.equal(send.json().code, 'QUOTA_EXCEEDED')

  // Removing an upload frees its bytes.
  const stored = await app.models.Attachment.find({ uploaderId: alice.id }).lean()
  await app.attachments.remove(stored[0]._id)
  t.equal((await upload(app, alice, [pdf(400)])).statusCode, 201, 'freed space can be used again')
})

t.test('concurrent uploads never take a user over the quota together', async t => {
  const { app, alice } = await directChat(t, { UPLOAD_QUOTA_BYTES: '1000', RATE_LIMIT_UPLOADS: '0' })
  const replies = await Promise.all(Array.from({ length: 6 }, async () => await upload(app, alice, [pdf(400)])))
  const accepted = replies.filter(res => res.statusCode === 201)
  t.ok(accepted.length >= 1 && accepted.length <= 2, `${accepted.length} of 6 accepted`)
  for (const res of replies.filter(r => r.statusCode !== 201)) t.equal(res.json().code, 'QUOTA_EXCEEDED')
  const docs = await app.models.Attachment.find({ uploaderId: alice.id }).lean()
  t.ok(docs.reduce((sum, doc) => sum + doc.size, 0) <= 1000, 'stored bytes within the quota')
  t.same(await bucketCounts(app), { files: docs.length, chunks: docs.length }, 'GridFS holds exactly the accepted files')
})

t.test('RATE_LIMIT_UPLOADS per user per hour: 429 RATE_LIMITED with Retry-After, nothing stored', async t => {
  const { app, alice } = await directChat(t, { RATE_LIMIT_UPLOADS: '2' })
  const carol = await signUp(app)
  t.equal((await upload(app, alice, [pdf(100)])).statusCode, 201)
  t.equal((await upload(app, alice, [pdf(100)])).statusCode, 201)
  const before = await bucketCounts(app)
  const limited = await upload(app, alice, [pdf(100)])
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'RATE_LIMITED')
  const retryAfter = Number(limited.headers['retry-after'])
  t.ok(retryAfter > 60 && retryAfter <= 3600, `Retry-After ${retryAfter} s (an hour's window)`)
  t.same(await bucketCounts(app), before, 'nothing of the limited upload is stored')
  t.equal((await upload(app, carol, [pdf(100)])).statusCode, 201, 'another user has their own budget')
})
