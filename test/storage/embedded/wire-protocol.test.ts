import t from 'tap'
import { BSON, Int32, Long } from 'bson'
import {
  FLAG_CHECKSUM_PRESENT,
  FLAG_EXHAUST_ALLOWED,
  FLAG_MORE_TO_COME,
  FrameDecoder,
  OP_MSG,
  OP_QUERY,
  OP_REPLY,
  ProtocolError,
  crc32c,
  encodeOpMsg,
  encodeOpMsgRequest,
  encodeOpReply,
  parseRequest,
  readHeader
} from '../../../src/storage/embedded/wire-protocol.js'

function opQuery (requestId: number, ns: string, query: object): Buffer {
  const nsBuf = Buffer.from(ns + '\0')
  const body = Buffer.from(BSON.serialize(query))
  const out = Buffer.alloc(16 + 4 + nsBuf.length + 8 + body.length)
  out.writeInt32LE(out.length, 0)
  out.writeInt32LE(requestId, 4)
  out.writeInt32LE(OP_QUERY, 12)
  nsBuf.copy(out, 20)
  out.writeInt32LE(-1, 20 + nsBuf.length + 4)
  body.copy(out, 20 + nsBuf.length + 8)
  return out
}

t.test('crc32c matches the Castagnoli check value', async t => {
  t.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
  t.equal(crc32c(Buffer.alloc(0)), 0)
})

t.test('FrameDecoder reassembles split frames and splits pipelined ones', async t => {
  const a = encodeOpMsgRequest(1, { ping: 1, $db: 'admin' })
  const b = encodeOpMsgRequest(2, { hello: 1, $db: 'admin' })
  const decoder = new FrameDecoder(1024)
  const stream = Buffer.concat([a, b])
  // byte by byte: every frame comes out exactly once, whole
  const frames: Buffer[] = []
  for (let i = 0; i < stream.length; i++) frames.push(...decoder.push(stream.subarray(i, i + 1)))
  t.equal(frames.length, 2)
  t.same(frames[0], a)
  t.same(frames[1], b)
  // both in one chunk, plus the head of a third
  const both = decoder.push(Buffer.concat([a, b, a.subarray(0, 7)]))
  t.equal(both.length, 2)
  t.same(decoder.push(a.subarray(7)), [a])
  t.equal(decoder.error, undefined)
})

t.test('FrameDecoder flags impossible lengths but still returns the frames before them', async t => {
  const good = encodeOpMsgRequest(1, { ping: 1, $db: 'admin' })
  const huge = Buffer.alloc(16)
  huge.writeUInt32LE(2 ** 31, 0)
  const decoder = new FrameDecoder(48_000_000)
  t.same(decoder.push(Buffer.concat([good, huge])), [good])
  t.type(decoder.error, ProtocolError)
  t.same(decoder.push(good), [], 'a failed stream yields nothing more')

  const tiny = new FrameDecoder(1000)
  const short = Buffer.alloc(8)
  short.writeInt32LE(15, 0)
  t.same(tiny.push(short), [])
  t.match(tiny.error?.message, /invalid message length 15/)

  const capped = new FrameDecoder(100)
  capped.push(encodeOpMsgRequest(1, { big: 'x'.repeat(200), $db: 'a' }))
  t.match(capped.error?.message, /invalid message length/)
})

t.test('OP_MSG: body, kind-1 sequences merged, exact BSON types kept', async t => {
  const frame = encodeOpMsgRequest(7, { insert: 'c', ordered: true, $db: 'test' }, {
    sequences: { documents: [{ _id: 1, n: new Long(5) }, { _id: 2, d: 1.5 }] }
  })
  const req = parseRequest(frame)
  t.equal(req.kind, 'msg')
  if (req.kind !== 'msg') return
  t.equal(req.header.requestId, 7)
  t.equal(req.moreToCome, false)
  t.equal(req.command.insert, 'c')
  t.equal(req.command.documents.length, 2)
  t.type(req.command.documents[0]._id, Int32, 'ints stay Int32')
  t.type(req.command.documents[0].n, Long, 'longs stay Long')
  t.equal(req.command.documents[1].d._bsontype, 'Double')
})

t.test('OP_MSG flags: moreToCome, exhaustAllowed ignored, checksum verified', async t => {
  const quiet = parseRequest(encodeOpMsgRequest(1, { ping: 1, $db: 'a' }, { flags: FLAG_MORE_TO_COME | FLAG_EXHAUST_ALLOWED }))
  t.equal(quiet.kind === 'msg' && quiet.moreToCome, true)

  const summed = encodeOpMsgRequest(2, { ping: 1, $db: 'a' }, { flags: FLAG_CHECKSUM_PRESENT })
  const ok = parseRequest(summed)
  t.equal(ok.kind === 'msg' && ok.command.ping.valueOf(), 1, 'checksum accepted and stripped')
  const corrupt = Buffer.from(summed)
  corrupt[corrupt.length - 1] ^= 0xff
  t.throws(() => parseRequest(corrupt), /checksum mismatch/)

  const unknownRequired = encodeOpMsgRequest(3, { ping: 1, $db: 'a' }, { flags: 1 << 4 })
  t.throws(() => parseRequest(unknownRequired), /unknown required OP_MSG flag/)
})

t.test('malformed OP_MSG and foreign opcodes are rejected', async t => {
  const frame = encodeOpMsgRequest(1, { ping: 1, $db: 'a' })
  const badKind = Buffer.from(frame)
  badKind[20] = 9
  t.throws(() => parseRequest(badKind), /unknown OP_MSG section kind 9/)

  const badBson = Buffer.from(frame)
  badBson.writeInt32LE(9999, 21)
  t.throws(() => parseRequest(badBson), /invalid BSON document size/)

  const garbledBson = Buffer.from(frame)
  garbledBson[25] = 0x7e // element type byte: not a BSON type
  t.throws(() => parseRequest(garbledBson))

  const twoBodies = Buffer.concat([frame, frame.subarray(20)])
  twoBodies.writeInt32LE(twoBodies.length, 0)
  t.throws(() => parseRequest(twoBodies), /more than one body/)

  const dup = encodeOpMsgRequest(1, { insert: 'c', documents: [], $db: 'a' }, { sequences: { documents: [{ a: 1 }] } })
  t.throws(() => parseRequest(dup), /duplicates a body field/)

  const other = Buffer.from(frame)
  other.writeInt32LE(2012, 12)
  t.throws(() => parseRequest(other), /OP_COMPRESSED/)
  other.writeInt32LE(4242, 12)
  t.throws(() => parseRequest(other), /unsupported opCode 4242/)
})

t.test('OP_QUERY handshake parses; replies encode with the right header', async t => {
  const req = parseRequest(opQuery(11, 'admin.$cmd', { isMaster: 1, helloOk: true }))
  t.equal(req.kind, 'query')
  if (req.kind !== 'query') return
  t.equal(req.fullCollectionName, 'admin.$cmd')
  t.equal(req.query.helloOk, true)

  const body = Buffer.from(BSON.serialize({ ok: 1 }))
  const reply = encodeOpReply(5, 11, body)
  t.same(readHeader(reply), { messageLength: reply.length, requestId: 5, responseTo: 11, opCode: OP_REPLY })
  t.equal(reply.readInt32LE(32), 1, 'numberReturned')
  t.same(BSON.deserialize(reply.subarray(36)), { ok: 1 })

  const msg = encodeOpMsg(6, 12, body)
  t.same(readHeader(msg), { messageLength: msg.length, requestId: 6, responseTo: 12, opCode: OP_MSG })
  t.equal(msg.readUInt32LE(16), 0, 'no flags')
  t.equal(msg[20], 0, 'kind 0 section')
  t.same(BSON.deserialize(msg.subarray(21)), { ok: 1 })
})
