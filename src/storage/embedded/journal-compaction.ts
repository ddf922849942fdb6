/**
 * Compaction keeps the journal bounded. Order of steps, and why each crash point is safe:
 *
 *   1. writer.rotate(G+1) and store.snapshot(), in the same tick: appends queued before go to journal-G
 *      (and are in the snapshot, as the store applies a change before appending it); later ones go to
 *      journal-(G+1) and are not in the snapshot.
 *   2. Write snapshot-(G+1).bson.tmp in chunks, fsync.        crash: tmp ignored, old files replay all
 *   3. Wait until journal-(G+1) exists durably.               (same)
 *   4. Rename tmp to snapshot-(G+1).bson, fsync the dir.      crash after: snapshot + journal-(G+1) replay
 *   5. Delete older snapshots and segments, fsync the dir.    crash midway: leftovers deleted at next open
 */
import { open, readdir, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Document } from 'bson'
import {
  FRAME_HEADER_BYTES, encodeHeader, parseName, serializeRecord, snapshotName, writeFrame, type SnapshotEnd
} from './journal-format.js'
import { fsyncDir } from './journal-file.js'
import type { JournalWriter } from './journal-writer.js'
import type { EmbeddedStore, EngineLogger, JournalRecord } from './store.types.js'

/** After a failed compaction, automatic ones wait this long (each attempt may start a segment). */
const RETRY_AFTER_MS = 60_000
/** Snapshot bytes serialised between two writes; each write yields to the event loop. */
const SNAPSHOT_CHUNK_BYTES = 256 * 1024
/**
 * fdatasync the snapshot every this many bytes: keeps its dirty pages few, so the journal's own fsyncs
 * (which on ext4 can end up flushing other files' dirty data too) do not stall behind a huge flush.
 */
const SNAPSHOT_SYNC_EVERY_BYTES = 16 * 1024 * 1024

export class Compactor {
  private running: Promise<void> | undefined
  private stopped = false
  private retryAt = 0

  constructor (
    private readonly dataDir: string,
    private readonly logger: EngineLogger,
    private readonly writer: JournalWriter,
    private readonly store: EmbeddedStore,
    private readonly compactAfterBytes: number,
    /** Size of the newest snapshot; the live segment must outgrow it too before compacting again. */
    private snapshotBytes: number
  ) {}

  /** Starts a compaction if the live segment has outgrown both thresholds and none is running. */
  maybeStart (): void {
    const size = this.writer.stats.segmentBytes
    if (size > this.compactAfterBytes && size > this.snapshotBytes && Date.now() >= this.retryAt) this.start()
  }

  /**
   * Compacts now (after any running compaction, ignoring thresholds and retry delay); resolves when done.
   * Failures are logged, not thrown.
   */
  async compactNow (): Promise<void> {
    while (this.running !== undefined) await this.running
    this.start()
    await this.running
  }

  /** Waits for a running compaction; starts no more. */
  async stop (): Promise<void> {
    this.stopped = true
    while (this.running !== undefined) await this.running
  }

  private start (): void {
    if (this.running !== undefined || this.stopped || this.writer.failed !== undefined) return
    // compact() logs its own failures; the catch only keeps a throw outside its try from going unhandled
    this.running = this.compact()
      .catch(err => { this.logger.error({ err }, 'journal compaction failed') })
      .finally(() => { this.running = undefined })
  }

  private async compact (): Promise<void> {
    const started = performance.now()
    const generation = this.writer.generation + 1
    const rotated = this.writer.rotate(generation)
    rotated.catch(() => {}) // awaited below; this only keeps an early failure from being "unhandled"
    const name = snapshotName(generation)
    const tmpPath = join(this.dataDir, `${name}.tmp`)
    try {
      const records = this.store.snapshot() // same tick as rotate: see step 1
      const { bytes, count } = await writeSnapshotFile(tmpPath, generation, records)
      await rotated
      await rename(tmpPath, join(this.dataDir, name))
      await fsyncDir(this.dataDir)
      const removed = await removeOlderThan(this.dataDir, generation)
      this.snapshotBytes = bytes
      this.writer.stats.compactions++
      this.logger.info({ snapshot: name, records: count, bytes, removed, ms: Math.round(performance.now() - started) },
        'journal compacted')
    } catch (err) {
      await unlink(tmpPath).catch(() => {})
      // The rotation may still be queued: the next compaction must see its outcome (the live generation).
      await rotated.catch(() => {})
      this.retryAt = Date.now() + RETRY_AFTER_MS
      this.logger.error({ err, snapshot: name }, 'journal compaction failed; the journal keeps growing until the next attempt')
    }
  }
}

/** Writes `records` plus an end marker as a snapshot file and fsyncs it. Yields to the event loop per chunk. */
export async function writeSnapshotFile (
  path: string,
  generation: number,
  records: Iterable<JournalRecord>
): Promise<{ bytes: number; count: number }> {
  const fh = await open(path, 'w')
  try {
    let chunk = Buffer.allocUnsafe(SNAPSHOT_CHUNK_BYTES)
    let pos = 0
    let written = 0
    let synced = 0
    const flush = async (): Promise<void> => {
      let done = 0
      while (done < pos) {
        const { bytesWritten } = await fh.write(chunk, done, pos - done, written + done)
        done += bytesWritten
      }
      written += pos
      pos = 0
      if (written - synced >= SNAPSHOT_SYNC_EVERY_BYTES) {
        await fh.datasync()
        synced = written
      }
    }
    /** Frames `record` into the chunk; false when the chunk must be flushed first. */
    const add = (record: JournalRecord | SnapshotEnd): boolean => {
      const payload = serializeRecord(record)
      const need = FRAME_HEADER_BYTES + payload.length
      if (pos + need > chunk.length) {
        if (pos > 0) return false
        chunk = Buffer.allocUnsafe(need) // a record larger than a chunk goes out alone
      }
      pos = writeFrame(chunk, pos, payload)
      return true
    }

    pos = encodeHeader('snapshot', generation).copy(chunk, 0)
    let count = 0
    for (const record of records) {
      if (!add(record)) { await flush(); add(record) }
      count++
    }
    const end: SnapshotEnd = { t: 'end', records: count }
    if (!add(end)) { await flush(); add(end) }
    await flush()
    await fh.datasync()
    return { bytes: written, count }
  } finally {
    await fh.close()
  }
}

/** Deletes snapshots and segments (with their torn-tail leftovers) of generations before `generation`. */
async function removeOlderThan (dataDir: string, generation: number): Promise<string[]> {
  const removed: string[] = []
  for (const name of await readdir(dataDir)) {
    const parsed = parseName(name.replace(/\.torn-\d+$/, ''))
    if (parsed === undefined || parsed.generation >= generation) continue
    await unlink(join(dataDir, name))
    removed.push(name)
  }
  await fsyncDir(dataDir)
  return removed
}
