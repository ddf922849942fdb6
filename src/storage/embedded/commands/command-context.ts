/**
 * What every command handler receives, plus small argument helpers. Requests are deserialised with
 * promoteValues:false, so numbers arrive as Int32/Double/Long wrappers; handlers read them through these.
 */
import type { Document } from 'bson'
import type { CursorRegistry } from '../cursors.js'
import { MongoCommandError, type EmbeddedStore, type EngineLogger, type FindQuery } from '../store.types.js'

export interface CommandContext {
  store: EmbeddedStore
  cursors: CursorRegistry
  logger: EngineLogger
  /** Database the command runs against (`$db`, or the OP_QUERY namespace's database). */
  db: string
  connectionId: number
  /** Client address as `host:port`, for whatsmyuri. */
  remote: string
  /** Server start time (ms since epoch), for serverStatus uptime. */
  startedAt: number
  /** Live server numbers for hello and serverStatus. */
  stats: () => ServerStats
}

export interface ServerStats {
  maxMessageBytes: number
  maxConnections: number
  currentConnections: number
  totalConnections: number
  openCursors: number
}

export type CommandHandler = (cmd: Document, ctx: CommandContext) => Document | Promise<Document>

export function badValue (message: string): MongoCommandError {
  return new MongoCommandError(2, 'BadValue', message)
}

export function typeMismatch (message: string): MongoCommandError {
  return new MongoCommandError(14, 'TypeMismatch', message)
}

/** A number from a plain number or an Int32/Double/Long/Decimal128 wrapper; undefined if absent. */
export function asNumber (value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'number') return value
  if (typeof value === 'object') {
    const v = value as { _bsontype?: string; value?: unknown; toNumber?: () => number; toString: () => string }
    switch (v._bsontype) {
      case 'Int32':
      case 'Double': return Number(v.value)
      case 'Long': return v.toNumber!()
      case 'Decimal128': return Number(v.toString())
    }
  }
  throw typeMismatch(`Field '${field}' should be a number`)
}

/** A non-negative integer argument (skip, limit, batchSize). */
export function asCount (value: unknown, field: string): number | undefined {
  const n = asNumber(value, field)
  if (n === undefined) return undefined
  if (!Number.isFinite(n) || n < 0) throw badValue(`${field} must be a non-negative number, got ${n}`)
  return Math.trunc(n)
}

/** MongoDB accepts numbers where it expects booleans: anything but 0 / false / absent is true. */
export function asBool (value: unknown, fallback = false): boolean {
  if (value === undefined || value === null) return fallback
  if (typeof value === 'boolean') return value
  const n = asNumber(value, 'boolean')
  return n !== 0
}

export function asDocument (value: unknown, field: string): Document | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value) || '_bsontype' in (value as object)) {
    throw typeMismatch(`Field '${field}' should be an object`)
  }
  return value as Document
}

/** The collection name a command names as its first field's value. */
export function collectionName (cmd: Document, name: string): string {
  const value = cmd[name]
  if (typeof value !== 'string' || value === '') {
    throw new MongoCommandError(73, 'InvalidNamespace', `collection name has invalid type ${typeof value}`)
  }
  return value
}

export function arrayOf (value: unknown, field: string): Document[] {
  if (!Array.isArray(value)) throw typeMismatch(`Field '${field}' should be an array`)
  return value as Document[]
}

/**
 * Turns Int32/Double wrappers among a sort or projection spec's top-level values into plain numbers:
 * these specs are directions and flags, not stored data, so the exact BSON type carries no meaning.
 */
export function plainSpec (spec: Document | undefined): Document | undefined {
  if (spec === undefined) return undefined
  const out: Document = {}
  for (const [key, value] of Object.entries(spec)) {
    const t = (value as { _bsontype?: string } | null)?._bsontype
    out[key] = t === 'Int32' || t === 'Double' || t === 'Long' ? asNumber(value, key) : value
  }
  return out
}

/** The `cursor.batchSize` of aggregate/listCollections/listIndexes. */
export function cursorBatchSize (cmd: Document): number | undefined {
  const cursor = asDocument(cmd.cursor, 'cursor')
  return asCount(cursor?.batchSize, 'cursor.batchSize')
}

/** A find command's filter, sort, projection, skip, limit and hint (also explain's inner find). */
export function findQueryOf (cmd: Document): FindQuery {
  const query: FindQuery = {}
  const filter = asDocument(cmd.filter, 'filter')
  if (filter !== undefined) query.filter = filter
  const sort = plainSpec(asDocument(cmd.sort, 'sort'))
  if (sort !== undefined) query.sort = sort
  const projection = plainSpec(asDocument(cmd.projection, 'projection'))
  if (projection !== undefined) query.projection = projection
  const skip = asCount(cmd.skip, 'skip')
  if (skip !== undefined) query.skip = skip
  const limit = asCount(cmd.limit, 'limit')
  if (limit !== undefined) query.limit = limit
  if (cmd.hint !== undefined) query.hint = cmd.hint
  return query
}
