/**
 * Reading journal and snapshot files frame by frame, stopping at the first bad byte, plus the small fs helpers
 * (directory fsync, truncation) recovery and compaction share.
 */
import { open } from 'node:fs/promises'
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
    let buf = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, Math.max(fileSize, HEADER_BYTES)))
    let bufStart = 0 // file offset of buf[0]
    let bufLen = 0

    /** Makes file bytes [offset, offset + need) available in buf; need never exceeds what the file holds. */
    const fill = async (offset: number, need: number): Promise<void> => {
      const keepFrom = offset - bufStart
      const keep = Math.max(0, bufLen - keepFrom)
      if (need > buf.length) {
        const bigger = Buffer.allocUnsafe(Math.max(need, READ_CHUNK_BYTES))
        buf.copy(bigger, 0, keepFrom, keepFrom + keep)
        buf = bigger
      } else if (keep > 0) {
        buf.copy(buf, 0, keepFrom, keepFrom + keep)
      }
      bufStart = offset
      bufLen = keep
      while (bufLen < need) {
        const { bytesRead } = await fh.read(buf, bufLen, buf.length - bufLen, bufStart + bufLen)
        if (bytesRead === 0) throw new Error(`${basename(path)} shrank while being read`)
        bufLen += bytesRead
      }
    }

    if (fileSize < HEADER_BYTES) {
      return { fileSize, goodEnd: 0, frames: 0, problem: { offset: 0, reason: `file of ${fileSize} bytes has no complete header` } }
    }
    await fill(0, HEADER_BYTES)
    const headerProblem = checkHeader(buf.subarray(0, HEADER_BYTES), kind, generation)
    if (headerProblem !== undefined) return { fileSize, goodEnd: 0, frames: 0, problem: { offset: 0, reason: headerProblem } }

    let pos = HEADER_BYTES
    let frames = 0
    while (pos < fileSize) {
      const headerNeed = Math.min(FRAME_HEADER_BYTES, fileSize - pos)
      if (pos + headerNeed > bufStart + bufLen) await fill(pos, headerNeed)
      const check = checkFrameHeader(buf, pos - bufStart, pos, fileSize)
      if (!check.ok) return { fileSize, goodEnd: pos, frames, problem: { offset: pos, reason: check.reason } }
      const frameEnd = pos + FRAME_HEADER_BYTES + check.length
      if (frameEnd > bufStart + bufLen) await fill(pos, FRAME_HEADER_BYTES + check.length)
      const p = pos - bufStart
      const decoded = decodePayload(buf.subarray(p + FRAME_HEADER_BYTES, p + FRAME_HEADER_BYTES + check.length), buf.readUInt32LE(p + 4))
      if ('reason' in decoded) return { fileSize, goodEnd: pos, frames, problem: { offset: pos, reason: decoded.reason } }
      try {
        onRecord(decoded.record, pos)
      } catch (err) {
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
