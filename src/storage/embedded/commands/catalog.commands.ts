/**
 * Catalog commands: databases, collections, indexes, and small stats.
 */
import type { Document } from 'bson'
import { Query } from 'mingo'
import { MongoCommandError, type IndexSpec } from '../store.types.js'
import {
  arrayOf,
  asBool,
  asDocument,
  asNumber,
  collectionName,
  cursorBatchSize,
  type CommandContext,
  type CommandHandler
} from './command-context.js'
import { cursorReply } from './query.commands.js'

/** Fields every command may carry that are about transport, sessions or concerns, never about the command. */
export const GENERIC_FIELDS = new Set([
  '$db', 'lsid', '$clusterTime', '$readPreference', 'txnNumber', 'autocommit', 'startTransaction',
  'writeConcern', 'readConcern', 'apiVersion', 'apiStrict', 'apiDeprecationErrors', 'comment', 'maxTimeMS',
  '$audit', '$client', 'mayBypassWriteBlocking', 'bypassDocumentValidation'
])

/** The command's own options: everything but its name field and the generic fields. */
function commandOptions (cmd: Document, name: string): Document {
  const options: Document = {}
  for (const [key, value] of Object.entries(cmd)) {
    if (key !== name && !GENERIC_FIELDS.has(key)) options[key] = value
  }
  return options
}

/** Index option values the contract types as plain numbers/booleans. */
function toIndexSpec (raw: Document, i: number): IndexSpec {
  const key = asDocument(raw.key, `indexes.${i}.key`)
  if (key === undefined || Object.keys(key).length === 0) {
    throw new MongoCommandError(67, 'CannotCreateIndex', 'Index keys cannot be empty.')
  }
  if (typeof raw.name !== 'string' || raw.name === '') {
    throw new MongoCommandError(9, 'FailedToParse', `index ${i} must have a non-empty string 'name'`)
  }
  const spec: IndexSpec = { ...raw, key, name: raw.name }
  if (raw.unique !== undefined) spec.unique = asBool(raw.unique)
  if (raw.sparse !== undefined) spec.sparse = asBool(raw.sparse)
  if (raw.expireAfterSeconds !== undefined) spec.expireAfterSeconds = asNumber(raw.expireAfterSeconds, 'expireAfterSeconds')
  if (raw.v !== undefined) spec.v = asNumber(raw.v, 'v')
  return spec
}

/** listIndexes entries lead with `v: 2`, as MongoDB's do. */
function describeIndex (spec: IndexSpec): Document {
  const { key, name, v, ...rest } = spec
  return { v: v ?? 2, key, name, ...rest }
}

function indexCount (ctx: CommandContext, coll: string): number | undefined {
  try {
    return ctx.store.listIndexes(ctx.db, coll).length
  } catch (err) {
    if (err instanceof MongoCommandError && err.code === 26) return undefined
    throw err
  }
}

export const catalogCommands: Record<string, CommandHandler> = {
  listDatabases: (cmd, ctx) => {
    let databases: Document[] = ctx.store.listDatabases()
    const filter = asDocument(cmd.filter, 'filter')
    if (filter !== undefined) {
      const query = new Query(filter)
      databases = databases.filter(d => query.test(d))
    }
    if (asBool(cmd.nameOnly)) return { databases: databases.map(d => ({ name: d.name })), ok: 1 }
    const totalSize = databases.reduce((n, d) => n + Number(d.sizeOnDisk), 0)
    return { databases, totalSize, totalSizeMb: Math.floor(totalSize / 1024 / 1024), ok: 1 }
  },

  dropDatabase: async (_cmd, ctx) => {
    await ctx.store.dropDatabase(ctx.db)
    return { ok: 1 }
  },

  create: async (cmd, ctx) => {
    const coll = collectionName(cmd, 'create')
    await ctx.store.createCollection(ctx.db, coll, commandOptions(cmd, 'create'))
    return { ok: 1 }
  },

  drop: async (cmd, ctx) => {
    const coll = collectionName(cmd, 'drop')
    const nIndexesWas = indexCount(ctx, coll)
    const dropped = await ctx.store.dropCollection(ctx.db, coll)
    // MongoDB 7.0 answers ok:1 for a collection that does not exist.
    if (!dropped || nIndexesWas === undefined) return { ok: 1 }
    return { nIndexesWas, ns: `${ctx.db}.${coll}`, ok: 1 }
  },

  listCollections: (cmd, ctx) => {
    const filter = asDocument(cmd.filter, 'filter')
    const infos: Document[] = ctx.store.listCollections(ctx.db, filter)
    const docs = asBool(cmd.nameOnly) ? infos.map(c => ({ name: c.name, type: c.type })) : infos
    const batch = ctx.cursors.open(`${ctx.db}.$cmd.listCollections`, docs, cursorBatchSize(cmd) ?? Infinity)
    return cursorReply(batch, 'firstBatch')
  },

  createIndexes: async (cmd, ctx) => {
    const coll = collectionName(cmd, 'createIndexes')
    const specs = arrayOf(cmd.indexes, 'indexes').map(toIndexSpec)
    if (specs.length === 0) throw new MongoCommandError(2, 'BadValue', 'Must specify at least one index to create')
    const result = await ctx.store.createIndexes(ctx.db, coll, specs)
    const reply: Document = { ...result }
    if (result.numIndexesAfter === result.numIndexesBefore) reply.note = 'all indexes already exist'
    reply.ok = 1
    return reply
  },

  listIndexes: (cmd, ctx) => {
    const coll = collectionName(cmd, 'listIndexes')
    const docs = ctx.store.listIndexes(ctx.db, coll).map(describeIndex)
    const batch = ctx.cursors.open(`${ctx.db}.${coll}`, docs, cursorBatchSize(cmd) ?? Infinity)
    return cursorReply(batch, 'firstBatch')
  },

  dropIndexes: async (cmd, ctx) => {
    const name = 'dropIndexes' in cmd ? 'dropIndexes' : 'deleteIndexes'
    const coll = collectionName(cmd, name)
    const index = cmd.index as unknown
    if (typeof index !== 'string' && !Array.isArray(index) && asDocument(index, 'index') === undefined) {
      throw new MongoCommandError(9, 'FailedToParse', "BSON field 'dropIndexes.index' is missing but a required field")
    }
    const result = await ctx.store.dropIndexes(ctx.db, coll, index as string | string[] | Document)
    return { nIndexesWas: result.nIndexesWas, ok: 1 }
  },

  dbStats: (_cmd, ctx) => {
    const collections = ctx.store.listCollections(ctx.db)
    let objects = 0
    let indexes = 0
    for (const c of collections) {
      objects += ctx.store.count(ctx.db, c.name)
      indexes += ctx.store.listIndexes(ctx.db, c.name).length
    }
    return { db: ctx.db, collections: collections.length, views: 0, objects, indexes, ok: 1 }
  }
}
catalogCommands.deleteIndexes = catalogCommands.dropIndexes
