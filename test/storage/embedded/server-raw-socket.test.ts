// The wire server under hostile or unusual clients, spoken to over raw sockets: bad frames close only
// their own connection, moreToCome gets no reply, pipelining and split frames keep order.
import t, { type Test } from 'tap'
import net from 'node:net'
import { BSON, type Document } from 'bson'
import mongoose from 'mongoose'
import { startEmbeddedMongo, type EmbeddedMongo } from '../../../src/storage/embedded/index.js'
import {
  FLAG_CHECKSUM_PRESENT,
  FLAG_MORE_TO_COME,
  FrameDecoder,
  OP_QUERY,
  encodeOpMsgRequest,
  readHeader
} from '../../../src/storage/embedded/wire-protocol.js'

const warnings: unknown[] = []
const logger = { debug () {}, info () {}, warn (o: unknown) { warnings.push(o) }, error () {} }
const server: EmbeddedMongo = await startEmbeddedMongo({ logger, maxMessageBytes: 1_000_000 })
t.teardown(() => server.close())

/** A bare wire-protocol client: send frames, read replies in order, notice when the server hangs up. */
class RawClient {
  readonly socket: net.Socket
  readonly replies: Buffer[] = []
  closed = false
  private waiters: Array<() => void> = []
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024)

  constructor (port: number) {
    this.socket = net.connect(port, '127.0.0.1')
    this.socket.on('data', chunk => {
      this.replies.push(...this.decoder.push(chunk))
      this.wake()
    })
    this.socket.on('error', () => {})
    this.socket.on('close', () => { this.closed = true; this.wake() })
  }

  private wake (): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  async ready (): Promise<this> {
    if (!this.socket.connecting) return this
    await new Promise(resolve => this.socket.once('connect', resolve))
    return this
  }

  /** Resolves with the next reply body, or undefined if the server closed the socket. */
  async next (): Promise<{ responseTo: number; body: Document } | undefined> {
    while (this.replies.length === 0 && !this.closed) await new Promise<void>(resolve => this.waiters.push(resolve))
    const frame = this.replies.shift()
    if (frame === undefined) return undefined
    const header = readHeader(frame)
    const offset = header.opCode === 1 ? 36 : 21
    return { responseTo: header.responseTo, body: BSON.deserialize(frame.subarray(offset)) }
  }

  async command (requestId: number, body: Document, sequences?: Record<string, Document[]>): Promise<Document | undefined> {
    this.socket.write(encodeOpMsgRequest(requestId, body, { sequences }))
    const reply = await this.next()
    return reply?.body
  }

  async waitClosed (): Promise<void> {
    while (!this.closed) await new Promise<void>(resolve => this.waiters.push(resolve))
  }

  end (): void { this.socket.destroy() }
}

async function rawClient (t: Test): Promise<RawClient> {
  const c = await new RawClient(server.port).ready()
  t.teardown(() => c.end())
  return c
}

// A second, well-behaved client: must keep working whatever the raw ones do.
const driver = new mongoose.mongo.MongoClient(server.url)
await driver.connect()
t.teardown(() => driver.close())
const db = driver.db('raw')

async function secondClientWorks (t: Test): Promise<void> {
  const res = await db.command({ ping: 1 })
  t.equal(res.ok, 1, 'another client is still served')
}

t.test('garbage bytes close that connection only', async t => {
  const c = await rawClient(t)
  c.socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
  await c.waitClosed()
  t.equal(c.replies.length, 0, 'no reply to garbage')
  await secondClientWorks(t)
})

t.test('a length field of 2^31 closes the connection', async t => {
  const c = await rawClient(t)
  const header = Buffer.alloc(16)
  header.writeUInt32LE(2 ** 31, 0)
  header.writeInt32LE(2013, 12)
  c.socket.write(header)
  await c.waitClosed()
  t.ok(warnings.length > 0, 'logged at warn')
  await secondClientWorks(t)
})

t.test('a message over maxMessageBytes closes the connection', async t => {
  const c = await rawClient(t)
  c.socket.write(encodeOpMsgRequest(1, { ping: 1, pad: 'x'.repeat(1_100_000), $db: 'admin' }))
  await c.waitClosed()
  await secondClientWorks(t)
})

t.test('an unknown opcode closes the connection, after answering what came before it', async t => {
  const c = await rawClient(t)
  const bad = encodeOpMsgRequest(2, { ping: 1, $db: 'admin' })
  bad.writeInt32LE(2010, 12) // OP_COMMAND, long gone
  c.socket.write(Buffer.concat([encodeOpMsgRequest(1, { ping: 1, $db: 'admin' }), bad]))
  const first = await c.next()
  t.equal(first?.responseTo, 1)
  t.equal(first?.body.ok, 1)
  t.equal(await c.next(), undefined, 'then closed without a reply')
  await secondClientWorks(t)
})

t.test('unparsable BSON and OP_COMPRESSED close the connection', async t => {
  const c1 = await rawClient(t)
  const bad = encodeOpMsgRequest(1, { ping: 1, $db: 'admin' })
  bad[25] = 0x7e // not a BSON element type
  c1.socket.write(bad)
  await c1.waitClosed()
  const c2 = await rawClient(t)
  const compressed = encodeOpMsgRequest(1, { ping: 1, $db: 'admin' })
  compressed.writeInt32LE(2012, 12)
  c2.socket.write(compressed)
  await c2.waitClosed()
  await secondClientWorks(t)
})

t.test('moreToCome: the insert runs, no reply is sent', async t => {
  const c = await rawClient(t)
  const frame = encodeOpMsgRequest(1, { insert: 'quiet', documents: [{ _id: 'q1' }], $db: 'raw' }, { flags: FLAG_MORE_TO_COME })
  c.socket.write(frame)
  // The next request's reply must be the first one we get: proves no reply was sent for the insert.
  const reply = await c.command(2, { find: 'quiet', filter: {}, $db: 'raw' })
  t.equal(c.replies.length, 0)
  t.same(reply?.cursor.firstBatch, [{ _id: 'q1' }], 'the document is stored')
  t.same(await db.collection('quiet').findOne({ _id: 'q1' as never }), { _id: 'q1' })
})

t.test('OP_MSG kind-1 document sequence is merged into the command', async t => {
  const c = await rawClient(t)
  const reply = await c.command(1, { insert: 'seq', ordered: true, $db: 'raw' }, {
    documents: [{ _id: 1, v: 'a' }, { _id: 2, v: 'b' }, { _id: 3, v: 'c' }]
  })
  t.equal(reply?.ok, 1)
  t.equal(reply?.n, 3)
  const upd = await c.command(2, { update: 'seq', $db: 'raw' }, { updates: [{ q: { _id: 2 }, u: { $set: { v: 'B' } } }] })
  t.equal(upd?.nModified, 1)
  const del = await c.command(3, { delete: 'seq', $db: 'raw' }, { deletes: [{ q: { _id: 3 }, limit: 1 }] })
  t.equal(del?.n, 1)
  t.same(await db.collection('seq').find().sort({ _id: 1 }).toArray(), [{ _id: 1, v: 'a' }, { _id: 2, v: 'B' }])
})

t.test('pipelined and byte-split requests are answered in order', async t => {
  const c = await rawClient(t)
  const frames = Buffer.concat(Array.from({ length: 20 }, (_, i) =>
    encodeOpMsgRequest(100 + i, { insert: 'order', documents: [{ _id: i }], $db: 'raw' })))
  // Dribble it out in odd-sized pieces so frames straddle chunks.
  for (let i = 0; i < frames.length; i += 37) c.socket.write(frames.subarray(i, i + 37))
  for (let i = 0; i < 20; i++) {
    const reply = await c.next()
    t.equal(reply?.responseTo, 100 + i)
    t.equal(reply?.body.n, 1)
  }
  const stored = await db.collection('order').find().sort({ _id: 1 }).toArray()
  t.same(stored.map(d => d._id), Array.from({ length: 20 }, (_, i) => i))
})

t.test('a flood of pipelined requests (past the read-pause mark) is answered completely, in order', async t => {
  const c = await rawClient(t)
  const N = 2000
  c.socket.write(Buffer.concat(Array.from({ length: N }, (_, i) => encodeOpMsgRequest(i + 1, { ping: 1, $db: 'admin' }))))
  let inOrder = true
  for (let i = 0; i < N; i++) {
    const reply = await c.next()
    if (reply?.responseTo !== i + 1 || reply.body.ok !== 1) inOrder = false
  }
  t.ok(inOrder, `${N} replies, in request order`)
  t.equal((await c.command(N + 1, { ping: 1, $db: 'admin' }))?.ok, 1, 'reading resumed')
})

t.test('checksummed OP_MSG is accepted', async t => {
  const c = await rawClient(t)
  c.socket.write(encodeOpMsgRequest(9, { ping: 1, $db: 'admin' }, { flags: FLAG_CHECKSUM_PRESENT }))
  const reply = await c.next()
  t.equal(reply?.responseTo, 9)
  t.equal(reply?.body.ok, 1)
})

t.test('session, concern and API fields are accepted and ignored', async t => {
  const c = await rawClient(t)
  const reply = await c.command(1, {
    insert: 'generic',
    documents: [{ _id: 1 }],
    lsid: { id: new mongoose.mongo.UUID() },
    txnNumber: new mongoose.mongo.Long(1),
    $clusterTime: { clusterTime: new mongoose.mongo.Timestamp({ t: 1, i: 1 }), signature: {} },
    $readPreference: { mode: 'primaryPreferred' },
    writeConcern: { w: 'majority', j: true },
    readConcern: { level: 'local' },
    apiVersion: '1',
    comment: 'hi',
    maxTimeMS: 1000,
    $db: 'raw'
  })
  t.equal(reply?.ok, 1)
  t.equal(reply?.n, 1)
})

t.test('a transaction is refused as a standalone mongod refuses it', async t => {
  const c = await rawClient(t)
  const reply = await c.command(1, { find: 'generic', startTransaction: true, autocommit: false, txnNumber: new mongoose.mongo.Long(1), $db: 'raw' })
  t.equal(reply?.ok, 0)
  t.equal(reply?.code, 20)
})

t.test('legacy OP_QUERY: isMaster answered with OP_REPLY, other commands refused', async t => {
  const c = await rawClient(t)
  const query = (id: number, cmd: Document): Buffer => {
    const ns = Buffer.from('admin.$cmd\0')
    const body = Buffer.from(BSON.serialize(cmd))
    const out = Buffer.alloc(20 + ns.length + 8 + body.length)
    out.writeInt32LE(out.length, 0)
    out.writeInt32LE(id, 4)
    out.writeInt32LE(OP_QUERY, 12)
    ns.copy(out, 20)
    out.writeInt32LE(-1, 20 + ns.length + 4)
    body.copy(out, 28 + ns.length)
    return out
  }
  c.socket.write(query(5, { isMaster: 1, helloOk: true }))
  const hello = await c.next()
  t.equal(hello?.responseTo, 5)
  t.equal(hello?.body.ismaster, true)
  t.equal(hello?.body.isWritablePrimary, true)
  t.equal(hello?.body.helloOk, true)
  t.equal(hello?.body.maxWireVersion, 21)
  t.equal(hello?.body.logicalSessionTimeoutMinutes, undefined, 'no sessions advertised')
  c.socket.write(query(6, { find: 'x' }))
  const refused = await c.next()
  t.equal(refused?.body.ok, 0)
  t.equal(refused?.body.code, 352)
})

t.test('OP_MSG without $db is an error reply, not a crash', async t => {
  const c = await rawClient(t)
  const reply = await c.command(1, { ping: 1 })
  t.equal(reply?.ok, 0)
  t.equal(reply?.code, 40571)
  t.equal((await c.command(2, { ping: 1, $db: 'admin' }))?.ok, 1, 'connection still usable')
})
