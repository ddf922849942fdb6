/**
 * Appends frames to the live journal segment with group commit: appends queue up while one durable write is in
 * flight (and within the same tick), then go out together in the next one. Segments are opened with O_DSYNC, so
 * a write returns once its data is on disk (as write + fdatasync would, in one system call).
 *
 * Fail-stop: after a failed write or fsync the segment's state on disk is unknown (a partial write, or
 * dirty pages the kernel dropped), so every later append is rejected too. Writing on after a hole would
 * leave acked data behind garbage that recovery cuts as a torn tail. A restart recovers the durable state.
 */
import { constants } from 'node:fs'
import { open, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { HEADER_BYTES, encodeFrames, encodeHeader, journalName } from './journal-format.js'
import { fsyncDir } from './journal-file.js'
import type { EngineLogger, JournalRecord } from './store.types.js'

/** Counters for logs, tests and benchmarks. */
export interface JournalStats {
  /** append() calls that were made durable. */
  appends: number
  /** Records in them. */
  records: number
  /** durable write rounds; appends / writes is the group-commit factor. */
  writes: number
  bytesWritten: number
  /** Generation of the live segment. */
  generation: number
  /** Size of the live segment in bytes. */
  segmentBytes: number
  compactions: number
}

interface DataItem { kind: 'data'; bytes: Buffer; records: number; resolve: () => void; reject: (err: Error) => void }
interface RotateItem { kind: 'rotate'; generation: number; resolve: () => void; reject: (err: Error) => void }
type Item = DataItem | RotateItem

/** Upper bound for one group-commit write (a single larger append still goes out alone). */
const MAX_BATCH_BYTES = 16 * 1024 * 1024

/** Opens an existing segment for the writer: O_DSYNC, so every write the writer makes is durable when it returns. */
export async function openSegmentForAppend (path: string): Promise<FileHandle> {
  return await open(path, constants.O_RDWR | constants.O_DSYNC)
}

export class JournalWriter {
  readonly stats: JournalStats
  private readonly queue: Item[] = []
  private running = false
  private failure: Error | undefined
  private closed = false
  private idle: Array<() => void> = []

  /**
   * @param fh the live segment, opened with openSegmentForAppend (O_DSYNC: the writer issues no fdatasync of its
   *   own); `size` is its length (frames are written from there on).
   * @param onWritten called after each durable batch, synchronously, so a compaction decided there sees
   *   exactly the state of the appends made so far.
   */
  constructor (
    private readonly dataDir: string,
    private readonly logger: EngineLogger,
    private fh: FileHandle,
    generation: number,
    size: number,
    private readonly onWritten: () => void = () => {}
  ) {
    this.stats = { appends: 0, records: 0, writes: 0, bytesWritten: 0, generation, segmentBytes: size, compactions: 0 }
  }

  get generation (): number { return this.stats.generation }
  get failed (): Error | undefined { return this.failure }

  /** Resolves once `records` are written durably. */
  append (records: JournalRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('journal is closed'))
    if (this.failure !== undefined) return Promise.reject(this.failedError())
    let bytes: Buffer
    try {
      bytes = encodeFrames(records) // now: the caller's state is what must be recorded
    } catch (err) {
      return Promise.reject(new Error(`cannot journal record: ${(err as Error).message}`, { cause: err }))
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'data', bytes, records: records.length, resolve, reject })
      this.kick()
    })
  }

  /**
   * Starts segment `generation` after every append queued so far (those still go to the current segment).
   * Resolves once the new segment exists durably and receives all later appends.
   */
  rotate (generation: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failedError())
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'rotate', generation, resolve, reject })
      this.kick()
    })
  }

  /** Waits for queued work, then closes the segment. Later appends are rejected. */
  async close (): Promise<void> {
    this.closed = true
    if (this.running) await new Promise<void>((resolve) => this.idle.push(resolve))
    await this.fh.close()
  }

  private kick (): void {
    if (this.running) return // the running loop picks the item up after the current fsync
    this.running = true
    // setImmediate, not a microtask: appends from other sockets handled in this I/O phase join the batch
    setImmediate(() => { void this.run() })
  }

  private async run (): Promise<void> {
    try {
      while (this.queue.length > 0) {
        if (this.failure !== undefined) {
          for (const item of this.queue.splice(0)) item.reject(this.failedError())
          break
        }
        const head = this.queue[0]
        if (head.kind === 'rotate') {
          this.queue.shift()
          await this.doRotate(head)
          continue
        }
        // Everything queued up to the next rotation (or the batch size cap) goes out in one write
        let end = 1
        let bytes = head.bytes.length
        for (; end < this.queue.length; end++) {
          const item = this.queue[end]
          if (item.kind !== 'data' || bytes + item.bytes.length > MAX_BATCH_BYTES) break
          bytes += item.bytes.length
        }
        await this.writeBatch(this.queue.splice(0, end) as DataItem[], bytes)
      }
    } catch (err) {
      // Not expected (write errors are handled in writeBatch); never leave appends hanging
      this.failure ??= err as Error
      this.logger.error({ err }, 'journal writer failed')
      for (const item of this.queue.splice(0)) item.reject(this.failedError())
    } finally {
      this.running = false
      for (const resolve of this.idle.splice(0)) resolve()
    }
  }

  private async writeBatch (batch: DataItem[], bytes: number): Promise<void> {
    const buf = batch.length === 1 ? batch[0].bytes : Buffer.concat(batch.map((item) => item.bytes), bytes)
    try {
      let done = 0
      while (done < buf.length) {
        // The segment is open with O_DSYNC: a write returns once durable (no separate fdatasync round trip).
        const { bytesWritten } = await this.fh.write(buf, done, buf.length - done, this.stats.segmentBytes + done)
        done += bytesWritten
      }
    } catch (err) {
      this.failure = err as Error
      this.logger.error({ err, file: journalName(this.stats.generation), appends: batch.length },
        'journal write failed; rejecting this and all later writes until restart')
      const failed = new Error(`journal write failed: ${(err as Error).message}`, { cause: err })
      for (const item of batch) item.reject(failed)
      return
    }
    this.stats.segmentBytes += buf.length
    this.stats.writes++
    this.stats.bytesWritten += buf.length
    for (const item of batch) {
      this.stats.appends++
      this.stats.records += item.records
      item.resolve()
    }
    this.onWritten()
  }

  private async doRotate (item: RotateItem): Promise<void> {
    const name = journalName(item.generation)
    const path = join(this.dataDir, name)
    let next: FileHandle | undefined
    try {
      // never reuse an existing file (its content is not ours to overwrite); O_DSYNC as for the first segment
      next = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DSYNC)
      const header = encodeHeader('journal', item.generation)
      await next.write(header, 0, header.length, 0)
      await fsyncDir(this.dataDir)
    } catch (err) {
      // Keep appending to the current segment; only the compaction that asked for this is abandoned.
      this.logger.error({ err, file: name }, 'could not start a new journal segment')
      if (next !== undefined) {
        await next.close().catch(() => {})
        try {
          await unlink(path)
        } catch (unlinkErr) {
          // A stray newer segment would make the current one look sealed at recovery: stop writing.
          this.failure = new Error(`could not remove partial segment ${name}`, { cause: unlinkErr })
        }
      }
      item.reject(err as Error)
      return
    }
    const old = this.fh
    this.fh = next
    this.stats.generation = item.generation
    this.stats.segmentBytes = HEADER_BYTES
    // Every batch written to the old segment is already durable (O_DSYNC)
    await old.close().catch((err: unknown) => this.logger.warn({ err }, 'closing old journal segment failed'))
    item.resolve()
  }

  private failedError (): Error {
    return new Error(`journal unavailable after an earlier write failure: ${this.failure?.message ?? ''}`,
      { cause: this.failure })
  }
}
