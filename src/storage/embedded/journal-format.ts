/**
 * On-disk format of the embedded engine's data directory.
 *
 * Every file starts with a 16-byte header: 8-byte magic (`PRLYJRNL` for journal segments, `PRLYSNAP` for
 * snapshots), u32 LE format version, u32 LE generation. Then frames, each
 * `[u32 LE payload length][u32 LE CRC32 of payload][payload]`, the payload being one BSON-serialised record.
 *
 * Files, by generation number G:
 *   journal-G.log        records appended after snapshot-G was taken (or from the start, for G = 1)
 *   snapshot-G.bson      the whole state before journal-G, ending with an `{ t: 'end', records: n }` frame
 *   snapshot-G.bson.tmp  a snapshot being written; never trusted, deleted at open
 */
import zlib from 'node:zlib'
import { deserialize, type Document } from 'bson'
import { serializeExact } from './bson-serialize.js'
import type { JournalRecord } from './store.types.js'

export const HEADER_BYTES = 16
export const FRAME_HEADER_BYTES = 8
export const FORMAT_VERSION = 1
export const JOURNAL_MAGIC = 'PRLYJRNL'
export const SNAPSHOT_MAGIC = 'PRLYSNAP'
/** Larger than any legitimate record (a 16 MiB document plus its envelope); anything bigger is garbage. */
export const MAX_FRAME_BYTES = 48 * 1024 * 1024
/** Smallest BSON document: int32 length + terminating NUL. */
const MIN_FRAME_BYTES = 5

/**
 * Types stay exact: Int32, Double, Long, Binary are not turned into JS numbers or Buffers. Same options as
 * the wire server's (wire-protocol.ts), so a replayed document has the same JS types as the live one had
 * (regexes are JS RegExp in both).
 */
export const DESERIALIZE_OPTIONS = { promoteValues: false, promoteLongs: false, promoteBuffers: false } as const

/** Snapshot trailer: proves the snapshot was written to the end. */
export interface SnapshotEnd { t: 'end'; records: number }

export type FileKind = 'journal' | 'snapshot'

/** Native CRC32 where Node has it (>= 20.15 / 22.2), else a table implementation (same polynomial). */
export const crc32: (data: Uint8Array) => number =
  typeof zlib.crc32 === 'function' ? (data) => zlib.crc32(data) : tableCrc32

let table: Uint32Array | undefined
function tableCrc32 (data: Uint8Array): number {
  if (table === undefined) {
    table = new Uint32Array(256)
    for (let n = 0; n < 256; n++) {
      let c = n
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
      table[n] = c >>> 0
    }
  }
  let crc = 0xffffffff
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

export function encodeHeader (kind: FileKind, generation: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES)
  header.write(kind === 'journal' ? JOURNAL_MAGIC : SNAPSHOT_MAGIC, 0, 'latin1')
  header.writeUInt32LE(FORMAT_VERSION, 8)
  header.writeUInt32LE(generation, 12)
  return header
}

/** Returns the header's problem, or undefined when it is valid for `kind` and `generation`. */
export function checkHeader (header: Uint8Array, kind: FileKind, generation: number): string | undefined {
  if (header.length < HEADER_BYTES) return `header is ${header.length} of ${HEADER_BYTES} bytes`
  const buf = Buffer.from(header.buffer, header.byteOffset, HEADER_BYTES)
  const magic = buf.toString('latin1', 0, 8)
  const expected = kind === 'journal' ? JOURNAL_MAGIC : SNAPSHOT_MAGIC
  if (magic !== expected) return `bad magic ${JSON.stringify(magic)}, expected ${expected}`
  const version = buf.readUInt32LE(8)
  if (version !== FORMAT_VERSION) return `unsupported format version ${version} (this build reads ${FORMAT_VERSION})`
  const gen = buf.readUInt32LE(12)
  if (gen !== generation) return `header says generation ${gen}, file name says ${generation}`
  return undefined
}

/** Serialises records into one buffer of consecutive frames. Throws if a record cannot be serialised. */
export function encodeFrames (records: ReadonlyArray<JournalRecord | SnapshotEnd>): Buffer {
  const payloads: Uint8Array[] = new Array(records.length)
  let total = 0
  for (let i = 0; i < records.length; i++) {
    const payload = serializeRecord(records[i])
    payloads[i] = payload
    total += FRAME_HEADER_BYTES + payload.length
  }
  const out = Buffer.allocUnsafe(total)
  let pos = 0
  for (const payload of payloads) pos = writeFrame(out, pos, payload)
  return out
}

/** BSON of one record; throws rather than return a truncated or over-long payload. */
export function serializeRecord (record: JournalRecord | SnapshotEnd): Uint8Array {
  // The reader treats longer frames as garbage, so they must never be written
  return serializeExact(record as Document, MAX_FRAME_BYTES)
}

/** Writes one frame for `payload` at `pos` (caller ensures room); returns the position after it. */
export function writeFrame (out: Buffer, pos: number, payload: Uint8Array): number {
  out.writeUInt32LE(payload.length, pos)
  out.writeUInt32LE(crc32(payload), pos + 4)
  out.set(payload, pos + FRAME_HEADER_BYTES)
  return pos + FRAME_HEADER_BYTES + payload.length
}

export type FrameCheck =
  | { ok: true; length: number }
  | { ok: false; reason: string }

/**
 * Validates the frame header at `pos` of `buf`, whose byte `pos` is at file offset `fileOffset` of a file
 * of `fileSize` bytes. Only checks what the header alone can tell; the caller checks the CRC once the payload is read.
 */
export function checkFrameHeader (buf: Buffer, pos: number, fileOffset: number, fileSize: number): FrameCheck {
  if (fileSize - fileOffset < FRAME_HEADER_BYTES) {
    return { ok: false, reason: `partial frame header (${fileSize - fileOffset} bytes)` }
  }
  const length = buf.readUInt32LE(pos)
  if (length < MIN_FRAME_BYTES || length > MAX_FRAME_BYTES) return { ok: false, reason: `invalid frame length ${length}` }
  if (fileOffset + FRAME_HEADER_BYTES + length > fileSize) {
    return { ok: false, reason: `frame of ${length} bytes extends past end of file` }
  }
  return { ok: true, length }
}

/**
 * CRC check and BSON decode of the payload at `buf[start, start + length)`; returns the record or the reason
 * it is bad. Decodes in place (no copy), except payloads holding Binary values: bson keeps those as views
 * of the buffer decoded, which would pin the whole read chunk in memory for the document's lifetime.
 */
export function decodePayload (
  buf: Buffer, start: number, length: number, expectedCrc: number
): { record: Document } | { reason: string } {
  const payload = buf.subarray(start, start + length)
  const actual = crc32(payload)
  if (actual !== expectedCrc) return { reason: `CRC mismatch (stored ${hex(expectedCrc)}, computed ${hex(actual)})` }
  const bsonLength = buf.readInt32LE(start)
  if (bsonLength !== length) return { reason: `BSON length ${bsonLength} differs from frame length ${length}` }
  try {
    if (mayHoldBinary(buf, start, start + length)) {
      const own = new Uint8Array(length) // exact-size, unpooled: pins nothing else
      own.set(payload)
      return { record: deserialize(own, DESERIALIZE_OPTIONS) }
    }
    return { record: deserialize(payload, DESERIALIZE_OPTIONS) }
  } catch (err) {
    return { reason: `undecodable BSON: ${(err as Error).message}` }
  }
}

/** Fixed value sizes of BSON element types that cannot contain a Binary (-1: length-prefixed string). */
const SKIP = new Int8Array(256).fill(-2)
SKIP[0x01] = 8; SKIP[0x02] = -1; SKIP[0x06] = 0; SKIP[0x07] = 12; SKIP[0x08] = 1; SKIP[0x09] = 8; SKIP[0x0a] = 0
SKIP[0x0d] = -1; SKIP[0x0e] = -1; SKIP[0x10] = 4; SKIP[0x11] = 8; SKIP[0x12] = 8; SKIP[0x13] = 16; SKIP[0xff] = 0; SKIP[0x7f] = 0

/**
 * Walks the elements of the BSON document at `buf[start, end)` (nested documents and arrays inline) and
 * says whether it may contain a Binary. Conservative: anything unusual (regex, DBPointer, code with
 * scope, unknown type) answers true, which only costs a copy.
 */
export function mayHoldBinary (buf: Buffer, start: number, end: number): boolean {
  let pos = start + 4
  while (pos < end) {
    const type = buf[pos++]
    if (type === 0) continue // end of a (sub)document
    pos = buf.indexOf(0, pos) + 1 // skip the key's cstring
    if (pos === 0 || pos >= end) return true
    if (type === 0x03 || type === 0x04) { pos += 4; continue } // enter the subdocument
    const skip = SKIP[type]
    if (skip >= 0) pos += skip
    else if (skip === -1) pos += 4 + buf.readInt32LE(pos)
    else return true
  }
  return false
}

function hex (n: number): string {
  return '0x' + n.toString(16).padStart(8, '0')
}

const NAME_RE = /^(journal|snapshot)-(\d{6,})\.(log|bson)$/

export function journalName (generation: number): string {
  return `journal-${String(generation).padStart(6, '0')}.log`
}

export function snapshotName (generation: number): string {
  return `snapshot-${String(generation).padStart(6, '0')}.bson`
}

/** Parses a data-directory file name; undefined for files that are not journals or snapshots. */
export function parseName (name: string): { kind: FileKind; generation: number } | undefined {
  const m = NAME_RE.exec(name)
  if (m === null) return undefined
  const kind = m[1] as FileKind
  if ((kind === 'journal') !== (m[3] === 'log')) return undefined
  return { kind, generation: Number(m[2]) }
}
