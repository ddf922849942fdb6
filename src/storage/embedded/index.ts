/**
 * Public entry point of the embedded MongoDB-compatible engine: a wire-protocol server over the
 * in-memory store, optionally journaled to a data directory. mongoose / the mongodb driver connect to
 * `url` unchanged.
 */
import { EmbeddedServer } from './embedded-server.js'
import { openJournaledStore } from './journal.js'
import { MemoryStore } from './store.js'
import type { EmbeddedStore, EngineLogger } from './store.types.js'
import { DEFAULT_TTL_MONITOR_INTERVAL_MS, TtlMonitor } from './ttl.js'

export type { EngineLogger } from './store.types.js'

export interface EmbeddedMongoOptions {
  /** Interface to bind. Default '127.0.0.1' (loopback only unless told otherwise). */
  host?: string
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number
  /** Data directory for durable mode; null or undefined = in memory. */
  dataDir?: string | null
  logger?: EngineLogger            // default: silent
  /**
   * Largest accepted wire message. Default 48_000_000 (MongoDB's maxMessageSizeBytes). A frame header
   * announcing more closes the connection; it also bounds what one connection can make the engine buffer.
   */
  maxMessageBytes?: number
  /** Concurrent client connections; connections over the cap are closed at once. Default 1000. */
  maxConnections?: number
  /** Idle cursors are closed after this. Default 600_000 (10 min, MongoDB's default). */
  cursorTimeoutMs?: number
  /** Passed to the journal. */
  compactAfterBytes?: number
  /**
   * How often the TTL monitor deletes documents expired by TTL indexes (`expireAfterSeconds`).
   * Default 60_000 (MongoDB's 60 s); 0 disables the monitor.
   */
  ttlMonitorIntervalMs?: number
}

/**
 * 'failed' once the journal could not write (disk full, I/O error): from then on every write is refused
 * with OperationFailed until a restart, which recovers the durable state; reads keep being served.
 */
export type EngineHealth = { state: 'ok' } | { state: 'failed'; error: Error }

export interface EmbeddedMongo {
  /** e.g. mongodb://127.0.0.1:40123/?directConnection=true */
  url: string
  host: string
  port: number
  close (): Promise<void>   // stops accepting, closes connections, closes the journal
  /** For readiness checks; always 'ok' in memory. */
  health (): Promise<EngineHealth>
}

/** Default for `maxMessageBytes`: MongoDB's maxMessageSizeBytes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 48_000_000
/** Default for `maxConnections`. */
export const DEFAULT_MAX_CONNECTIONS = 1000

const noop = (): void => {}
const silentLogger: EngineLogger = { debug: noop, info: noop, warn: noop, error: noop }

export async function startEmbeddedMongo (options: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  const logger = options.logger ?? silentLogger
  const host = options.host ?? '127.0.0.1'
  let store: EmbeddedStore
  let memory: MemoryStore
  let closeStore: () => Promise<void> = async () => {}
  let failure: () => Error | undefined = () => undefined
  if (options.dataDir != null) {
    const journaled = await openJournaledStore({
      dataDir: options.dataDir,
      logger,
      createStore: durability => (memory = new MemoryStore({ durability })),
      ...(options.compactAfterBytes !== undefined ? { compactAfterBytes: options.compactAfterBytes } : {})
    })
    store = journaled.store
    closeStore = async () => await journaled.close()
    failure = () => journaled.failure()
  } else {
    store = memory = new MemoryStore({})
  }
  const ttlInterval = options.ttlMonitorIntervalMs ?? DEFAULT_TTL_MONITOR_INTERVAL_MS
  const ttl = new TtlMonitor(async now => await memory.expireTtl(now), ttlInterval, logger)

  const server = new EmbeddedServer({
    store,
    logger,
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    cursorTimeoutMs: options.cursorTimeoutMs ?? 600_000
  })
  let address
  try {
    address = await server.listen(options.port ?? 0, host)
  } catch (err) {
    await closeStore()
    throw err
  }
  if (ttlInterval > 0) ttl.start()
  const urlHost = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address
  const url = `mongodb://${urlHost}:${address.port}/?directConnection=true`
  logger.info({ url, dataDir: options.dataDir ?? null, documents: store.documentCount() }, 'embedded mongo: listening')

  let closing: Promise<void> | undefined
  return {
    url,
    host: address.address,
    port: address.port,
    health: async () => {
      const error = failure()
      return error === undefined ? { state: 'ok' } : { state: 'failed', error }
    },
    close: async () => {
      closing ??= (async () => {
        await ttl.stop() // before the journal closes: a pass in flight still appends
        await server.close()
        await closeStore()
        logger.info({ url }, 'embedded mongo: closed')
      })()
      await closing
    }
  }
}
