// Wire fuzzing: seeded random and mutated frames over raw sockets, every opcode, bad lengths, bodies,
// section kinds and checksum flags. However a frame is wrong, it may close only its own connection: a
// mongoose client on another connection keeps answering after every batch, and nothing escapes as an
// unhandledRejection or uncaughtException (which would end Parley, or `npm run db`, in production).
// Reproduce a run with FUZZ_SEED=<seed>.
import t from 'tap'
import net from 'node:net'
import { BSON, Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, type Document } from 'bson'
import mongoose from 'mongoose'
import { startEmbeddedMongo } from '../../../src/storage/embedded/index.js'
import { commandNames } from '../../../src/storage/embedded/commands/command-router.js'
import {
  FLAG_CHECKSUM_PRESENT, FLAG_EXHAUST_ALLOWED, FLAG_MORE_TO_COME, OP_COMPRESSED, OP_MSG, OP_QUERY, crc32c
} from '../../../src/storage/embedded/wire-protocol.js'

const escaped: unknown[] = []
const onUnhandled = (err: unknown): void => { escaped.push(err) }
process.on('unhandledRejection', onUnhandled)
process.on('uncaughtException', onUnhandled)
t.teardown(() => {
  process.off('unhandledRejection', onUnhandled)
  process.off('uncaughtException', onUnhandled)
})

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed1e55)
const BATCHES = 40
const SOCKETS_PER_BATCH = 24
const TIME_BUDGET_MS = 5000
const MAX_MESSAGE_BYTES = 256 * 1024

/** mulberry32: small, seedable, good enough to pick bytes. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
const random = prng(SEED)
const int = (n: number): number => Math.floor(random() * n)
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]
const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)))

const OPCODES = [1, 1000, 2001, 2002, 2004, 2005, 2006, 2007, 2010, 2011, OP_COMPRESSED, OP_MSG, 0, -1, 0x7fffffff]
const NAMES = [...commandNames(), '$query', '$db', 'documents', 'filter', 'pipeline', 'cursor', 'lsid', '', 'a.b', '$where']

function randomValue (depth = 0): unknown {
  switch (int(depth > 2 ? 12 : 16)) {
    case 0: return null
    case 1: return new Int32(int(2 ** 31) - 2 ** 30)
    case 2: return new Double(random() * 1e6 - 5e5)
    case 3: return Long.fromNumber(int(2 ** 40) - 2 ** 39)
    case 4: return 'x'.repeat(int(20))
    case 5: return pick(['fuzz', 'admin', '', 'fuzz.$cmd', '\u0000'.slice(1), '*'])
    case 6: return random() < 0.5
    case 7: return new Date(int(2 ** 42))
    case 8: return new ObjectId()
    case 9: return pick([new MinKey(), new MaxKey(), Decimal128.fromString('NaN'), new Binary(bytes(int(8)))])
    case 10: return /a.*b/i
    case 11: return undefined
    case 12: case 13: return Array.from({ length: int(4) }, () => randomValue(depth + 1))
    default: return randomDoc(depth + 1)
  }
}

function randomDoc (depth = 0): Document {
  const doc: Document = {}
  for (let i = int(5); i > 0; i--) doc[pick(NAMES)] = randomValue(depth)
  return doc
}

/** A command that parses: a real command name first, random arguments, sometimes a $db. */
function commandDoc (): Document {
  const doc: Document = { [pick(commandNames())]: randomValue(), ...randomDoc(1) }
  if (random() < 0.8) doc.$db = pick(['fuzz', 'admin', 'fuzz2'])
  return doc
}

/** Documents aimed at the legacy handshake path: `$query` of every shape. */
function legacyQueryDoc (): Document {
  const inner = pick<unknown>([null, 1, 'isMaster', [], [1], { isMaster: 1 }, { hello: 1, $query: null }, {}, new Int32(1), randomDoc()])
  return pick<Document>([{ $query: inner }, { isMaster: 1 }, { hello: randomValue() }, randomDoc(), { ismaster: 1, $query: inner }, {}])
}

function bson (doc: Document): Buffer {
  try {
    return Buffer.from(BSON.serialize(doc, { ignoreUndefined: random() < 0.5 }))
  } catch {
    return Buffer.from(BSON.serialize({ ping: 1 }))
  }
}

/** Truncates, extends or corrupts a BSON document (sometimes only its size field). */
function damage (doc: Buffer): Buffer {
  switch (int(6)) {
    case 0: return doc.subarray(0, int(doc.length))
    case 1: return Buffer.concat([doc, bytes(1 + int(16))])
    case 2: { const out = Buffer.from(doc); out.writeInt32LE(pick([0, 4, 5, -1, doc.length + 1 + int(1000), 2 ** 31 - 1]), 0); return out }
    case 3: { const out = Buffer.from(doc); for (let i = 1 + int(4); i > 0; i--) out[int(out.length)] = int(256); return out }
    case 4: { const out = Buffer.from(doc); out[out.length - 1] = 1 + int(255); return out } // no terminator
    default: return doc
  }
}

function maybeDamaged (doc: Buffer): Buffer {
  return random() < 0.4 ? damage(doc) : doc
}

function frame (opCode: number, body: Buffer, lengthLie = 0): Buffer {
  const out = Buffer.alloc(16 + body.length)
  out.writeInt32LE(out.length + lengthLie, 0)
  out.writeInt32LE(int(2 ** 31), 4)
  out.writeInt32LE(random() < 0.9 ? 0 : int(2 ** 31), 8)
  out.writeInt32LE(opCode, 12)
  body.copy(out, 16)
  return out
}

function opQueryBody (): Buffer {
  const flags = Buffer.alloc(4)
  flags.writeInt32LE(random() < 0.7 ? 0 : int(2 ** 31))
  const ns = Buffer.from(pick(['admin.$cmd', 'fuzz.$cmd', 'fuzz.coll', '.$cmd', '$cmd', '', 'x'.repeat(int(300))]) + (random() < 0.9 ? '\0' : ''))
  const skipReturn = random() < 0.9 ? Buffer.alloc(8) : bytes(int(8))
  const query = maybeDamaged(bson(random() < 0.7 ? legacyQueryDoc() : randomDoc()))
  const selector = random() < 0.2 ? maybeDamaged(bson(randomDoc())) : Buffer.alloc(0)
  return Buffer.concat([flags, ns, skipReturn, query, selector])
}

function opMsgBody (): Buffer {
  let flags = pick([0, 0, 0, FLAG_MORE_TO_COME, FLAG_CHECKSUM_PRESENT, FLAG_EXHAUST_ALLOWED, 1 << 2, int(2 ** 32)])
  const parts: Buffer[] = []
  for (let sections = random() < 0.8 ? 1 : int(4); sections > 0; sections--) {
    const kind = random() < 0.85 ? pick([0, 0, 1]) : int(256)
    parts.push(Buffer.from([kind]))
    if (kind === 1) {
      const ident = Buffer.from(pick(['documents', 'updates', 'deletes', '', '$db', 'x'.repeat(int(40))]) + (random() < 0.9 ? '\0' : ''))
      const docs = Array.from({ length: int(4) }, () => maybeDamaged(bson(randomDoc())))
      const size = Buffer.alloc(4)
      const real = 4 + ident.length + docs.reduce((n, d) => n + d.length, 0)
      size.writeInt32LE(random() < 0.8 ? real : pick([0, 3, 4, real - 1, real + 1, -1, 2 ** 31 - 1]))
      parts.push(size, ident, ...docs)
    } else {
      parts.push(maybeDamaged(bson(random() < 0.7 ? commandDoc() : randomDoc())))
    }
  }
  const head = Buffer.alloc(4)
  // checksum flag lies: set without a checksum, or a checksum without the flag
  if (random() < 0.15) flags |= FLAG_CHECKSUM_PRESENT
  head.writeUInt32LE(flags >>> 0)
  const payload = Buffer.concat([head, ...parts])
  const tail = random() < 0.15 ? bytes(4) : Buffer.alloc(0)
  return Buffer.concat([payload, tail])
}

function opCompressedBody (): Buffer {
  const head = Buffer.alloc(9)
  head.writeInt32LE(pick([OP_MSG, OP_QUERY, OP_COMPRESSED, int(3000)]), 0)
  head.writeInt32LE(pick([0, 10, -1, 2 ** 31 - 1, int(1000)]), 4)
  head[8] = int(4)
  return Buffer.concat([head, bytes(int(64))])
}

/** Mutates a well-formed request: flipped bytes anywhere, including the header. */
function mutated (): Buffer {
  const good = random() < 0.5 ? frame(OP_MSG, opMsgBody()) : frame(OP_QUERY, opQueryBody())
  for (let i = 1 + int(6); i > 0; i--) good[int(good.length)] = int(256)
  return good
}

/** One hostile message (or a stream fragment) to send. */
function hostileFrame (): Buffer {
  switch (int(9)) {
    case 0: return bytes(1 + int(64)) // garbage
    case 1: return frame(pick(OPCODES), bytes(int(128))) // any opcode, random body
    case 2: case 3: return frame(OP_QUERY, opQueryBody())
    case 4: case 5: return frame(OP_MSG, opMsgBody())
    case 6: return frame(OP_COMPRESSED, opCompressedBody())
    case 7: return mutated()
    default: {
      // bad lengths: below the header, negative, past the limit, or more than will ever be sent
      const lie = pick([-1, -17, 1, 100, MAX_MESSAGE_BYTES, 2 ** 30, -(2 ** 31)])
      return frame(pick([OP_MSG, OP_QUERY, int(3000)]), bytes(int(32)), lie)
    }
  }
}

/** Sends frames (split into random chunks) and waits until the server hangs up, answers quiet down or time runs out. */
async function attack (port: number, frames: Buffer[]): Promise<void> {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  socket.on('data', () => {})
  const closed = new Promise<void>(resolve => socket.once('close', () => resolve()))
  await new Promise<void>(resolve => { socket.once('connect', resolve); socket.once('close', resolve) })
  const stream = Buffer.concat(frames)
  for (let pos = 0; pos < stream.length && !socket.destroyed;) {
    const n = 1 + int(random() < 0.7 ? stream.length : 16)
    socket.write(stream.subarray(pos, pos + n))
    pos += n
  }
  await Promise.race([closed, new Promise(resolve => setTimeout(resolve, 150))])
  socket.destroy()
  await closed
}

t.test('random and mutated frames close only their own connection', async t => {
  const warnings: unknown[] = []
  const logger = { debug () {}, info () {}, warn (o: unknown) { warnings.push(o) }, error (o: unknown) { warnings.push(o) } }
  const server = await startEmbeddedMongo({ logger, maxMessageBytes: MAX_MESSAGE_BYTES })
  t.teardown(() => server.close())
  const client = await mongoose.createConnection(server.url, { serverSelectionTimeoutMS: 2000 }).asPromise()
  t.teardown(() => client.close())
  const probe = client.collection('probe')
  await probe.insertOne({ _id: 'alive' } as unknown as Document)

  const started = Date.now()
  let sent = 0
  let batches = 0
  for (; batches < BATCHES && Date.now() - started < TIME_BUDGET_MS; batches++) {
    const attacks = Array.from({ length: SOCKETS_PER_BATCH }, () => {
      const frames = Array.from({ length: 1 + int(3) }, hostileFrame)
      sent += frames.length
      return attack(server.port, frames)
    })
    await Promise.all(attacks)
    if (escaped.length > 0) break
    // The well-behaved client on its own connection is still served.
    const ping = await client.db!.admin().ping()
    const found = await probe.findOne({ _id: 'alive' } as unknown as Document)
    if (ping.ok !== 1 || found === null) {
      t.fail(`batch ${batches}: the engine stopped serving (seed ${SEED})`)
      break
    }
  }
  t.same(escaped.map(String), [], `no unhandledRejection / uncaughtException (seed ${SEED})`)
  t.ok(batches >= 5, `ran ${batches} batches, ${sent} frames in ${Date.now() - started} ms`)
  t.ok(warnings.length > 0, 'bad frames were logged')
})
