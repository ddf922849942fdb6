/**
 * The cluster plugin (`app.cluster`): with REDIS_URL set, three ioredis connections shared by every feature
 * (commands, publisher, subscriber), Parley's JSON channels on top of them, one place that notices an outage and
 * the recovery after it, and the `redis` readiness check. Without REDIS_URL `app.cluster` is null and nothing
 * else changes: a single instance.
 *
 * Boot: the start waits for all three connections and fails with an error naming REDIS_URL when Redis does not
 * answer in time (a wrong URL is an operator error worth a restart loop; an outage later is not: the instance keeps
 * serving REST and its own sockets and reconnects forever, with a backoff).
 */
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Redis, type RedisOptions } from 'ioredis'
import type { Cluster, ClusterListener } from './cluster.types.js'
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

/** Prefix of Parley's own pub/sub channels (the Socket.IO adapter uses `parley-socket.io...`). */
export const CHANNEL_PREFIX = 'parley:'

type ClientName = 'redis' | 'pub' | 'sub'

async function clusterPlugin (app: FastifyInstance, options: ClusterPluginOptions): Promise<void> {
  const url = app.config.redisUrl
  if (url === null) {
    app.decorate('cluster', null)
    return
  }
  const log = app.log.child({ component: 'cluster' })
  const maxDelay = options.maxRetryDelayMs ?? 2000
  const base: RedisOptions = {
    // Forever, with a growing delay: an outage ends when Redis is back, not when we give up.
    retryStrategy: attempt => Math.min(attempt * 200, maxDelay),
    connectionName: 'parley'
  }
  const clients: Record<ClientName, Redis> = {
    // Commands fail at once while Redis is down (callers fall back), never queue and hang.
    redis: new Redis(url, { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
    // Cross-instance emits during an outage are dropped (the messages are stored; clients `sync` after `resync`).
    pub: new Redis(url, { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
    // Subscriptions asked for while down wait for the connection; ioredis resubscribes after a reconnect.
    sub: new Redis(url, { ...base, maxRetriesPerRequest: null })
  }
  const all = Object.entries(clients) as Array<[ClientName, Redis]>
  const { redis, pub, sub } = clients

  // The Socket.IO adapter publishes and (un)subscribes without handling the promises: a command failed by an
  // outage or by closing during one must not become an unhandled rejection (which ends the process).
  for (const client of [pub, sub]) {
    for (const name of ['publish', 'subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe'] as const) {
      guardRejections(client, name, error => { log.debug({ err: error, command: name }, 'redis command failed') })
    }
  }

  let state: 'starting' | 'up' | 'down' | 'recovering' | 'closed' = 'starting'
  let lastError: Error | null = null
  const reconnectListeners = new Set<ClusterListener>()
  const allReady = (): boolean => all.every(([, client]) => client.status === 'ready')

  const markDown = (name: ClientName): void => {
    if (state !== 'up' && state !== 'recovering') return
    if (state === 'up') {
      log.warn({ client: name, reason: lastError?.message ?? 'connection closed' },
        'redis: connection lost; serving REST and local sockets, reconnecting')
    }
    state = 'down'
  }

  const checkRecovered = async (): Promise<void> => {
    if (state !== 'down' || !allReady()) return
    state = 'recovering'
    try {
      // Answered after the automatic resubscriptions (same connection, in order): cross-instance traffic flows again.
      await sub.ping()
    } catch {
      if (state !== 'recovering') return
      state = 'down'
      // No further 'ready' may come (every client is connected): try again shortly.
      setTimeout(() => { void checkRecovered() }, maxDelay).unref()
      return
    }
    if (state !== 'recovering' || !allReady()) return
    state = 'up'
    lastError = null
    log.info('redis: connection restored, cross-instance delivery resumed')
    for (const listener of reconnectListeners) {
      try {
        listener()
      } catch (error) {
        log.error({ err: error }, 'cluster reconnect listener failed')
      }
    }
  }

  for (const [name, client] of all) {
    // Without a listener ioredis prints every failed retry; the outage is logged once by markDown instead.
    client.on('error', (error: Error) => {
      lastError = error
      if (state === 'up') log.debug({ client: name, err: error }, 'redis client error')
    })
    client.on('close', () => { markDown(name) })
    client.on('ready', () => { void checkRecovered() })
  }

  // ---- Parley channels: JSON payloads on `parley:<name>` ----
  const channelListeners = new Map<string, Set<(payload: unknown) => void>>()
  sub.on('messageBuffer', (channelBuffer: Buffer, message: Buffer) => {
    const channel = channelBuffer.toString()
    if (!channel.startsWith(CHANNEL_PREFIX)) return
    const listeners = channelListeners.get(channel.slice(CHANNEL_PREFIX.length))
    if (listeners === undefined) return
    let payload: unknown
    try {
      payload = JSON.parse(message.toString())
    } catch {
      log.warn({ channel, bytes: message.length }, 'cluster channel: payload is not JSON, ignored')
      return
    }
    for (const listener of [...listeners]) {
      try {
        listener(payload)
      } catch (error) {
        log.error({ err: error, channel }, 'cluster channel listener failed')
      }
    }
  })

  const cluster: Cluster = {
    instanceId: `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`,
    redis,
    pub,
    sub,
    isUp: () => redis.status === 'ready',
    onReconnect (listener) {
      reconnectListeners.add(listener)
      return () => { reconnectListeners.delete(listener) }
    },
    publish (channel, payload) {
      let message: string
      try {
        message = JSON.stringify(payload)
      } catch (error) {
        log.error({ err: error, channel }, 'cluster publish: payload is not serialisable')
        return
      }
      pub.publish(CHANNEL_PREFIX + channel, message).catch((error: Error) => {
        // While down the outage was logged once already; a failure while up is worth a warning.
        if (state === 'up') log.warn({ err: error, channel }, 'cluster publish failed')
      })
    },
    subscribe (channel, listener) {
      let listeners = channelListeners.get(channel)
      if (listeners === undefined) {
        channelListeners.set(channel, listeners = new Set())
        sub.subscribe(CHANNEL_PREFIX + channel).catch((error: Error) => {
          log.error({ err: error, channel }, 'cluster subscribe failed')
        })
      }
      listeners.add(listener)
      return () => {
        const current = channelListeners.get(channel)
        if (current === undefined || !current.delete(listener) || current.size > 0) return
        channelListeners.delete(channel)
        if (state !== 'closed') sub.unsubscribe(CHANNEL_PREFIX + channel).catch(() => {})
      }
    }
  }

  const closeClients = async (): Promise<void> => {
    state = 'closed'
    await Promise.all(all.map(async ([, client]) => {
      if (client.status === 'ready') {
        await client.quit().catch(() => { client.disconnect() })
      } else {
        client.disconnect()
      }
    }))
  }

  try {
    await waitForAll(all, options.connectTimeoutMs ?? 10_000, () => lastError)
  } catch (error) {
    await closeClients()
    throw new Error(`REDIS_URL: could not connect to ${redactUrl(url)}: ${(error as Error).message}`)
  }
  state = 'up'
  log.info({ url: redactUrl(url), instanceId: cluster.instanceId }, 'cluster: connected to Redis')

  app.decorate('cluster', cluster)
  const pingTimeoutMs = options.pingTimeoutMs ?? 1000
  app.readiness.add('redis', async () => {
    if (!cluster.isUp()) throw new Error(`redis: not connected (${lastError?.message ?? 'reconnecting'})`)
    await withTimeout(redis.ping(), pingTimeoutMs, 'redis: no PING answer')
  })
  // Registered before the gateway, so this runs after Socket.IO (and its adapter) closed (onClose is LIFO).
  app.addHook('onClose', async () => {
    reconnectListeners.clear()
    channelListeners.clear()
    await closeClients()
  })
}

/**
 * Makes a client method's rejections handled (reported to `onError`); callers that await the returned promise still
 * see the error.
 */
function guardRejections (client: Redis, name: string, onError: (error: Error) => void): void {
  const target = client as unknown as Record<string, (...args: unknown[]) => unknown>
  const raw = target[name].bind(client)
  target[name] = (...args: unknown[]) => {
    const result = raw(...args)
    if (result instanceof Promise) result.catch(onError)
    return result
  }
}

async function waitForAll (clients: Array<[ClientName, Redis]>, timeoutMs: number, lastError: () => Error | null): Promise<void> {
  await withTimeout(Promise.all(clients.map(async ([, client]) => {
    if (client.status === 'ready') return
    await new Promise<void>(resolve => { client.once('ready', () => { resolve() }) })
  })), timeoutMs, () => `no connection within ${timeoutMs} ms (${lastError()?.message ?? 'no answer'})`)
}

export default fp(clusterPlugin, { name: 'cluster', fastify: '5.x', dependencies: ['readiness'] })
