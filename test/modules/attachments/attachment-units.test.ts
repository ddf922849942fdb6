/** The pure helpers: name sanitising, Content-Disposition, Range parsing; and the routes in the OpenAPI document. */
import t from 'tap'
import { contentDisposition, sanitizeFileName } from '../../../src/modules/attachments/file-name.js'
import { parseRange } from '../../../src/modules/attachments/http-range.js'
import { buildChatApp } from '../../helpers/build-app.js'
import { signUp } from '../../helpers/users.js'
import { uploaded } from './attachment-helpers.js'

t.test('sanitizeFileName', async t => {
  const cases: Array<[string | undefined, string]> = [
    [undefined, 'file'],
    ['', 'file'],
    ['   ', 'file'],
    ['../../etc/passwd', 'passwd'],
    ['/abs/path/x.txt', 'x.txt'],
    ['C:\\Users\\me\\x.txt', 'x.txt'],
    ['...', 'file'],
    ['..hidden..txt', 'hidden.txt'],
    ['a\u0000b\u0007c\u001b[31m.txt', 'abc[31m.txt'],
    ['tab\tand\nnewline.txt', 'tabandnewline.txt'],
    ['del\u007f\u0085.txt', 'del.txt'],
    ['invoice\u202efdp.exe', 'invoicefdp.exe'],
    ['name. . .', 'name'],
    ['many     spaces.txt', 'many spaces.txt'],
    ['e\u0301.txt', 'é.txt'],
    [`${'a'.repeat(250)}`, 'a'.repeat(200)],
    [`${'a'.repeat(250)}.tar.gz`, `${'a'.repeat(197)}.gz`],
    [`${'😀'.repeat(250)}.png`, `${'😀'.repeat(196)}.png`],
    [`a.${'b'.repeat(300)}`, `a.${'b'.repeat(198)}`]
  ]
  for (const [raw, expected] of cases) t.equal(sanitizeFileName(raw), expected, JSON.stringify(raw))
})

t.test('contentDisposition quotes safely and carries the exact name in filename*', async t => {
  t.equal(contentDisposition('a.png'), 'attachment; filename="a.png"; filename*=UTF-8\'\'a.png')
  t.equal(contentDisposition('naïve (1)*.txt'), 'attachment; filename="na_ve (1)*.txt"; filename*=UTF-8\'\'na%C3%AFve%20%281%29%2A.txt')
  t.equal(contentDisposition('a\\b%c.txt'), 'attachment; filename="a_b_c.txt"; filename*=UTF-8\'\'a%5Cb%25c.txt')
})

t.test('parseRange', async t => {
  const cases: Array<[string | undefined, number, ReturnType<typeof parseRange>]> = [
    [undefined, 10, null],
    ['bytes=0-4', 10, { start: 0, end: 4 }],
    ['bytes=5-', 10, { start: 5, end: 9 }],
    ['bytes=-3', 10, { start: 7, end: 9 }],
    ['bytes=-30', 10, { start: 0, end: 9 }],
    ['bytes=3-300', 10, { start: 3, end: 9 }],
    ['BYTES = 1 - 2', 10, { start: 1, end: 2 }],
    ['bytes=10-', 10, 'unsatisfiable'],
    ['bytes=10-20', 10, 'unsatisfiable'],
    ['bytes=-0', 10, 'unsatisfiable'],
    ['bytes=0-', 0, 'unsatisfiable'],
    ['bytes=-5', 0, 'unsatisfiable'],
    ['bytes=5-4', 10, null],
    ['bytes=0-1,3-4', 10, null],
    ['bytes=-', 10, null],
    ['bytes=a-b', 10, null],
    ['bytes=1.5-2', 10, null],
    ['pages=0-1', 10, null],
    ['', 10, null]
  ]
  for (const [header, size, expected] of cases) t.same(parseRange(header, size), expected, `${String(header)} of ${size}`)
})

t.test('OpenAPI describes the attachment routes and the multipart message form', async t => {
  const app = await buildChatApp(t)
  const { paths } = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
  const post = paths['/api/attachments/']?.post ?? paths['/api/attachments']?.post
  t.ok(post?.requestBody?.content?.['multipart/form-data'], 'upload is multipart')
  t.ok(post.responses['201'] && post.responses['413'] && post.responses['415'])
  t.same(post.security, [{ bearer: [] }])
  const get = paths['/api/attachments/{id}']?.get
  t.ok(get?.responses['206'] && get.responses['416'] && get.responses['404'])
  const send = paths['/api/conversations/{id}/messages'].post
  t.ok(send.requestBody.content['application/json'] && send.requestBody.content['multipart/form-data'])
})

t.test('HEAD answers the headers of the download without a body', async t => {
  const app = await buildChatApp(t)
  const alice = await signUp(app)
  const attachment = await uploaded(app, alice, { filename: 'a.txt', data: Buffer.from('hello') })
  const res = await app.inject({ method: 'HEAD', url: attachment.url, headers: { authorization: `Bearer ${alice.accessToken}` } })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-length'], '5')
  t.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
  t.equal(res.rawPayload.length, 0)
  const partial = await app.inject({ method: 'HEAD', url: attachment.url, headers: { authorization: `Bearer ${alice.accessToken}`, range: 'bytes=1-2' } })
  t.equal(partial.statusCode, 206)
  t.equal(partial.headers['content-range'], 'bytes 1-2/5')
  t.equal(partial.headers['content-length'], '2')
  t.equal(partial.rawPayload.length, 0)
})
