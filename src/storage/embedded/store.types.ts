/**
 * Contracts between the three parts of the embedded MongoDB-compatible engine:
 *
 *   wire server + commands (embedded-server.ts, wire-protocol.ts, commands/*, cursors.ts)
 *        │ calls
 *        ▼
 *   Store (store.ts, collection.ts, indexes, planner, bson-order)      — in-memory truth
 *        │ hands every applied change, as JournalRecords, to
 *        ▼
 *   Durability (journal.ts)                                            — on disk; replays at start
 *
 * Documents are kept exactly as BSON deserialised them with promoteValues/promoteLongs/promoteBuffers
 * all false, so Int32, Double, Long, Decimal128, Binary and ObjectId survive the round trip unchanged.
 * Stored documents are immutable: an update builds a new document and swaps it in, so a cursor that holds
 * references keeps a consistent view, and nothing handed out can corrupt the store.
 */
import type { Document } from 'bson'

export type { Document }

/** Index definition as createIndexes receives it and listIndexes returns it. */
export interface IndexSpec {
  key: Document
  name: string
  unique?: boolean
  sparse?: boolean
  partialFilterExpression?: Document
  expireAfterSeconds?: number
  /** Any other option the driver sends is kept and echoed by listIndexes. */
  [option: string]: unknown
}

export interface FindQuery {
  filter?: Document
  sort?: Document
  projection?: Document
  skip?: number
  /** 0 or absent: no limit. */
  limit?: number
  hint?: Document | string
}

/** One element of a write command's writeErrors, as MongoDB shapes it. */
export interface WriteError {
  index: number
  code: number
  errmsg: string
  /** For code 11000 (duplicate key). */
  keyPattern?: Document
  keyValue?: Document
}

export interface InsertResult { n: number; writeErrors: WriteError[] }

export interface UpdateStatement {
  q: Document
  /** Operator document, replacement document, or aggregation pipeline. */
  u: Document | Document[]
  upsert?: boolean
  multi?: boolean
  arrayFilters?: Document[]
  hint?: Document | string
}

export interface UpdateResult {
  n: number
  nModified: number
  upserted: Array<{ index: number; _id: unknown }>
  writeErrors: WriteError[]
}

export interface DeleteStatement { q: Document; /** 0 = all matching, 1 = one. */ limit: 0 | 1 }

export interface DeleteResult { n: number; writeErrors: WriteError[] }

export interface FindAndModifyArgs {
  query?: Document
  sort?: Document
  remove?: boolean
  update?: Document | Document[]
  new?: boolean
  upsert?: boolean
  fields?: Document
  arrayFilters?: Document[]
}

export interface FindAndModifyResult {
  value: Document | null
  lastErrorObject: { n: number; updatedExisting?: boolean; upserted?: unknown }
}

export interface CollectionInfo {
  name: string
  type: 'collection'
  options: Document
  info: { readOnly: false }
  idIndex: { v: 2; key: { _id: 1 }; name: '_id_' }
}

/**
 * A state change, as written to the journal and replayed at start. Physical, not logical: replay applies
 * it without re-running checks (they passed when the change was first applied).
 */
export type JournalRecord =
  | { t: 'put'; db: string; coll: string; doc: Document } // insert or full replacement, keyed by doc._id
  | { t: 'del'; db: string; coll: string; id: unknown }
  | { t: 'createColl'; db: string; coll: string; options: Document }
  | { t: 'dropColl'; db: string; coll: string }
  | { t: 'createIndex'; db: string; coll: string; spec: IndexSpec }
  | { t: 'dropIndex'; db: string; coll: string; name: string }
  | { t: 'dropDb'; db: string }

/** What the Store hands its applied changes to. The journal implements it; in-memory mode passes none. */
export interface Durability {
  /** Resolves once the records are on disk (fsync'd). Calls in the same tick may share one fsync. */
  append(records: JournalRecord[]): Promise<void>
  /**
   * Set once appends can no longer succeed (a failed journal write): the store then refuses writes before
   * changing memory. Undefined while healthy.
   */
  failure?(): Error | undefined
}

/**
 * A command failure MongoDB-style: `{ ok: 0, errmsg, code, codeName }` on the wire.
 * Store methods throw this for whole-command failures (NamespaceNotFound 26, NamespaceExists 48,
 * BadValue 2, IndexNotFound 27, ...). Per-document failures go into writeErrors instead.
 */
export class MongoCommandError extends Error {
  constructor (
    readonly code: number,
    readonly codeName: string,
    message: string,
    readonly extra: Document = {}
  ) {
    super(message)
    this.name = 'MongoCommandError'
  }
}

/** How much explain reports: the plan only, or also what running it did (MongoDB's names). */
export type ExplainVerbosity = 'queryPlanner' | 'executionStats' | 'allPlansExecution'

/**
 * The in-memory store. Every write method applies its change in memory, then awaits
 * `durability.append(records)` before resolving, so the wire server acks only what is durable.
 * Reads return documents the caller may not mutate (they are the store's immutable versions or copies).
 * Collections are created implicitly by inserts, upserts and createIndexes, as MongoDB does.
 */
export interface EmbeddedStore {
  listDatabases (): Array<{ name: string; sizeOnDisk: number; empty: boolean }>
  dropDatabase (db: string): Promise<void>
  listCollections (db: string, filter?: Document): CollectionInfo[]
  /** Throws MongoCommandError 48 NamespaceExists if present. */
  createCollection (db: string, coll: string, options?: Document): Promise<void>
  /** false when the collection did not exist. */
  dropCollection (db: string, coll: string): Promise<boolean>
  createIndexes (db: string, coll: string, specs: IndexSpec[]): Promise<{
    numIndexesBefore: number
    numIndexesAfter: number
    createdCollectionAutomatically: boolean
  }>
  /** Throws 26 NamespaceNotFound when the collection does not exist. Includes the `_id_` index. */
  listIndexes (db: string, coll: string): IndexSpec[]
  /** `'*'` drops all but `_id_`. Accepts names or key patterns. */
  dropIndexes (db: string, coll: string, index: string | string[] | Document): Promise<{ nIndexesWas: number }>

  insert (db: string, coll: string, docs: Document[], ordered: boolean): Promise<InsertResult>
  update (db: string, coll: string, updates: UpdateStatement[], ordered: boolean): Promise<UpdateResult>
  delete (db: string, coll: string, deletes: DeleteStatement[], ordered: boolean): Promise<DeleteResult>
  findAndModify (db: string, coll: string, args: FindAndModifyArgs): Promise<FindAndModifyResult>

  /** Materialised result (skip/limit applied, index used where one fits). Unknown collection: []. */
  find (db: string, coll: string, query: FindQuery): Document[]
  /** Pipeline via mingo; `$out`/`$merge` may throw 2 BadValue. */
  aggregate (db: string, coll: string, pipeline: Document[]): Document[]
  count (db: string, coll: string, query?: Document, skip?: number, limit?: number): number
  distinct (db: string, coll: string, key: string, query?: Document): unknown[]
  /** MongoDB's explain of a find, `{ queryPlanner, executionStats? }`: the find is run, its results dropped. */
  explain (db: string, coll: string, query: FindQuery, verbosity: ExplainVerbosity): Document
  /** The same for a pipeline: as its leading find when that is all of it, else `{ stages: [{ $cursor }, ...] }`. */
  explainAggregate (db: string, coll: string, pipeline: Document[], verbosity: ExplainVerbosity): Document

  /** Replay one journal record at start (no checks, no journal). */
  applyRecord (record: JournalRecord): void
  /**
   * The whole state as records (collections, their indexes, their documents), for journal compaction.
   * Taken synchronously at call time: later writes do not change what the returned iterable yields.
   */
  snapshot (): Iterable<JournalRecord>
  /** Number of documents held, for logs and stats. */
  documentCount (): number
}

/** The few logger methods the engine uses (a pino logger fits). */
export interface EngineLogger {
  debug (obj: object | string, msg?: string): void
  info (obj: object | string, msg?: string): void
  warn (obj: object | string, msg?: string): void
  error (obj: object | string, msg?: string): void
}

/**
 * What journal.ts exports as `openJournaledStore(options)`: builds the store through `createStore` with the
 * journal as its Durability, replays the data directory into it (cutting and logging a torn tail), and
 * compacts the journal in the background so it stays bounded.
 */
export interface JournaledStoreOptions {
  dataDir: string
  logger: EngineLogger
  createStore: (durability: Durability) => EmbeddedStore
  /** Compact when the live journal exceeds this many bytes and the last snapshot. Default 64 MiB. */
  compactAfterBytes?: number
}

export interface JournaledStore {
  store: EmbeddedStore
  /** Waits for pending appends and any compaction, then closes files. */
  close (): Promise<void>
}
