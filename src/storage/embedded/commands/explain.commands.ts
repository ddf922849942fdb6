/**
 * explain: `{ explain: { find | aggregate ... }, verbosity }`, what the driver sends for
 * `cursor.explain(verbosity)` (mongoose's `Query#explain`, `Aggregate#explain`), and the older
 * `{ aggregate, pipeline, explain: true }`. The reply is MongoDB's shape (explain-plan.ts builds the plans).
 */
import { hostname } from 'node:os'
import type { Document } from 'bson'
import { MongoCommandError, type ExplainVerbosity } from '../store.types.js'
import { arrayOf, asDocument, badValue, collectionName, findQueryOf, type CommandContext, type CommandHandler } from './command-context.js'
import { SERVER_VERSION } from './handshake.commands.js'

/** Commands MongoDB explains that the engine does not (their plans would need the write paths traced). */
const NOT_EXPLAINED = new Set(['count', 'distinct', 'update', 'delete', 'findAndModify', 'findandmodify', 'mapReduce'])

function verbosityOf (value: unknown): ExplainVerbosity {
  // MongoDB's default; queryPlannerExtended only adds detail the engine has none of
  if (value === undefined || value === null) return 'allPlansExecution'
  if (value === 'queryPlanner' || value === 'queryPlannerExtended') return 'queryPlanner'
  if (value === 'executionStats' || value === 'allPlansExecution') return value
  throw badValue(`Enumeration value '${String(value)}' for field 'verbosity' is not a valid value.`)
}

/** The explain reply for a find or aggregate command document (not wrapped in `explain`). */
export function explainReply (inner: Document, ctx: CommandContext, verbosity: ExplainVerbosity): Document {
  const name = Object.keys(inner)[0]
  let body: Document
  if (name === 'find') {
    body = ctx.store.explain(ctx.db, collectionName(inner, 'find'), findQueryOf(inner), verbosity)
  } else if (name === 'aggregate') {
    if (typeof inner.aggregate !== 'string') {
      throw badValue('database-level aggregation ({aggregate: 1}) is not supported by the embedded engine')
    }
    body = ctx.store.explainAggregate(ctx.db, collectionName(inner, 'aggregate'), arrayOf(inner.pipeline, 'pipeline'), verbosity)
  } else if (name !== undefined && NOT_EXPLAINED.has(name)) {
    throw badValue(`explain of '${name}' is not supported by the embedded engine`)
  } else {
    throw new MongoCommandError(59, 'CommandNotFound', `Explain failed due to unknown command: ${name ?? ''}`)
  }
  return {
    explainVersion: '1',
    ...body,
    command: { ...inner, $db: ctx.db },
    serverInfo: { host: hostname(), version: SERVER_VERSION, gitVersion: 'embedded' },
    ok: 1
  }
}

export const explainCommands: Record<string, CommandHandler> = {
  explain: (cmd, ctx) => {
    const inner = asDocument(cmd.explain, 'explain')
    if (inner === undefined) throw badValue('explain command requires a nested object')
    return explainReply(inner, ctx, verbosityOf(cmd.verbosity))
  }
}
