/**
 * Finds the handler for a command (its first field names it, as in MongoDB) and turns every failure into
 * a MongoDB-shaped error reply, so no command can take the server down.
 */
import type { Document } from 'bson'
import { MongoCommandError } from '../store.types.js'
import { catalogCommands } from './catalog.commands.js'
import type { CommandContext, CommandHandler } from './command-context.js'
import { crudCommands } from './crud.commands.js'
import { explainCommands } from './explain.commands.js'
import { handshakeCommands } from './handshake.commands.js'
import { queryCommands } from './query.commands.js'

const handlers = new Map<string, CommandHandler>(Object.entries({
  ...handshakeCommands,
  ...catalogCommands,
  ...crudCommands,
  ...queryCommands,
  ...explainCommands
}))

export function errorReply (err: MongoCommandError): Document {
  return { ok: 0, errmsg: err.message, code: err.code, codeName: err.codeName, ...err.extra }
}

/** instanceof, plus a shape check in case a second copy of the contract module is ever loaded. */
function isCommandError (err: unknown): err is MongoCommandError {
  if (err instanceof MongoCommandError) return true
  const e = err as Partial<MongoCommandError> | null
  return e?.name === 'MongoCommandError' && typeof e.code === 'number' && typeof e.codeName === 'string'
}

/** Names of all supported commands (for tests and diagnostics). */
export function commandNames (): string[] {
  return [...handlers.keys()]
}

/** Runs one command and always resolves to a reply document. */
export async function runCommand (cmd: Document, ctx: CommandContext): Promise<Document> {
  const name = Object.keys(cmd)[0]
  const handler = name === undefined ? undefined : handlers.get(name)
  if (handler === undefined) {
    return errorReply(new MongoCommandError(59, 'CommandNotFound', `no such command: '${name ?? ''}'`))
  }
  // Transactions cannot be honoured (no sessions, no rollback); refuse them as a standalone mongod does.
  if (cmd.startTransaction !== undefined || cmd.autocommit !== undefined) {
    return errorReply(new MongoCommandError(20, 'IllegalOperation',
      'Transaction numbers are only allowed on a replica set member or mongos'))
  }
  try {
    return await handler(cmd, ctx)
  } catch (err) {
    if (isCommandError(err)) return errorReply(err)
    ctx.logger.error({ err, command: name, db: ctx.db, connectionId: ctx.connectionId }, 'embedded mongo: command failed')
    const message = err instanceof Error ? err.message : String(err)
    return { ok: 0, errmsg: `internal error in '${name}': ${message}`, code: 1, codeName: 'InternalError' }
  }
}
