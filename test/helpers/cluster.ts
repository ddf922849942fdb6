/**
 * Several Parley instances in one process, as a cluster: one spawned Redis, one database (the first instance's
 * embedded engine, or a fresh database on MONGODB_URL), each instance listening on its own port, with real typed
 * sockets. Everything is closed in the test's teardown: the sockets, the instances last-first (the first one hosts
 * the embedded database), then Redis.
 */
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from '../../src/app.js'
import { RedisPresenceStore, type RedisPresenceTiming } from '../../src/modules/presence/redis-presence.store.js'
import { EXTERNAL_MONGODB, FAST_ARGON2, listen, testConfig, withDatabase, type TeardownHost } from './build-app.js'
import { socketConnector, type ParleyClient } from './realtime.js'
import { startTestRedis, type TestRedis } from './redis-server.js'

export interface Instance {
  app: FastifyInstance
  /** `http://127.0.0.1:<port>` */
  url: string
  /** The instance's Redis presence store (built with ClusterOptions.presenceTiming when set). */
  store: RedisPresenceStore
}

export interface ClusterOptions {
  /** How many instances. Default 2. */
  instances?: number
  /** Environment overrides for every instance (cheap argon2 is already set). Default none. */
  env?: NodeJS.ProcessEnv
  /** buildApp options for every instance. Default: revocation polling off, Redis reconnects within 200 ms. */
  build?: BuildOptions
  /**
   * Timings for every instance's Redis presence store, e.g. short ones so a crashed instance is reaped within
   * seconds. Default: the store's own (TTL 15 s, heartbeat 5 s, reaper 5 s).
   */
  presenceTiming?: RedisPresenceTiming
}

export interface TestCluster {
  redis: TestRedis
  instances: Instance[]
  /** The database every instance uses, for another process to join (e.g. a real Parley process). */
  databaseUrl: string
  /** A connected socket on `instance` (rejects with the connect_error). */
  connect: (instance: Instance, accessToken: string) => Promise<ParleyClient>
  /**
   * Stops an instance like a crashed process as far as presence goes: no leave, no heartbeat, nothing more
   * written to Redis; its sockets drop. Never the first instance (it hosts the embedded database).
   */
  crash: (instance: Instance) => Promise<void>
}

export async function startCluster (t: TeardownHost, options: ClusterOptions = {}): Promise<TestCluster> {
  const redis = await startTestRedis(t)
  // Tap runs teardowns last-added first: the sockets (connector below), then the instances, then Redis.
  const apps = appsOnOneDatabase(t, {
    env: { ...options.env, REDIS_URL: redis.url },
    build: { revocationPollMs: 0, cluster: { maxRetryDelayMs: 200 }, presence: { redisTiming: options.presenceTiming }, ...options.build }
  })
  const connect = socketConnector(t)
  const instances: Instance[] = []
  for (let i = 0; i < (options.instances ?? 2); i++) {
    const app = await apps.start()
    const store = app.presence.presenceStore
    if (!(store instanceof RedisPresenceStore)) throw new Error('expected the Redis presence store with REDIS_URL set')
    instances.push({ app, url: await listen(app), store })
  }

  const crash: TestCluster['crash'] = async instance => {
    if (instance === instances[0]) throw new Error('the first instance hosts the database')
    instance.store.simulateCrash()
    await apps.close(instance.app)
  }

  return {
    redis,
    instances,
    databaseUrl: apps.databaseUrl(),
    connect: async (instance, accessToken) => await connect(instance.url, accessToken),
    crash
  }
}

export interface SharedDatabaseOptions {
  /** Environment overrides for every app (cheap argon2 is already set). Default none. */
  env?: NodeJS.ProcessEnv
  /** buildApp options for every app. Default none. */
  build?: BuildOptions
}

export interface SharedDatabaseApps {
  /** Builds the next app on the shared database and waits until it is ready (not listening). */
  start: () => Promise<FastifyInstance>
  /** Closes an app now (teardown then skips it). */
  close: (app: FastifyInstance) => Promise<void>
  /** The shared database's URL, once the first app started. */
  databaseUrl: () => string
}

/**
 * Apps on one database, without anything else shared: the first one's embedded engine (served on a port) or a
 * fresh database on MONGODB_URL. Closed in the test's teardown last-first (the first one hosts the embedded engine).
 */
export function appsOnOneDatabase (t: TeardownHost, options: SharedDatabaseOptions = {}): SharedDatabaseApps {
  const apps: FastifyInstance[] = []
  const closed = new Set<FastifyInstance>()
  let databaseUrl: string | null = null
  t.teardown(async () => {
    if (EXTERNAL_MONGODB) await apps[0]?.storage.connection.dropDatabase().catch(() => {})
    for (const app of [...apps].reverse()) if (!closed.has(app)) await app.close()
  })
  const env = { ...FAST_ARGON2, ...options.env }
  return {
    async start () {
      const app = await buildApp(testConfig(databaseUrl === null ? env : { ...env, MONGODB_URL: databaseUrl }), options.build)
      apps.push(app)
      await app.ready()
      databaseUrl ??= sharedDatabase(app)
      return app
    },
    async close (app) {
      closed.add(app)
      await app.close()
    },
    databaseUrl () {
      if (databaseUrl === null) throw new Error('no app started yet')
      return databaseUrl
    }
  }
}

/** The URL of the first app's database: its own MONGODB_URL, or its embedded engine served on a port. */
function sharedDatabase (app: FastifyInstance): string {
  if (app.config.mongodbUrl !== null) return app.config.mongodbUrl
  const embedded = app.storage.embedded
  if (embedded === null) throw new Error('expected the embedded engine')
  return withDatabase(embedded.url, app.storage.connection.name)
}
