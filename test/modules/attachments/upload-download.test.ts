/** Upload into GridFS and download back: bytes, detected type, names, the size limit, Range requests, bad bodies. */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { buildChatApp } from '../../helpers/build-app.js'
import { bearer } from '../../helpers/rest.js'
import { signUp } from '../../helpers/users.js'
import { bucketCounts, download, multipart, pdfFixture, pngFixture, upload, uploaded } from './attachment-helpers.js'

t.test('round trip: a PNG sent as text/plain is stored as image/png and comes back byte for byte', async t => {
  const app = await buildChatApp(t)
  const alice = await signUp(app)
  const data = pngFixture(600_000) // several GridFS chunks (255 KiB each)
  const res = await upload(app, alice, [{ filename: 'photo.png', contentType: 'text/plain', data }])
  t.equal(res.statusCode, 201, res.body)
  const attachment = res.json()
  t.match(attachment, { id: /^[0-9a-f]{24}$/, name: 'photo.png', size: data.length, sizeLabel: '585.99 KB', mimeType: 'image/png' })
  t.equal(attachment.url, `/api/attachments/${attachment.id}`)
  t.same(Object.keys(attachment).sort(), ['id', 'mimeType', 'name', 'size', 'sizeLabel', 'url'])

  const got = await download(app, alice, attachment.id)
  t.equal(got.statusCode, 200)
  t.ok(got.rawPayload.equals(data), 'same bytes')
  t.equal(got.headers['content-type'], 'image/png')
  t.equal(got.headers['content-length'], String(data.length))
  t.equal(got.headers['accept-ranges'], 'bytes')
  t.equal(got.headers['x-content-type-options'], 'nosniff')
  t.equal(got.headers['content-disposition'], 'attachment; filename="photo.png"; filename*=UTF-8\'\'photo.png')
  t.same(await bucketCounts(app), { chunks: 3, files: 1 })
  const meta = await app.models.Attachment.findById(attachment.id).lean()
  t.match(meta, { uploaderId: { toString: Function }, name: 'photo.png', size: data.length, mimeType: 'image/png', conversationIds: [] })
  t.equal(String(meta?.uploaderId), alice.id)
})

t.test('the type comes from the content, never from the client header', async t => {
  const app = await buildChatApp(t)
  const alice = await signUp(app)
  const cases: Array<[string, Buffer, string, string]> = [
    ['doc.pdf', pdfFixture(2000), 'image/png', 'application/pdf'],
    ['page.html', Buffer.from('<html><script>alert(1)</script></html>'), 'text/html', 'text/plain'],
    ['notes.txt', Buffer.from('héllo wörld ✓ 📎\n'.repeat(500)), 'application/pdf', 'text/plain'],
    ['blob.bin', Buffer.concat([Buffer.from('abc'), Buffer.from([0]), Buffer.from('def')]), 'text/plain', 'application/octet-stream'],
    ['latin1.txt', Buffer.from('caf\xe9 au lait', 'latin1'), 'text/plain', 'application/octet-stream'],
    ['random', randomBytes(5000), 'image/jpeg', 'application/octet-stream']
  ]
  for (const [filename, data, claimed, expected] of cases) {
    const attachment = await uploaded(app, alice, { filename, contentType: claimed, data })
    t.equal(attachment.mimeType, expected, filename)
    const got = await download(app, alice, attachment.id)
    t.ok(got.rawPayload.equals(data), `${filename}: same bytes`)
    t.equal(got.headers['content-type'], expected === 'text/plain' ? 'text/plain; charset=utf-8' : expected)
    t.match(got.headers['content-security-policy'], /sandbox/, 'never rendered as a page of ours')
  }
  // A multi-byte character cut at a chunk boundary is still valid text: 3-byte characters across 64 KiB reads.
  const text = Buffer.from('€'.repeat(100_000))
  t.equal((await uploaded(app, alice, { filename: 'euros.txt', data: text })).mimeType, 'text/plain')
  // ... but one cut at the end of the file is not.
  t.equal((await uploaded(app, alice, { filename: 'cut.txt', data: text.subarray(0, text.length - 1) })).mimeType, 'application/octet-stream')
})

t.test('names are sanitised: no paths, no control characters, bounded length, extension kept', async t => {
  const app = await buildChatApp(t)
  const alice = await signUp(app)
  const png = pngFixture(10)
  const cases: Array<[string, string]> = [
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\windows\\evil.exe', 'evil.exe'],
    ['..', 'file'],
    ['', 'file'],
    ['.htaccess', 'htaccess'],
    ['a\u202egnp.exe', 'agnp.exe'],
    ['we<ird>:na|me?.png', 'we_ird__na_me_.png'],
    ['résumé 📎.pdf', 'résumé 📎.pdf'],
    [`${'x'.repeat(300)}.png`, `${'x'.repeat(196)}.png`]
  ]
  for (const [raw, expected] of cases) {
    const attachment = await uploaded(app, alice, { filename: raw, data: png })
    t.equal(attachment.name, expected, JSON.stringify(raw))
  }
  const unicode = await uploaded(app, alice, { filename: 'résumé 100%.pdf', data: pdfFixture(10) })
  const got = await download(app, alice, unicode.id)
  t.equal(got.headers['content-disposition'], 'attachment; filename="r_sum_ 100_.pdf"; filename*=UTF-8\'\'r%C3%A9sum%C3%A9%20100%25.pdf')
})

t.test('UPLOAD_MAX_BYTES: 413 PAYLOAD_TOO_LARGE over the limit and nothing left in GridFS', async t => {
  const small = await buildChatApp(t, { UPLOAD_MAX_BYTES: '1000' })
  const alice = await signUp(small)
  t.equal((await uploaded(small, alice, { filename: 'exact.bin', data: randomBytes(1000) })).size, 1000, 'exactly the limit is fine')
  const res = await upload(small, alice, [{ filename: 'big.bin', data: randomBytes(1001) }])
  t.equal(res.statusCode, 413)
  t.equal(res.json().code, 'PAYLOAD_TOO_LARGE')
  t.same(await bucketCounts(small), { chunks: 1, files: 1 }, 'only the accepted file')
  t.equal(await small.models.Attachment.countDocuments({}), 1)

  // A limit above one GridFS chunk: chunks were written before the limit hit, and all of them are gone.
  const app = await buildChatApp(t, { UPLOAD_MAX_BYTES: '600000' })
  const bob = await signUp(app)
  const big = await upload(app, bob, [{ filename: 'big.png', data: pngFixture(700_000) }])
  t.equal(big.statusCode, 413)
  t.equal(big.json().code, 'PAYLOAD_TOO_LARGE')
  t.same(await bucketCounts(app), { chunks: 0, files: 0 }, 'no orphan chunks')
  t.equal(await app.models.Attachment.countDocuments({}), 0)
})

t.test('Range: 206 with the right bytes, suffix and open ranges, 416 when unsatisfiable, 200 for what we do not serve', async t => {
  const app = await buildChatApp(t)
  const alice = await signUp(app)
  const data = pngFixture(300_000)
  const size = data.length
  const { id } = await uploaded(app, alice, { filename: 'a.png', data })
  const partial = async (range: string, start: number, end: number) => {
    const res = await download(app, alice, id, { range })
    t.equal(res.statusCode, 206, range)
    t.equal(res.headers['content-range'], `bytes ${start}-${end}/${size}`, range)
    t.equal(res.headers['content-length'], String(end - start + 1), range)
    t.equal(res.headers['content-type'], 'image/png')
    t.ok(res.rawPayload.equals(data.subarray(start, end + 1)), `${range}: the right bytes`)
  }
  await partial('bytes=0-9', 0, 9)
  await partial('bytes=261100-261200', 261100, 261200) // across the first chunk boundary (261120)
  await partial('bytes=299990-', 299990, size - 1)
  await partial('bytes=-5', size - 5, size - 1)
  await partial('bytes=-99999999', 0, size - 1)
  await partial(`bytes=100-${size + 5000}`, 100, size - 1)
  await partial(`bytes=${size - 1}-${size - 1}`, size - 1, size - 1)

  for (const range of [`bytes=${size}-`, `bytes=${size + 10}-${size + 20}`, 'bytes=-0']) {
    const res = await download(app, alice, id, { range })
    t.equal(res.statusCode, 416, range)
    t.equal(res.headers['content-range'], `bytes */${size}`)
    t.equal(res.json().code, 'RANGE_NOT_SATISFIABLE')
  }
  for (const range of ['bytes=9-5', 'bytes=0-1,5-6', 'items=0-5', 'bytes=abc', 'bytes=-', '']) {
    const res = await download(app, alice, id, { range })
    t.equal(res.statusCode, 200, `"${range}": the whole file`)
    t.equal(res.rawPayload.length, size)
  }
})

t.test('bad requests: 401 without a token, 415 when not multipart, 400 with a clear code otherwise; nothing stored', async t => {
  const app = await buildChatApp(t)
  const alice = await signUp(app)
  const png = pngFixture(100)

  const anonymous = await upload(app, null, [{ filename: 'a.png', data: png }])
  t.equal(anonymous.statusCode, 401)
  const json = await app.inject({ method: 'POST', url: '/api/attachments', headers: bearer(alice.accessToken), payload: { file: 'x' } })
  t.equal(json.statusCode, 415)
  t.equal(json.json().code, 'UNSUPPORTED_MEDIA_TYPE')
  const raw = await app.inject({ method: 'POST', url: '/api/attachments', headers: { ...bearer(alice.accessToken), 'content-type': 'application/octet-stream' }, payload: png })
  t.equal(raw.statusCode, 415)
  const noBody = await app.inject({ method: 'POST', url: '/api/attachments', headers: bearer(alice.accessToken) })
  t.equal(noBody.statusCode, 415)

  const expect = async (parts: Parameters<typeof upload>[2], status: number, code: string, label: string) => {
    const res = await upload(app, alice, parts)
    t.equal(res.statusCode, status, `${label}: ${res.body}`)
    t.equal(res.json().code, code, label)
  }
  await expect([], 400, 'FILE_REQUIRED', 'no parts')
  await expect([{ name: 'conversationId', value: 'x' }], 400, 'FILE_REQUIRED', 'fields only')
  await expect([{ name: 'upload', filename: 'a.png', data: png }], 400, 'UNEXPECTED_FILE', 'file under another name')
  await expect([{ filename: 'a.png', data: png }, { filename: 'b.png', data: png }], 400, 'TOO_MANY_FILES', 'two files')
  await expect([{ filename: 'a.png', data: png }, { name: 'other', value: '1' }], 400, 'VALIDATION_ERROR', 'unknown field after the file')
  await expect([{ name: 'conversationId', value: '{"$gt":""}', contentType: 'application/json' }, { filename: 'a.png', data: png }], 400, 'VALIDATION_ERROR', 'operator object')
  await expect([{ name: 'conversationId', value: 'a' }, { name: 'conversationId', value: 'b' }, { filename: 'a.png', data: png }], 400, 'VALIDATION_ERROR', 'repeated field')
  await expect([{ filename: 'empty.txt', data: Buffer.alloc(0) }], 400, 'EMPTY_FILE', 'empty file')

  const headers = { ...bearer(alice.accessToken) }
  const noBoundary = await app.inject({ method: 'POST', url: '/api/attachments', headers: { ...headers, 'content-type': 'multipart/form-data' }, payload: 'garbage' })
  t.equal(noBoundary.statusCode, 400)
  t.equal(noBoundary.json().code, 'INVALID_MULTIPART')
  const body = multipart([{ filename: 'a.png', data: pngFixture(400_000) }])
  const cut = await app.inject({ method: 'POST', url: '/api/attachments', headers: { ...headers, ...body.headers }, payload: body.payload.subarray(0, 300_000) })
  t.equal(cut.statusCode, 400, 'a body cut short')
  t.equal(cut.json().code, 'INVALID_MULTIPART')

  t.same(await bucketCounts(app), { chunks: 0, files: 0 }, 'nothing stored by any of them')
  t.equal(await app.models.Attachment.countDocuments({}), 0)
})
