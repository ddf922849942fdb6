/**
 * Write commands: insert, update, delete, findAndModify. Replies are shaped as MongoDB shapes them:
 * per-document failures (e.g. duplicate key 11000) are `ok: 1` with `writeErrors`, which the driver turns
 * into MongoBulkWriteError / MongoServerError; `upserted` and `writeErrors` appear only when non-empty.
 */
import type { Document } from 'bson'
import {
  MongoCommandError,
  type DeleteStatement,
  type FindAndModifyArgs,
  type UpdateStatement,
  type WriteError
} from '../store.types.js'
import {
  arrayOf,
  asBool,
  asDocument,
  asNumber,
  collectionName,
  plainSpec,
  type CommandHandler
} from './command-context.js'

function failedToParse (message: string): MongoCommandError {
  return new MongoCommandError(9, 'FailedToParse', message)
}

function withWriteErrors (reply: Document, writeErrors: WriteError[]): Document {
  if (writeErrors.length > 0) reply.writeErrors = writeErrors
  reply.ok = 1
  return reply
}

/** `u` is an operator/replacement document or a pipeline. */
function updateSpec (value: unknown, field: string): Document | Document[] {
  if (Array.isArray(value)) return value as Document[]
  const doc = asDocument(value, field)
  if (doc === undefined) throw failedToParse(`BSON field '${field}' is missing but a required field`)
  return doc
}

function toUpdateStatement (raw: Document, i: number): UpdateStatement {
  const q = asDocument(raw.q, `updates.${i}.q`)
  if (q === undefined) throw failedToParse(`BSON field 'update.updates.q' is missing but a required field`)
  const statement: UpdateStatement = {
    q,
    u: updateSpec(raw.u, 'update.updates.u'),
    upsert: asBool(raw.upsert),
    multi: asBool(raw.multi)
  }
  if (raw.arrayFilters !== undefined) statement.arrayFilters = arrayOf(raw.arrayFilters, 'arrayFilters')
  if (raw.hint !== undefined) statement.hint = raw.hint
  return statement
}

function toDeleteStatement (raw: Document, i: number): DeleteStatement {
  const q = asDocument(raw.q, `deletes.${i}.q`)
  if (q === undefined) throw failedToParse(`BSON field 'delete.deletes.q' is missing but a required field`)
  const limit = asNumber(raw.limit, 'limit')
  if (limit !== 0 && limit !== 1) {
    throw failedToParse(`The limit field in delete objects must be 0 or 1. Got ${String(limit)}`)
  }
  return { q, limit }
}

const findAndModify: CommandHandler = async (cmd, ctx) => {
  const name = 'findAndModify' in cmd ? 'findAndModify' : 'findandmodify'
  const coll = collectionName(cmd, name)
  const remove = asBool(cmd.remove)
  const args: FindAndModifyArgs = {
    query: asDocument(cmd.query, 'query') ?? {},
    remove,
    new: asBool(cmd.new),
    upsert: asBool(cmd.upsert)
  }
  const sort = plainSpec(asDocument(cmd.sort, 'sort'))
  if (sort !== undefined) args.sort = sort
  const fields = plainSpec(asDocument(cmd.fields, 'fields'))
  if (fields !== undefined) args.fields = fields
  if (cmd.arrayFilters !== undefined) args.arrayFilters = arrayOf(cmd.arrayFilters, 'arrayFilters')
  if (cmd.update !== undefined) args.update = updateSpec(cmd.update, 'update')
  if (remove && args.update !== undefined) throw failedToParse('Cannot specify both an update and remove=true')
  if (!remove && args.update === undefined) throw failedToParse('Either an update or remove=true must be specified')
  if (remove && (args.new === true || args.upsert === true)) {
    throw failedToParse('Cannot specify both new=true and remove=true; or upsert=true and remove=true')
  }
  const result = await ctx.store.findAndModify(ctx.db, coll, args)
  return { lastErrorObject: result.lastErrorObject, value: result.value, ok: 1 }
}

export const crudCommands: Record<string, CommandHandler> = {
  insert: async (cmd, ctx) => {
    const coll = collectionName(cmd, 'insert')
    const docs = arrayOf(cmd.documents, 'documents')
    for (const doc of docs) asDocument(doc, 'documents')
    const result = await ctx.store.insert(ctx.db, coll, docs, asBool(cmd.ordered, true))
    return withWriteErrors({ n: result.n }, result.writeErrors)
  },

  update: async (cmd, ctx) => {
    const coll = collectionName(cmd, 'update')
    const updates = arrayOf(cmd.updates, 'updates').map(toUpdateStatement)
    const result = await ctx.store.update(ctx.db, coll, updates, asBool(cmd.ordered, true))
    const reply: Document = { n: result.n, nModified: result.nModified }
    if (result.upserted.length > 0) reply.upserted = result.upserted
    return withWriteErrors(reply, result.writeErrors)
  },

  delete: async (cmd, ctx) => {
    const coll = collectionName(cmd, 'delete')
    const deletes = arrayOf(cmd.deletes, 'deletes').map(toDeleteStatement)
    const result = await ctx.store.delete(ctx.db, coll, deletes, asBool(cmd.ordered, true))
    return withWriteErrors({ n: result.n }, result.writeErrors)
  },

  findAndModify,
  findandmodify: findAndModify
}
