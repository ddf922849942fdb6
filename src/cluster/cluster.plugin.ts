/**
 * The cluster plugin (`app.cluster`): with REDIS_URL set, three ioredis connections shared by every feature
 * (redis-connections.ts: commands, publisher, subscriber, outage and recovery), Parley's JSON channels on top of
 * them (channels.ts), and the `redis` readiness check. Without REDIS_URL `app.cluster` is null and nothing else
 * changes: a single instance.
 *
 * Boot: the start waits for all three connections and fails with an error naming REDIS_URL when Redis does not
 * answer in time (a wrong URL is an operator error worth a restart loop; an outage later is not: the instance keeps
 * serving REST and its own sockets and reconnects forever, with a backoff).
 */
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Cluster } from './cluster.types.js'
import { RedisConnections } from './redis-connections.js'
import { createChannels } from './channels.js'
import { redactUrl } from '../storage/storage.plugin.js'
import { withTimeout } from '../shared/with-timeout.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The Redis cluster handles, or null for a single instance (no REDIS_URL). */
    cluster: Cluster | null
  }
}

export interface ClusterPluginOptions {
  /** How long the start waits for Redis before failing. Default 10 000 ms. */
  connectTimeoutMs?: number
  /** Longest wait between reconnection attempts (the backoff grows by 200 ms per attempt up to this). Default 2000 ms. */
  maxRetryDelayMs?: number
  /** How long the readiness PING may take. Default 1000 ms. */
  pingTimeoutMs?: number
}

/** The server's version from INFO (e.g. 7.0.15), and its major number. */
async function redisVersion (redis: Cluster['redis']): Promise<{ text: string, major: number }> {
  const text = /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1] ?? 'an unknown version'
  return { text, major: Number.parseInt(text, 10) || 0 }
}

async function clusterPlugin (app: FastifyInstance, options: ClusterPluginOptions): Promise<void> {
  const url = app.config.redisUrl
  if (url === null) {
    app.decorate('cluster', null)
    return
  }
  const log = app.log.child({ component: 'cluster' })
  const connections = new RedisConnections({ url, log, maxRetryDelayMs: options.maxRetryDelayMs ?? 2000 })
  const channels = createChannels(connections, log)
  const { redis, pub, sub } = connections
  const cluster: Cluster = {
    instanceId: `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`,
    redis,
    pub,
    sub,
    isUp: () => redis.status === 'ready',
    onReconnect: listener => connections.onReconnect(listener),
    publish: channels.publish,
    subscribe: channels.subscribe
  }

  try {
    await connections.connect(options.connectTimeoutMs ?? 10_000)
  } catch (error) {
    await connections.close()
    throw new Error(`REDIS_URL: could not connect to ${redactUrl(url)}: ${(error as Error).message}`)
  }
  const version = await redisVersion(redis)
  if (app.config.redisAdapter === 'sharded' && version.major < 7) {
    await connections.close()
    throw new Error(`REDIS_ADAPTER=sharded needs Redis 7 or later for sharded pub/sub; ${redactUrl(url)} runs ${version.text}: upgrade it or set REDIS_ADAPTER=classic`)
  }
  log.info({ url: redactUrl(url), instanceId: cluster.instanceId, redisVersion: version.text, adapter: app.config.redisAdapter }, 'cluster: connected to Redis')

  app.decorate('cluster', cluster)
  const pingTimeoutMs = options.pingTimeoutMs ?? 1000
  app.readiness.add('redis', async () => {
    if (!cluster.isUp()) throw new Error(`redis: not connected (${connections.lastError?.message ?? 'reconnecting'})`)
    await withTimeout(redis.ping(), pingTimeoutMs, 'redis: no PING answer')
  })
  // Registered before the gateway, so this runs after Socket.IO (and its adapter) closed (onClose is LIFO).
  app.addHook('onClose', async () => {
    channels.clear()
    await connections.close()
  })
}

export default fp(clusterPlugin, { name: 'cluster', fastify: '5.x', dependencies: ['readiness'] })
