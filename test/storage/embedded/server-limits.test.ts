// The engine's resource caps over raw sockets: concurrent connections, the size a frame header may
// announce, and how much one connection that sends without reading replies can make the engine buffer.
import t from 'tap'
import net from 'node:net'
import { BSON, type Document } from 'bson'
import mongoose from 'mongoose'
import { DEFAULT_MAX_MESSAGE_BYTES, startEmbeddedMongo } from '../../../src/storage/embedded/index.js'
import { FrameDecoder, encodeOpMsgRequest } from '../../../src/storage/embedded/wire-protocol.js'
import { eventually, sleep } from '../../helpers/wait.js'

const silent = { debug () {}, info () {}, warn () {}, error () {} }

/** Connects; resolves with the socket, and whether the server hung up before answering a ping. */
async function connectAndPing (port: number): Promise<{ socket: net.Socket; answered: boolean }> {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  const decoder = new FrameDecoder(64 * 1024 * 1024)
  const answered = await new Promise<boolean>(resolve => {
    socket.once('connect', () => socket.write(encodeOpMsgRequest(1, { ping: 1, $db: 'admin' })))
    socket.on('data', chunk => { if (decoder.push(chunk).length > 0) resolve(true) })
    socket.once('close', () => resolve(false))
    setTimeout(() => resolve(false), 3000)
  })
  return { socket, answered }
}

t.test('connections over maxConnections are closed at once; a freed slot is usable again', async t => {
  const server = await startEmbeddedMongo({ logger: silent, maxConnections: 4 })
  t.teardown(() => server.close())
  const held = await Promise.all([0, 1, 2, 3].map(async () => await connectAndPing(server.port)))
  t.teardown(() => { for (const h of held) h.socket.destroy() })
  t.same(held.map(h => h.answered), [true, true, true, true], 'four connections are served')

  const over = await connectAndPing(server.port)
  t.equal(over.answered, false, 'the fifth gets no answer')
  t.equal(over.socket.destroyed, true, 'and is closed by the server')

  held[0].socket.destroy()
  let replacement: net.Socket | undefined
  const again = await eventually(async () => {
    const next = await connectAndPing(server.port)
    if (next.answered) replacement = next.socket
    else next.socket.destroy()
    return next.answered
  })
  t.teardown(() => replacement?.destroy())
  t.ok(again, 'after one closes, a new connection is served')
  t.equal((await connectAndPing(server.port)).answered, false, 'and the cap holds again once the slot is taken')
})

t.test('a header announcing more than 48 MB (MongoDB maxMessageSizeBytes) closes the connection before any body', async t => {
  t.equal(DEFAULT_MAX_MESSAGE_BYTES, 48_000_000)
  const server = await startEmbeddedMongo({ logger: silent })
  t.teardown(() => server.close())
  const socket = net.connect(server.port, '127.0.0.1')
  socket.on('error', () => {})
  await new Promise(resolve => socket.once('connect', resolve))
  const header = Buffer.alloc(16)
  header.writeInt32LE(DEFAULT_MAX_MESSAGE_BYTES + 1, 0)
  header.writeInt32LE(2013, 12)
  socket.write(header)
  const closed = await new Promise<boolean>(resolve => {
    socket.once('close', () => resolve(true))
    setTimeout(() => resolve(false), 3000)
  })
  t.ok(closed, 'closed on the header alone')
})

t.test('a client that sends without reading replies cannot make the engine buffer what it sends', async t => {
  const maxMessageBytes = 1_000_000
  const server = await startEmbeddedMongo({ logger: silent, maxMessageBytes })
  t.teardown(() => server.close())
  const client = await mongoose.createConnection(server.url).asPromise()
  t.teardown(() => client.close())
  // Each find answers with ~1 MB, so replies the client does not read soon fill the socket buffers.
  await client.collection('big').insertMany(Array.from({ length: 16 }, (_, i) => ({ i, pad: 'p'.repeat(60_000) })))

  const socket = net.connect(server.port, '127.0.0.1')
  socket.on('error', () => {})
  t.teardown(() => socket.destroy())
  await new Promise(resolve => socket.once('connect', resolve))
  socket.pause() // read nothing: the replies pile up in the kernel, then in the engine's send
  const requests = 120
  const comment = 'c'.repeat(900_000)
  for (let i = 1; i <= requests; i++) {
    socket.write(encodeOpMsgRequest(i, { find: 'big', filter: {}, batchSize: 100, comment, $db: 'test' }))
  }
  const sentBytes = socket.writableLength
  // Wait until the engine has taken all it will take (the client's own send buffer stops shrinking).
  let last = -1
  for (let i = 0; i < 40 && socket.writableLength !== last; i++) {
    last = socket.writableLength
    await sleep(250)
  }
  // Taken = kernel buffers both ways (tens of MB on loopback) + the replies' requests + what the engine holds.
  // Without a byte cap the engine queues up to 256 requests, i.e. all 108 MB.
  t.ok(socket.writableLength > sentBytes / 4,
    `the engine stopped reading: ${Math.round(socket.writableLength / 1e6)} of ${Math.round(sentBytes / 1e6)} MB still unsent`)

  // Reading again resumes the engine: every request is answered, in order.
  const decoder = new FrameDecoder(64 * 1024 * 1024)
  let answered = 0
  let inOrder = true
  await new Promise<void>((resolve, reject) => {
    socket.on('data', chunk => {
      for (const frame of decoder.push(chunk)) {
        answered++
        if (frame.readInt32LE(8) !== answered) inOrder = false
        const body: Document = BSON.deserialize(frame.subarray(21))
        if (body.ok !== 1) reject(new Error(JSON.stringify(body)))
      }
      if (answered === requests) resolve()
    })
    socket.once('close', () => reject(new Error(`closed after ${answered} replies`)))
    socket.resume()
  })
  t.equal(answered, requests, 'all answered once the client reads')
  t.ok(inOrder, 'in request order')
})
