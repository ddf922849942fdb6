/**
 * Read commands and the cursor protocol: find, aggregate, getMore, killCursors, count, distinct
 * (explain.commands.ts explains find and aggregate).
 * Results come materialised from the store; cursors.ts hands them out in batches.
 */
import type { Document, Long } from 'bson'
import type { Batch } from '../cursors.js'
import { MongoCommandError } from '../store.types.js'
import { explainReply } from './explain.commands.js'
import {
  arrayOf,
  asBool,
  asCount,
  asDocument,
  asNumber,
  badValue,
  collectionName,
  cursorBatchSize,
  findQueryOf,
  typeMismatch,
  type CommandHandler
} from './command-context.js'

/** `{ cursor: { firstBatch | nextBatch, id, ns }, ok: 1 }` */
export function cursorReply (batch: Batch, field: 'firstBatch' | 'nextBatch'): Document {
  return { cursor: { [field]: batch.batch, id: batch.id, ns: batch.ns }, ok: 1 }
}

function asLong (value: unknown, field: string): Long {
  if ((value as { _bsontype?: string } | null)?._bsontype !== 'Long') {
    throw typeMismatch(`Field '${field}' should be a long`)
  }
  return value as Long
}

export const queryCommands: Record<string, CommandHandler> = {
  find: (cmd, ctx) => {
    const coll = collectionName(cmd, 'find')
    if (asBool(cmd.tailable)) throw badValue('tailable cursors are not supported by the embedded engine')
    const query = findQueryOf(cmd)
    const batchSize = asCount(cmd.batchSize, 'batchSize')
    const docs = ctx.store.find(ctx.db, coll, query)
    // The store applied skip/limit, so a limit never leaves a needless cursor open behind the last batch.
    return cursorReply(ctx.cursors.open(`${ctx.db}.${coll}`, docs, batchSize, asBool(cmd.singleBatch)), 'firstBatch')
  },

  aggregate: (cmd, ctx) => {
    if (typeof cmd.aggregate !== 'string') {
      throw badValue('database-level aggregation ({aggregate: 1}) is not supported by the embedded engine')
    }
    const coll = collectionName(cmd, 'aggregate')
    const pipeline = arrayOf(cmd.pipeline, 'pipeline')
    // the older form of explain: MongoDB answers it at queryPlanner verbosity
    if (asBool(cmd.explain)) return explainReply(cmd, ctx, 'queryPlanner')
    if (cmd.cursor === undefined) {
      throw new MongoCommandError(9, 'FailedToParse', "The 'cursor' option is required, except for aggregate with the explain argument")
    }
    const batchSize = cursorBatchSize(cmd)
    const docs = ctx.store.aggregate(ctx.db, coll, pipeline)
    return cursorReply(ctx.cursors.open(`${ctx.db}.${coll}`, docs, batchSize), 'firstBatch')
  },

  getMore: (cmd, ctx) => {
    const id = asLong(cmd.getMore, 'getMore')
    if (typeof cmd.collection !== 'string') throw typeMismatch("Field 'collection' should be a string")
    const ns = `${ctx.db}.${cmd.collection}`
    const owner = ctx.cursors.namespaceOf(id)
    if (owner === undefined) throw new MongoCommandError(43, 'CursorNotFound', `cursor id ${id.toString()} not found`)
    if (owner !== ns) {
      throw new MongoCommandError(13, 'Unauthorized', `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${owner}`)
    }
    const batch = ctx.cursors.next(id, asCount(cmd.batchSize, 'batchSize'))
    if (batch === undefined) throw new MongoCommandError(43, 'CursorNotFound', `cursor id ${id.toString()} not found`)
    return cursorReply(batch, 'nextBatch')
  },

  killCursors: (cmd, ctx) => {
    collectionName(cmd, 'killCursors')
    const killed: Long[] = []
    const notFound: Long[] = []
    for (const [i, raw] of arrayOf(cmd.cursors, 'cursors').entries()) {
      const id = asLong(raw, `cursors.${i}`)
      if (ctx.cursors.kill(id)) killed.push(id)
      else notFound.push(id)
    }
    return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 }
  },

  count: (cmd, ctx) => {
    const coll = collectionName(cmd, 'count')
    const skip = asCount(cmd.skip, 'skip')
    // MongoDB treats a negative count limit like its absolute value.
    const rawLimit = asNumber(cmd.limit, 'limit')
    const limit = rawLimit === undefined ? undefined : Math.abs(Math.trunc(rawLimit))
    const n = ctx.store.count(ctx.db, coll, asDocument(cmd.query, 'query'), skip, limit)
    return { n, ok: 1 }
  },

  distinct: (cmd, ctx) => {
    const coll = collectionName(cmd, 'distinct')
    if (typeof cmd.key !== 'string') throw typeMismatch("Field 'key' should be a string")
    const values = ctx.store.distinct(ctx.db, coll, cmd.key, asDocument(cmd.query, 'query'))
    return { values, ok: 1 }
  }
}
