/**
 * TTL indexes, as MongoDB runs them: a single-field index with `expireAfterSeconds` makes documents whose
 * indexed value is a Date (or an array holding one) older than now - expireAfterSeconds eligible for
 * deletion; missing or non-date values never expire, and compound indexes ignore the option. A pass walks
 * only the index range [oldest date, cutoff), so it costs O(log n + expired), never a collection scan,
 * and deletes in batches, each committed (journaled) before the next, yielding to the event loop between.
 */
import { Bound, R_DATE } from './bson-order.js'
import type { Collection } from './collection.js'
import type { IndexTree, Rec } from './index-tree.js'
import type { EngineLogger, JournalRecord } from './store.types.js'

/** Default for `ttlMonitorIntervalMs`: 60 s, MongoDB's `ttlMonitorSleepSecs`. */
export const DEFAULT_TTL_MONITOR_INTERVAL_MS = 60_000

/** Documents deleted per batch: each batch is one synchronous slice of work plus one journal commit. */
export const TTL_BATCH_SIZE = 500

/** What a pass needs from the store: its collections now, and the commit of applied changes. */
export interface TtlTarget {
  collection (db: string, coll: string): Collection | undefined
  namespaces (): Array<[string, string]>
  commit (records: JournalRecord[]): Promise<void>
}

/** The index's expireAfterSeconds if it is a TTL index, else undefined. */
export function ttlSeconds (ix: IndexTree): number | undefined {
  const raw = ix.spec.expireAfterSeconds as unknown
  if (raw === undefined || raw === null || ix.fields.length !== 1 || ix.name === '_id_') return undefined
  const n = typeof raw === 'number' ? raw : Number((raw as { valueOf?: () => unknown }).valueOf?.())
  return Number.isFinite(n) && n >= 0 ? n : undefined
}

/** One TTL pass over every TTL index; resolves with the number of documents deleted. */
export async function expireTtlPass (target: TtlTarget, now: Date): Promise<number> {
  let deleted = 0
  for (const [db, coll] of target.namespaces()) {
    const c = target.collection(db, coll)
    if (c === undefined) continue
    const names = [...c.indexes.values()].filter(ix => ttlSeconds(ix) !== undefined).map(ix => ix.name)
    for (const name of names) deleted += await expireIndex(target, db, coll, name, now)
  }
  return deleted
}

async function expireIndex (target: TtlTarget, db: string, coll: string, name: string, now: Date): Promise<number> {
  let deleted = 0
  for (;;) {
    // look everything up again each batch: the awaits let writes, drops and index changes in between
    const c = target.collection(db, coll)
    const ix = c?.indexes.get(name)
    const secs = ix === undefined ? undefined : ttlSeconds(ix)
    if (c === undefined || ix === undefined || secs === undefined) return deleted
    const batch = expiredBatch(ix, new Date(now.getTime() - secs * 1000), TTL_BATCH_SIZE)
    if (batch.length === 0) return deleted
    const records: JournalRecord[] = []
    for (const rec of batch) {
      c.remove(rec)
      records.push({ t: 'del', db, coll, id: rec.doc._id })
    }
    deleted += batch.length
    await target.commit(records)
    if (batch.length < TTL_BATCH_SIZE) return deleted
    await new Promise<void>(resolve => setImmediate(resolve))
  }
}

/**
 * Up to `max` records with an indexed date before `cutoff`. A multikey entry per array element means an
 * array qualifies when its earliest date does; each record is taken once.
 */
function expiredBatch (ix: IndexTree, cutoff: Date, max: number): Rec[] {
  const seen = new Set<number>()
  const out: Rec[] = []
  ix.scan([{ lo: Bound.below(R_DATE), loInc: true, hi: cutoff, hiInc: false }], 1, rec => {
    if (!seen.has(rec.rid)) {
      seen.add(rec.rid)
      out.push(rec)
    }
    return out.length < max
  })
  return out
}

/** The background monitor: one pass per interval (never two at once), on an unref'd timer. */
export class TtlMonitor {
  private timer?: NodeJS.Timeout
  private running?: Promise<void>
  private stopped = false

  constructor (
    private readonly expire: (now: Date) => Promise<number>,
    private readonly intervalMs: number,
    private readonly logger: EngineLogger
  ) {}

  start (): void {
    if (this.stopped || this.timer !== undefined) return
    this.timer = setInterval(() => { this.tick() }, this.intervalMs)
    this.timer.unref()
  }

  private tick (): void {
    if (this.running !== undefined || this.stopped) return
    this.running = this.expire(new Date())
      .then(n => { if (n > 0) this.logger.debug({ deleted: n }, 'embedded mongo: ttl pass') })
      .catch(err => { this.logger.warn({ err }, 'embedded mongo: ttl pass failed') })
      .finally(() => { this.running = undefined })
  }

  /** Stops the timer and waits for a pass in flight, so nothing appends to a closing journal. */
  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    await this.running
  }
}
