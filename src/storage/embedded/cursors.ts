/**
 * Server-side cursors for find, aggregate, listCollections and listIndexes.
 *
 * The store materialises results, so a cursor is the remaining array plus a position. Cursors belong to
 * the server, not to a connection (as in MongoDB): the driver may send getMore over any pooled connection.
 * A cursor dies when exhausted, killed, idle longer than `cursorTimeoutMs`, or when the server closes.
 */
import { randomBytes } from 'node:crypto'
import { calculateObjectSize, Long, type Document } from 'bson'

/** MongoDB's reply budget: a batch stops before the reply carrying it would pass 16 MiB. */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024
/** Room for the reply envelope around a batch: `{ cursor: { nextBatch, id, ns }, ok }` plus the ns itself. */
const ENVELOPE_BYTES = 128
/** find/aggregate default first batch, as in MongoDB. */
export const DEFAULT_FIRST_BATCH = 101

interface Cursor {
  id: Long
  key: string
  ns: string
  docs: Document[]
  pos: number
  timer: NodeJS.Timeout
}

export interface CursorRegistryOptions {
  /** Idle cursors are closed after this. Default 600_000 (10 min). */
  cursorTimeoutMs?: number
}

export interface Batch {
  /** 0 when the cursor is exhausted (or was never registered). */
  id: Long
  ns: string
  batch: Document[]
}

export class CursorRegistry {
  private readonly cursors = new Map<string, Cursor>()
  private readonly timeoutMs: number

  constructor (options: CursorRegistryOptions = {}) {
    this.timeoutMs = options.cursorTimeoutMs ?? 600_000
  }

  get size (): number { return this.cursors.size }

  /**
   * Takes the first batch from `docs`; registers a cursor for the rest unless there is none or
   * `singleBatch` is set. `batchSize` undefined means the default of 101.
   */
  open (ns: string, docs: Document[], batchSize: number | undefined, singleBatch = false): Batch {
    const batch = takeBatch(docs, 0, batchSize ?? DEFAULT_FIRST_BATCH, ns)
    if (singleBatch || batch.length === docs.length) return { id: Long.ZERO, ns, batch }
    const id = this.newId()
    const key = id.toString()
    const timer = setTimeout(() => this.cursors.delete(key), this.timeoutMs)
    timer.unref()
    this.cursors.set(key, { id, key, ns, docs, pos: batch.length, timer })
    return { id, ns, batch }
  }

  /** Next batch, or undefined when no such cursor. `batchSize` undefined or 0: as many as fit. */
  next (id: Long, batchSize: number | undefined): Batch | undefined {
    const cursor = this.cursors.get(id.toString())
    if (cursor === undefined) return undefined
    const batch = takeBatch(cursor.docs, cursor.pos, batchSize === undefined || batchSize === 0 ? Infinity : batchSize, cursor.ns)
    cursor.pos += batch.length
    if (cursor.pos >= cursor.docs.length) {
      this.remove(cursor)
      return { id: Long.ZERO, ns: cursor.ns, batch }
    }
    cursor.timer.refresh()
    return { id: cursor.id, ns: cursor.ns, batch }
  }

  namespaceOf (id: Long): string | undefined {
    return this.cursors.get(id.toString())?.ns
  }

  /** true when the cursor existed. */
  kill (id: Long): boolean {
    const cursor = this.cursors.get(id.toString())
    if (cursor === undefined) return false
    this.remove(cursor)
    return true
  }

  closeAll (): void {
    for (const cursor of this.cursors.values()) clearTimeout(cursor.timer)
    this.cursors.clear()
  }

  private remove (cursor: Cursor): void {
    clearTimeout(cursor.timer)
    this.cursors.delete(cursor.key)
  }

  /** Random positive 63-bit id, like MongoDB's (not guessable, never 0, never reused while live). */
  private newId (): Long {
    for (;;) {
      const raw = randomBytes(8)
      raw[7] &= 0x7f
      const id = Long.fromBytesLE([...raw])
      if (!id.isZero() && !this.cursors.has(id.toString())) return id
    }
  }
}

/**
 * Up to `limit` documents from `start`, stopping before the reply would exceed MAX_BATCH_BYTES
 * (but always at least one, so a single maximum-size document still goes out).
 */
function takeBatch (docs: Document[], start: number, limit: number, ns: string): Document[] {
  const end = Math.min(docs.length, start + limit)
  let bytes = ENVELOPE_BYTES + Buffer.byteLength(ns)
  let i = start
  for (; i < end; i++) {
    // Array element overhead: type byte, decimal index key, NUL.
    bytes += calculateObjectSize(docs[i]) + 2 + String(i - start).length
    if (bytes > MAX_BATCH_BYTES && i > start) break
  }
  return docs.slice(start, i)
}
