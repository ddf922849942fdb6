import fp from 'fastify-plugin'
import mongoose, { type Connection } from 'mongoose'
import type { FastifyInstance } from 'fastify'
import type { EmbeddedMongo } from './embedded/index.js'
import { startEmbeddedMongoThread } from './embedded/engine-thread-host.js'
import { reportCommands } from './command-metrics.js'

export interface StorageOptions {
  /** A real MongoDB; null starts the embedded engine in this process (on a worker thread unless told otherwise). */
  mongodbUrl: string | null
  /** The embedded engine's data directory; null keeps it in memory (tests). Ignored with mongodbUrl. */
  dataDir: string | null
  /** The embedded engine on a worker thread of its own (default) rather than on the app's event loop. */
  engineThread?: boolean
  /** `w` of every write, always journaled (MONGODB_WRITE_CONCERN). Default 'majority'. */
  writeConcern?: 'majority' | number
}

export interface Storage {
  /** This app's own mongoose connection (never the global one), so several apps can live in one process. */
  connection: Connection
  /** The embedded engine when no MONGODB_URL was given. */
  embedded: EmbeddedMongo | null
}

declare module 'fastify' {
  interface FastifyInstance {
    storage: Storage
  }
}

/** `mongodb://user:pass@host/db` -> `mongodb://***@host/db` for logs. */
export function redactUrl (url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@')
}

/**
 * Owns the database connection. With no MONGODB_URL it first starts the embedded MongoDB-compatible engine
 * on a loopback port and connects to it through the same driver, so there is one persistence code path.
 */
async function storagePlugin (app: FastifyInstance, options: StorageOptions): Promise<void> {
  let embedded: EmbeddedMongo | null = null
  if (options.mongodbUrl === null) {
    // The engine's modules load on its thread; this one imports them only to run the engine itself.
    const start = options.engineThread === false ? (await import('./embedded/index.js')).startEmbeddedMongo : startEmbeddedMongoThread
    embedded = await start({ dataDir: options.dataDir, logger: app.log.child({ component: 'embedded-db' }) })
    app.log.info({ dataDir: options.dataDir ?? ':memory:', url: embedded.url, thread: options.engineThread !== false }, 'storage: embedded engine started')
  }
  const url = embedded?.url ?? (options.mongodbUrl as string)
  // Optional: the metrics plugin, registered before storage, provides it; no monitoring otherwise.
  const metrics = app.storageMetrics
  const connection = mongoose.createConnection(url, {
    // The embedded engine and a local MongoDB answer at once; fail fast instead of queueing for 30 s.
    serverSelectionTimeoutMS: 5000,
    autoIndex: true,
    // A write Parley acks to a client is on the majority's journal, not in one server's memory (a standalone mongod
    // acks before its journal otherwise). The embedded engine journals every write before it answers anyway.
    writeConcern: { w: options.writeConcern ?? 'majority', journal: true },
    // Command timings for /metrics. The driver then decodes each reply once more, for its event: a cost per
    // command (a flush of many sends is one insert) that grows with the reply's size.
    monitorCommands: metrics !== undefined
  })
  if (metrics !== undefined) reportCommands(connection.getClient(), metrics)
  try {
    await connection.asPromise()
  } catch (error) {
    await embedded?.close()
    throw error
  }
  if (embedded === null) app.log.info({ url: redactUrl(url) }, 'storage: connected to MongoDB')

  app.decorate('storage', { connection, embedded })
  app.readiness.add('mongodb', async () => {
    // A failed journal still answers pings (reads are served) but refuses every write: not ready.
    const health = await embedded?.health()
    if (health?.state === 'failed') throw new Error(`embedded engine refuses writes: ${health.error.message}`, { cause: health.error })
    await connection.db!.admin().ping()
  })
  app.addHook('onClose', async () => {
    await connection.close()
    await embedded?.close()
  })
}

export default fp(storagePlugin, { name: 'storage', fastify: '5.x', dependencies: ['readiness'] })
