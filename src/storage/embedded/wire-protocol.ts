/**
 * MongoDB wire protocol framing: split a TCP byte stream into messages, parse the two request kinds the
 * driver sends (OP_QUERY for the legacy handshake, OP_MSG for everything else) and build replies
 * (OP_REPLY for OP_QUERY, OP_MSG otherwise). Pure functions over Buffers: no sockets here.
 *
 * Spec: https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/
 */
import { BSON, type Document } from 'bson'

export const OP_REPLY = 1
export const OP_QUERY = 2004
export const OP_COMPRESSED = 2012
export const OP_MSG = 2013

export const HEADER_BYTES = 16
/** OP_MSG flag bits. Bits 0-15 are "required": a receiver must reject ones it does not know. */
export const FLAG_CHECKSUM_PRESENT = 1 << 0
export const FLAG_MORE_TO_COME = 1 << 1
export const FLAG_EXHAUST_ALLOWED = 1 << 16
const KNOWN_REQUIRED_FLAGS = FLAG_CHECKSUM_PRESENT | FLAG_MORE_TO_COME

/** Requests keep BSON types exact (Int32 stays Int32, Long stays Long) so stored documents round-trip unchanged. */
export const REQUEST_BSON_OPTIONS = {
  promoteValues: false,
  promoteLongs: false,
  promoteBuffers: false
} as const

/** A frame or message the connection cannot make sense of; the server closes that connection. */
export class ProtocolError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ProtocolError'
  }
}

export interface MessageHeader {
  messageLength: number
  requestId: number
  responseTo: number
  opCode: number
}

export type WireRequest =
  | {
    kind: 'query'
    header: MessageHeader
    flags: number
    /** e.g. `admin.$cmd` */
    fullCollectionName: string
    query: Document
  }
  | {
    kind: 'msg'
    header: MessageHeader
    flags: number
    /** The kind-0 body with every kind-1 sequence merged in under its identifier. */
    command: Document
    moreToCome: boolean
  }

export function readHeader (frame: Buffer): MessageHeader {
  return {
    messageLength: frame.readInt32LE(0),
    requestId: frame.readInt32LE(4),
    responseTo: frame.readInt32LE(8),
    opCode: frame.readInt32LE(12)
  }
}

/**
 * Accumulates chunks and hands out whole frames. Handles several frames per chunk and frames split
 * across chunks. An impossible length sets `error` (frames before it are still returned, so requests the
 * client pipelined ahead of the garbage get served in order); from then on the stream is dead.
 */
export class FrameDecoder {
  private chunks: Buffer[] = []
  private buffered = 0
  error: ProtocolError | undefined

  constructor (private readonly maxMessageBytes: number) {}

  /** Adds a chunk and returns every frame now complete (possibly none). */
  push (chunk: Buffer): Buffer[] {
    if (this.error !== undefined) return []
    this.chunks.push(chunk)
    this.buffered += chunk.length
    const frames: Buffer[] = []
    while (this.buffered >= 4) {
      const length = this.peekLength()
      if (length < HEADER_BYTES || length > this.maxMessageBytes) {
        this.error = new ProtocolError(`invalid message length ${length} (allowed ${HEADER_BYTES}..${this.maxMessageBytes})`)
        this.chunks = []
        this.buffered = 0
        break
      }
      if (this.buffered < length) break
      frames.push(this.take(length))
    }
    return frames
  }

  private peekLength (): number {
    const first = this.chunks[0]
    if (first.length >= 4) return first.readInt32LE(0)
    return this.flatten().readInt32LE(0)
  }

  private flatten (): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)]
    return this.chunks[0]
  }

  private take (length: number): Buffer {
    let first = this.chunks[0]
    if (first.length < length) first = this.flatten()
    const frame = first.subarray(0, length)
    if (first.length === length) this.chunks.shift()
    else this.chunks[0] = first.subarray(length)
    this.buffered -= length
    return frame
  }
}

/** Parses one complete frame. Throws ProtocolError (or a BSON error) for anything malformed. */
export function parseRequest (frame: Buffer): WireRequest {
  const header = readHeader(frame)
  if (header.messageLength !== frame.length) throw new ProtocolError('frame length mismatch')
  switch (header.opCode) {
    case OP_MSG: return parseOpMsg(frame, header)
    case OP_QUERY: return parseOpQuery(frame, header)
    case OP_COMPRESSED: throw new ProtocolError('OP_COMPRESSED received but compression was never negotiated')
    default: throw new ProtocolError(`unsupported opCode ${header.opCode}`)
  }
}

function parseOpMsg (frame: Buffer, header: MessageHeader): WireRequest {
  if (frame.length < HEADER_BYTES + 5) throw new ProtocolError('OP_MSG too short')
  const flags = frame.readUInt32LE(HEADER_BYTES)
  const unknownRequired = flags & 0xffff & ~KNOWN_REQUIRED_FLAGS
  if (unknownRequired !== 0) throw new ProtocolError(`unknown required OP_MSG flag bits 0x${unknownRequired.toString(16)}`)
  let end = frame.length
  if ((flags & FLAG_CHECKSUM_PRESENT) !== 0) {
    end -= 4
    if (end < HEADER_BYTES + 5) throw new ProtocolError('OP_MSG too short for its checksum')
    const expected = frame.readUInt32LE(end)
    if (crc32c(frame.subarray(0, end)) !== expected) throw new ProtocolError('OP_MSG checksum mismatch')
  }
  let body: Document | undefined
  const sequences: Array<[string, Document[]]> = []
  let pos = HEADER_BYTES + 4
  while (pos < end) {
    const kind = frame[pos++]
    if (kind === 0) {
      if (body !== undefined) throw new ProtocolError('OP_MSG has more than one body section')
      const size = bsonSizeAt(frame, pos, end)
      body = BSON.deserialize(frame.subarray(pos, pos + size), REQUEST_BSON_OPTIONS)
      pos += size
    } else if (kind === 1) {
      if (pos + 4 > end) throw new ProtocolError('truncated document sequence')
      const size = frame.readInt32LE(pos)
      const seqEnd = pos + size
      if (size < 5 || seqEnd > end) throw new ProtocolError('invalid document sequence size')
      const nul = frame.indexOf(0, pos + 4)
      if (nul < 0 || nul >= seqEnd) throw new ProtocolError('unterminated document sequence identifier')
      const identifier = frame.toString('utf8', pos + 4, nul)
      const docs: Document[] = []
      let p = nul + 1
      while (p < seqEnd) {
        const docSize = bsonSizeAt(frame, p, seqEnd)
        docs.push(BSON.deserialize(frame.subarray(p, p + docSize), REQUEST_BSON_OPTIONS))
        p += docSize
      }
      sequences.push([identifier, docs])
      pos = seqEnd
    } else {
      throw new ProtocolError(`unknown OP_MSG section kind ${kind}`)
    }
  }
  if (body === undefined) throw new ProtocolError('OP_MSG has no body section')
  for (const [identifier, docs] of sequences) {
    if (identifier === '' || Object.hasOwn(body, identifier)) {
      throw new ProtocolError(`OP_MSG document sequence '${identifier}' duplicates a body field`)
    }
    body[identifier] = docs
  }
  return { kind: 'msg', header, flags, command: body, moreToCome: (flags & FLAG_MORE_TO_COME) !== 0 }
}

function parseOpQuery (frame: Buffer, header: MessageHeader): WireRequest {
  let pos = HEADER_BYTES
  if (frame.length < pos + 4 + 1 + 8 + 5) throw new ProtocolError('OP_QUERY too short')
  const flags = frame.readInt32LE(pos)
  pos += 4
  const nul = frame.indexOf(0, pos)
  if (nul < 0) throw new ProtocolError('unterminated OP_QUERY collection name')
  const fullCollectionName = frame.toString('utf8', pos, nul)
  pos = nul + 1 + 8 // numberToSkip, numberToReturn: meaningless for commands
  const size = bsonSizeAt(frame, pos, frame.length)
  const query = BSON.deserialize(frame.subarray(pos, pos + size), REQUEST_BSON_OPTIONS)
  // An optional returnFieldsSelector may follow; commands ignore it, but it must still be well-formed.
  pos += size
  if (pos < frame.length) {
    const selectorSize = bsonSizeAt(frame, pos, frame.length)
    if (pos + selectorSize !== frame.length) throw new ProtocolError('trailing bytes after OP_QUERY')
  }
  return { kind: 'query', header, flags, fullCollectionName, query }
}

/** Size of the BSON document starting at `pos`, checked to fit before `end`. */
function bsonSizeAt (buf: Buffer, pos: number, end: number): number {
  if (pos + 4 > end) throw new ProtocolError('truncated BSON document')
  const size = buf.readInt32LE(pos)
  if (size < 5 || pos + size > end) throw new ProtocolError(`invalid BSON document size ${size}`)
  return size
}

/** OP_MSG reply: flags 0 and a single kind-0 section. */
export function encodeOpMsg (requestId: number, responseTo: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + 4 + 1 + body.length)
  writeHeader(out, requestId, responseTo, OP_MSG)
  out.writeUInt32LE(0, HEADER_BYTES)
  out[HEADER_BYTES + 4] = 0
  body.copy(out, HEADER_BYTES + 5)
  return out
}

/** OP_REPLY carrying one document, the legacy handshake's answer. */
export function encodeOpReply (requestId: number, responseTo: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + 20 + body.length)
  writeHeader(out, requestId, responseTo, OP_REPLY)
  out.writeInt32LE(0, HEADER_BYTES) // responseFlags
  out.writeBigInt64LE(0n, HEADER_BYTES + 4) // cursorID
  out.writeInt32LE(0, HEADER_BYTES + 12) // startingFrom
  out.writeInt32LE(1, HEADER_BYTES + 16) // numberReturned
  body.copy(out, HEADER_BYTES + 20)
  return out
}

/** Builds an OP_MSG request; used by tests and tools that talk raw wire protocol. */
export function encodeOpMsgRequest (
  requestId: number,
  body: Document,
  options: { flags?: number; sequences?: Record<string, Document[]> } = {}
): Buffer {
  const parts: Buffer[] = [Buffer.from([0]), Buffer.from(BSON.serialize(body))]
  for (const [identifier, docs] of Object.entries(options.sequences ?? {})) {
    const ident = Buffer.from(identifier + '\0', 'utf8')
    const docBufs = docs.map(d => Buffer.from(BSON.serialize(d)))
    const size = Buffer.allocUnsafe(4)
    size.writeInt32LE(4 + ident.length + docBufs.reduce((n, b) => n + b.length, 0))
    parts.push(Buffer.from([1]), size, ident, ...docBufs)
  }
  const flags = options.flags ?? 0
  const checksum = (flags & FLAG_CHECKSUM_PRESENT) !== 0
  const payload = Buffer.concat(parts)
  const out = Buffer.alloc(HEADER_BYTES + 4 + payload.length + (checksum ? 4 : 0))
  writeHeader(out, requestId, 0, OP_MSG)
  out.writeUInt32LE(flags >>> 0, HEADER_BYTES)
  payload.copy(out, HEADER_BYTES + 4)
  if (checksum) out.writeUInt32LE(crc32c(out.subarray(0, out.length - 4)), out.length - 4)
  return out
}

function writeHeader (out: Buffer, requestId: number, responseTo: number, opCode: number): void {
  out.writeInt32LE(out.length, 0)
  out.writeInt32LE(requestId, 4)
  out.writeInt32LE(responseTo, 8)
  out.writeInt32LE(opCode, 12)
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    table[i] = c >>> 0
  }
  return table
})()

/** CRC-32C (Castagnoli), the OP_MSG checksum. zlib.crc32 is plain CRC-32, so it does not fit. */
export function crc32c (buf: Uint8Array): number {
  let crc = 0xffffffff
  for (let i = 0; i < buf.length; i++) crc = CRC32C_TABLE[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
