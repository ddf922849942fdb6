/**
 * Uploads over a real socket: an oversized upload is refused while it streams, and an upload the client abandons
 * halfway leaves no chunks behind.
 */
import t from 'tap'
import http from 'node:http'
import { buildChatApp, listen } from '../../helpers/build-app.js'
import { openDirect } from '../../helpers/conversations.js'
import { signUp } from '../../helpers/users.js'
import { eventually, sleep } from '../../helpers/wait.js'
import { bucketCounts, multipart, pngFixture } from './attachment-helpers.js'

/** A multipart upload request to the listening app, to write to (and abandon) by hand. */
function open (url: string, token: string, headers: Record<string, string>, length: number): http.ClientRequest {
  return http.request(`${url}/api/attachments`, {
    method: 'POST',
    headers: { ...headers, authorization: `Bearer ${token}`, 'content-length': String(length) }
  })
}

t.test('over UPLOAD_MAX_BYTES on a real connection: 413 and no chunks', async t => {
  const app = await buildChatApp(t, { UPLOAD_MAX_BYTES: '1000000' })
  const url = await listen(app)
  const alice = await signUp(app)
  const body = multipart([{ filename: 'big.png', data: pngFixture(3_000_000) }])
  const request = open(url, alice.accessToken, body.headers, body.payload.length)
  request.on('error', () => {}) // the server may close before the whole body is written
  const response = new Promise<{ status: number, body: string }>(resolve => {
    request.on('response', res => {
      let text = ''
      res.on('data', chunk => { text += String(chunk) })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
  })
  for (let offset = 0; offset < body.payload.length; offset += 64 * 1024) {
    if (!request.write(body.payload.subarray(offset, offset + 64 * 1024))) await new Promise(resolve => request.once('drain', resolve))
  }
  request.end()
  const res = await response
  t.equal(res.status, 413)
  t.equal(JSON.parse(res.body).code, 'PAYLOAD_TOO_LARGE')
  t.ok(await eventually(async () => (await bucketCounts(app)).chunks === 0), 'no chunks')
  t.same(await bucketCounts(app), { chunks: 0, files: 0 })
  t.equal(await app.models.Attachment.countDocuments({}), 0)
})

t.test('an upload abandoned halfway leaves nothing behind', async t => {
  const app = await buildChatApp(t)
  const url = await listen(app)
  const alice = await signUp(app)
  const body = multipart([{ filename: 'half.png', data: pngFixture(2_000_000) }])
  const request = open(url, alice.accessToken, body.headers, body.payload.length)
  request.on('error', () => {})
  request.write(body.payload.subarray(0, 1_000_000))
  t.ok(await eventually(async () => (await bucketCounts(app)).chunks > 0), 'chunks were being written')
  request.destroy()
  t.ok(await eventually(async () => (await bucketCounts(app)).chunks === 0), 'and are gone after the client left')
  t.same(await bucketCounts(app), { chunks: 0, files: 0 })
  t.equal(await app.models.Attachment.countDocuments({}), 0)
})

t.test('refused before the file is read: answered at once, and the client can finish sending on a live connection', async t => {
  const app = await buildChatApp(t)
  const url = await listen(app)
  const alice = await signUp(app)
  const bob = await signUp(app)
  const carol = await signUp(app)
  const conversationId = await openDirect(app, alice, bob)
  const body = multipart([{ name: 'conversationId', value: conversationId }, { filename: 'big.png', data: pngFixture(5_000_000) }])
  const agent = new http.Agent({ keepAlive: true })
  t.teardown(() => { agent.destroy() })
  const request = http.request(`${url}/api/attachments`, {
    agent, method: 'POST',
    headers: { ...body.headers, authorization: `Bearer ${carol.accessToken}`, 'content-length': String(body.payload.length) }
  })
  let failed: unknown = null
  request.on('error', error => { failed = error })
  const response = new Promise<{ status: number, body: string }>(resolve => {
    request.on('response', res => {
      let text = ''
      res.on('data', chunk => { text += String(chunk) })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
  })
  const sent = new Promise<void>(resolve => request.on('finish', resolve))
  // Written in one go: the answer comes while most of it is still on its way.
  request.end(body.payload)
  const res = await response
  t.equal(res.status, 404)
  t.equal(JSON.parse(res.body).code, 'CONVERSATION_NOT_FOUND')
  t.ok(await Promise.race([sent.then(() => true), sleep(5000).then(() => false)]), 'the whole body was taken')
  t.equal(failed, null, 'no reset')
  t.same(await bucketCounts(app), { chunks: 0, files: 0 })
})
