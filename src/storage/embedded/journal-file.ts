/**
 * Reading journal and snapshot files frame by frame, stopping at the first bad byte, plus the small fs helpers
 * (directory fsync, truncation) recovery and compaction share.
 */
import { open, type FileHandle } from 'node:fs/promises'
import { basename } from 'node:path'
import type { Document } from 'bson'
import {
  FRAME_HEADER_BYTES, HEADER_BYTES, checkFrameHeader, checkHeader, decodePayload, type FileKind
} from './journal-format.js'

const READ_CHUNK_BYTES = 8 * 1024 * 1024

export interface ReadResult {
  fileSize: number
  /** Offset just past the last good frame (or the header): everything before it is intact. */
  goodEnd: number
  /** Good frames read (and handed to onRecord). */
  frames: number
  /** The first bad spot, at `goodEnd`; absent when the file is intact to its end. */
  problem?: { offset: number; reason: string }
}

/** Thrown when a file cannot be trusted and recovery must not guess; names the file and byte offset. */
export class JournalCorruptionError extends Error {
  constructor (readonly file: string, readonly offset: number, readonly reason: string, hint = '') {
    super(`${file} is corrupt at byte offset ${offset}: ${reason}${hint === '' ? '' : '. ' + hint}`)
    this.name = 'JournalCorruptionError'
  }
}

/**
 * Reads every good frame of `path` in order, handing each decoded record to `onRecord`. Stops at the first
 * bad header, partial frame, impossible length or CRC mismatch and reports it; never throws for bad data
 * (the caller decides whether a bad spot is a torn tail or corruption). Errors thrown by `onRecord`
 * propagate, wrapped with the file and offset.
 */
export async function readFrames (
  path: string,
  kind: FileKind,
  generation: number,
  onRecord: (record: Document, offset: number) => void
): Promise<ReadResult> {
  const fh = await open(path, 'r')
  try {
    const fileSize = (await fh.stat()).size
    if (fileSize < HEADER_BYTES) {
      return { fileSize, goodEnd: 0, frames: 0, problem: { offset: 0, reason: `file of ${fileSize} bytes has no complete header` } }
    }
    const chunks = new ChunkReader(fh, fileSize)
    let buf = await chunks.fill(Buffer.alloc(0), 0, HEADER_BYTES)
    let bufStart = 0 // file offset of buf[0]
    const headerProblem = checkHeader(buf.subarray(0, HEADER_BYTES), kind, generation)
    if (headerProblem !== undefined) return { fileSize, goodEnd: 0, frames: 0, problem: { offset: 0, reason: headerProblem } }

    let pos = HEADER_BYTES
    let frames = 0
    while (pos < fileSize) {
      const headerNeed = Math.min(FRAME_HEADER_BYTES, fileSize - pos)
      if (pos + headerNeed > bufStart + buf.length) {
        buf = await chunks.fill(buf.subarray(pos - bufStart), pos, headerNeed)
        bufStart = pos
      }
      const check = checkFrameHeader(buf, pos - bufStart, pos, fileSize)
      if (!check.ok) return { fileSize, goodEnd: pos, frames, problem: { offset: pos, reason: check.reason } }
      const frameEnd = pos + FRAME_HEADER_BYTES + check.length
      if (frameEnd > bufStart + buf.length) {
        buf = await chunks.fill(buf.subarray(pos - bufStart), pos, FRAME_HEADER_BYTES + check.length)
        bufStart = pos
      }
      const p = pos - bufStart
      const decoded = decodePayload(buf, p + FRAME_HEADER_BYTES, check.length, buf.readUInt32LE(p + 4))
      if ('reason' in decoded) return { fileSize, goodEnd: pos, frames, problem: { offset: pos, reason: decoded.reason } }
      try {
        onRecord(decoded.record, pos)
      } catch (err) {
        if (err instanceof JournalCorruptionError) throw err
        throw new Error(`${basename(path)} at byte offset ${pos}: ${(err as Error).message}`, { cause: err })
      }
      frames++
      pos = frameEnd
    }
    return { fileSize, goodEnd: pos, frames }
  } finally {
    await fh.close()
  }
}

/**
 * Sequential reader that always has the next chunk's read in flight, so disk reads overlap with decoding.
 * Each chunk is a fresh buffer: decoded documents never see a buffer being overwritten.
 */
class ChunkReader {
  private nextOffset = 0
  private pending: Promise<Buffer> | undefined

  constructor (private readonly fh: FileHandle, private readonly fileSize: number) {}

  /**
   * Returns a buffer starting with `rest` (the unread bytes of the previous chunk, which start at file
   * offset `offset`), followed by the file's next bytes: at least `need` bytes in all.
   */
  async fill (rest: Buffer, offset: number, need: number): Promise<Buffer> {
    const parts = [rest]
    let have = rest.length
    if (offset + have !== this.nextOffset) throw new Error('ChunkReader: non-sequential read')
    while (have < need) {
      const chunk = await (this.pending ?? this.readAt(this.nextOffset, Math.max(READ_CHUNK_BYTES, need - have)))
      this.pending = undefined
      if (chunk.length === 0) throw new Error('file shrank while being read')
      this.nextOffset += chunk.length
      parts.push(chunk)
      have += chunk.length
    }
    if (this.nextOffset < this.fileSize) {
      this.pending = this.readAt(this.nextOffset, READ_CHUNK_BYTES)
      this.pending.catch(() => {}) // surfaces when awaited; the reader may stop before that
    }
    return parts.length === 1 ? rest : Buffer.concat(parts, have)
  }

  private async readAt (offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(Math.min(length, this.fileSize - offset))
    let done = 0
    while (done < buf.length) {
      const { bytesRead } = await this.fh.read(buf, done, buf.length - done, offset + done)
      if (bytesRead === 0) break
      done += bytesRead
    }
    return done === buf.length ? buf : buf.subarray(0, done)
  }
}

/** fsync a directory so that creations, renames and deletions in it are durable. */
export async function fsyncDir (dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Cuts `path` to `length` bytes and makes that durable. */
export async function truncateDurably (path: string, length: number): Promise<void> {
  const fh = await open(path, 'r+')
  try {
    await fh.truncate(length)
    await fh.sync()
  } finally {
    await fh.close()
  }
}
