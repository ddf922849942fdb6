/**
 * HTTP timeouts on a real listening server: a client that trickles its headers or its body a byte at a time is
 * cut after HEADERS_TIMEOUT / REQUEST_TIMEOUT, and an upload cut that way leaves no GridFS chunks behind.
 */
import net from 'node:net'
import t from 'tap'
import { buildChatApp, listen } from './helpers/build-app.js'
import { signUp } from './helpers/users.js'
import { bucketCounts } from './modules/attachments/attachment-helpers.js'

const TIMEOUTS = { REQUEST_TIMEOUT: '2s', HEADERS_TIMEOUT: '1s' }
/** Far past the timeouts (Node checks them every connectionsCheckingInterval), far below "never". */
const GIVE_UP_MS = 8000

interface Trickle {
  /** ms from the connection to the server closing it (or GIVE_UP_MS when it did not). */
  closedAfter: Promise<number>
  /** What the server answered before closing. */
  received: () => string
}

/** Connects, writes `head` at once, then `drip` one byte every 100 ms until the server closes (or we give up). */
function trickle (port: number, head: Buffer, drip: string): Trickle {
  const socket = net.connect(port, '127.0.0.1')
  const started = Date.now()
  let received = ''
  socket.on('data', chunk => { received += chunk.toString('latin1') })
  socket.on('error', () => {})
  socket.write(head)
  let i = 0
  const timer = setInterval(() => { if (!socket.destroyed) socket.write(drip[i++ % drip.length]) }, 100)
  const closedAfter = new Promise<number>(resolve => {
    const giveUp = setTimeout(() => { socket.destroy(); resolve(GIVE_UP_MS) }, GIVE_UP_MS)
    socket.on('close', () => { clearTimeout(giveUp); clearInterval(timer); resolve(Date.now() - started) })
  })
  return { closedAfter, received: () => received }
}

async function until (check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return await check()
}

t.test('headers sent a byte at a time: cut after HEADERS_TIMEOUT', async t => {
  const app = await buildChatApp(t, TIMEOUTS)
  const port = Number(new URL(await listen(app)).port)
  const slow = trickle(port, Buffer.from('GET /health HTTP/1.1\r\nHost: x\r\n'), 'X-Slow: aaaaaaaaaaaaaaaaaaaaa\r\n')
  const ms = await slow.closedAfter
  t.ok(ms >= 900 && ms < 4000, `closed after ${ms} ms`)
  t.match(slow.received(), /^HTTP\/1\.1 408/, '408 Request Timeout')
})

t.test('an upload body sent a byte at a time: cut after REQUEST_TIMEOUT, its GridFS chunks removed', async t => {
  const app = await buildChatApp(t, TIMEOUTS)
  const port = Number(new URL(await listen(app)).port)
  const alice = await signUp(app)
  const boundary = 'slowboundary'
  // Enough at once for GridFS to write chunks (255 KiB each), then the rest a byte at a time.
  const first = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n'),
    Buffer.alloc(600 * 1024, 7)
  ])
  const head = Buffer.from(`POST /api/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice.accessToken}\r\n` +
    `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${first.length + 10 * 1024 * 1024}\r\n\r\n`)
  const slow = trickle(port, Buffer.concat([head, first]), 'z')
  t.ok(await until(async () => (await bucketCounts(app)).chunks > 0, 1500), 'chunks were being written')
  const ms = await slow.closedAfter
  t.ok(ms >= 1900 && ms < 5000, `closed after ${ms} ms`)
  t.ok(await until(async () => {
    const counts = await bucketCounts(app)
    return counts.chunks === 0 && counts.files === 0
  }, 3000), 'no GridFS chunks or file stay behind')
  t.equal(await app.models.Attachment.countDocuments({}), 0, 'no metadata')
})

t.test('a request within the timeouts is unaffected', async t => {
  const app = await buildChatApp(t, TIMEOUTS)
  const url = await listen(app)
  t.equal((await fetch(`${url}/health`)).status, 200)
})

t.test('timeout config: defaults, durations, HEADERS_TIMEOUT at most REQUEST_TIMEOUT, 0 disables', async t => {
  const { loadConfig } = await import('../src/config/load-config.js')
  const read = (env: Record<string, string>) => {
    const config = loadConfig({ NODE_ENV: 'test', ...env })
    return [config.requestTimeoutSeconds, config.headersTimeoutSeconds]
  }
  t.same(read({}), [120, 20], 'defaults')
  t.same(read({ REQUEST_TIMEOUT: '5m', HEADERS_TIMEOUT: '30' }), [300, 30])
  t.same(read({ REQUEST_TIMEOUT: '10s', HEADERS_TIMEOUT: '1m' }), [10, 10], 'headers clamped to the request timeout')
  t.same(read({ REQUEST_TIMEOUT: '0' }), [0, 20], 'no request timeout')
  t.same(read({ REQUEST_TIMEOUT: '10s', HEADERS_TIMEOUT: '0' }), [10, 10], 'headers within the request timeout anyway')
  t.throws(() => read({ REQUEST_TIMEOUT: '2 minutes' }), /REQUEST_TIMEOUT/)
})
