/**
 * Handshake, diagnostics and session no-ops: what the driver and mongoose ask before and around real work.
 *
 * The hello reply deliberately omits `topologyVersion` (so the driver polls instead of streaming hello)
 * and `logicalSessionTimeoutMinutes` (no sessions: the driver then sends no lsid and no txnNumber, and
 * explicit sessions fail client-side with "Current topology does not support sessions").
 */
import type { Document } from 'bson'
import { MongoCommandError } from '../store.types.js'
import type { CommandContext, CommandHandler } from './command-context.js'

export const SERVER_VERSION = '7.0.0'
/** MongoDB 7.0's wire version; mongodb driver 7 accepts 9..29. */
export const MAX_WIRE_VERSION = 21
export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024
export const MAX_WRITE_BATCH_SIZE = 100_000

function helloReply (ctx: CommandContext, legacy: boolean): Document {
  const stats = ctx.stats()
  return {
    ...(legacy ? { ismaster: true } : {}),
    isWritablePrimary: true,
    helloOk: true,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: stats.maxMessageBytes,
    maxWriteBatchSize: MAX_WRITE_BATCH_SIZE,
    localTime: new Date(),
    connectionId: ctx.connectionId,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ok: 1
  }
}

const ok = (): Document => ({ ok: 1 })

/** Server parameters getParameter can report; enough for drivers and tools that probe. */
const PARAMETERS: Document = {
  featureCompatibilityVersion: { version: '7.0' },
  authenticationMechanisms: [],
  maxBSONDepth: 100,
  transactionLifetimeLimitSeconds: 60,
  cursorTimeoutMillis: 600_000
}

export const handshakeCommands: Record<string, CommandHandler> = {
  hello: (_cmd, ctx) => helloReply(ctx, false),
  isMaster: (_cmd, ctx) => helloReply(ctx, true),
  ismaster: (_cmd, ctx) => helloReply(ctx, true),
  ping: ok,
  buildInfo: () => buildInfo(),
  buildinfo: () => buildInfo(),
  getParameter: (cmd) => {
    if (cmd.getParameter === '*') return { ...PARAMETERS, ok: 1 }
    const out: Document = {}
    for (const key of Object.keys(cmd)) if (Object.hasOwn(PARAMETERS, key)) out[key] = PARAMETERS[key]
    if (Object.keys(out).length === 0) throw new MongoCommandError(72, 'InvalidOptions', 'no option found to get')
    return { ...out, ok: 1 }
  },
  getCmdLineOpts: () => ({ argv: ['parley-embedded-mongo'], parsed: {}, ok: 1 }),
  // No sessions are advertised; these are still answered so cleanup code paths never fail.
  endSessions: ok,
  killSessions: ok,
  killAllSessions: ok,
  refreshSessions: ok,
  startSession: () => {
    throw new MongoCommandError(20, 'IllegalOperation', 'sessions are not supported by the embedded engine')
  },
  logout: ok,
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
  whatsmyuri: (_cmd, ctx) => ({ you: ctx.remote, ok: 1 }),
  hostInfo: () => ({ system: { currentTime: new Date(), hostname: 'localhost' }, os: { type: process.platform }, extra: {}, ok: 1 }),
  serverStatus: (_cmd, ctx) => {
    const stats = ctx.stats()
    const uptimeMillis = Date.now() - ctx.startedAt
    return {
      host: 'localhost',
      version: SERVER_VERSION,
      process: 'parley-embedded-mongo',
      pid: process.pid,
      uptime: Math.floor(uptimeMillis / 1000),
      uptimeMillis,
      uptimeEstimate: Math.floor(uptimeMillis / 1000),
      localTime: new Date(),
      connections: { current: stats.currentConnections, available: Math.max(0, stats.maxConnections - stats.currentConnections), totalCreated: stats.totalConnections },
      metrics: { cursor: { open: { total: stats.openCursors } }, document: { held: ctx.store.documentCount() } },
      ok: 1
    }
  }
}

function buildInfo (): Document {
  return {
    version: SERVER_VERSION,
    gitVersion: 'parley-embedded',
    versionArray: [7, 0, 0, 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    storageEngines: ['parley-embedded'],
    javascriptEngine: 'none',
    modules: [],
    openssl: { running: 'disabled' },
    buildEnvironment: {},
    ok: 1
  }
}
