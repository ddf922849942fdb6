/**
 * The three ioredis connections every feature shares (commands, publisher, subscriber) and the one place that
 * notices an outage and the recovery after it: the outage is logged once, the recovery once, and reconnect
 * listeners run after every connection is back and the subscriber has resubscribed.
 */
import type { FastifyBaseLogger } from 'fastify'
import { Redis, type RedisOptions } from 'ioredis'
import type { ClusterListener } from './cluster.types.js'
import { withTimeout } from '../shared/with-timeout.js'

type ClientName = 'redis' | 'pub' | 'sub'
type LinkState = 'starting' | 'up' | 'down' | 'recovering' | 'closed'

export interface RedisConnectionOptions {
  url: string
  log: FastifyBaseLogger
  /** Longest wait between reconnection attempts (the backoff grows by 200 ms per attempt up to this). */
  maxRetryDelayMs: number
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

export class RedisConnections {
  readonly redis: Redis
  readonly pub: Redis
  readonly sub: Redis
  private readonly all: Array<[ClientName, Redis]>
  private readonly log: FastifyBaseLogger
  private readonly maxDelay: number
  private readonly reconnectListeners = new Set<ClusterListener>()
  private state: LinkState = 'starting'
  /** The last client error, for the messages of a failed start or a failing readiness check. */
  lastError: Error | null = null

  constructor (options: RedisConnectionOptions) {
    this.log = options.log
    this.maxDelay = options.maxRetryDelayMs
    const base: RedisOptions = {
      // Forever, with a growing delay: an outage ends when Redis is back, not when we give up.
      retryStrategy: attempt => Math.min(attempt * 200, this.maxDelay),
      connectionName: 'parley'
    }
    // Commands fail at once while Redis is down (callers fall back), never queue and hang.
    this.redis = new Redis(options.url, { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    // Cross-instance emits during an outage are dropped (the messages are stored; clients `sync` after `resync`).
    this.pub = new Redis(options.url, { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    // Subscriptions asked for while down wait for the connection; ioredis resubscribes after a reconnect.
    this.sub = new Redis(options.url, { ...base, maxRetriesPerRequest: null })
    this.all = [['redis', this.redis], ['pub', this.pub], ['sub', this.sub]]

    // The Socket.IO adapter publishes and (un)subscribes without handling the promises: a command failed by an
    // outage or by closing during one must not become an unhandled rejection (which ends the process).
    for (const client of [this.pub, this.sub]) {
      for (const name of ['publish', 'subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'spublish', 'ssubscribe', 'sunsubscribe'] as const) {
        guardRejections(client, name, error => { this.log.debug({ err: error, command: name }, 'redis command failed') })
      }
    }
    for (const [name, client] of this.all) {
      // Without a listener ioredis prints every failed retry; the outage is logged once by markDown instead.
      client.on('error', (error: Error) => {
        this.lastError = error
        if (this.state === 'up') this.log.debug({ client: name, err: error }, 'redis client error')
      })
      client.on('close', () => { this.markDown(name) })
      client.on('ready', () => { void this.checkRecovered() })
    }
  }

  get isUp (): boolean { return this.state === 'up' }
  get isClosed (): boolean { return this.state === 'closed' }

  /** Resolves once all three connections are ready; rejects after `timeoutMs` naming the last error. */
  async connect (timeoutMs: number): Promise<void> {
    await withTimeout(Promise.all(this.all.map(async ([, client]) => {
      if (client.status === 'ready') return
      await new Promise<void>(resolve => { client.once('ready', () => { resolve() }) })
    })), timeoutMs, () => `no connection within ${timeoutMs} ms (${this.lastError?.message ?? 'no answer'})`)
    this.state = 'up'
  }

  onReconnect (listener: ClusterListener): () => void {
    this.reconnectListeners.add(listener)
    return () => { this.reconnectListeners.delete(listener) }
  }

  async close (): Promise<void> {
    this.state = 'closed'
    this.reconnectListeners.clear()
    await Promise.all(this.all.map(async ([, client]) => {
      if (client.status === 'ready') {
        await client.quit().catch(() => { client.disconnect() })
      } else {
        client.disconnect()
      }
    }))
  }

  private allReady (): boolean {
    return this.all.every(([, client]) => client.status === 'ready')
  }

  private markDown (name: ClientName): void {
    if (this.state !== 'up' && this.state !== 'recovering') return
    if (this.state === 'up') {
      this.log.warn({ client: name, reason: this.lastError?.message ?? 'connection closed' },
        'redis: connection lost; serving REST and local sockets, reconnecting')
    }
    this.state = 'down'
  }

  private async checkRecovered (): Promise<void> {
    if (this.state !== 'down' || !this.allReady()) return
    this.state = 'recovering'
    try {
      // Answered after the automatic resubscriptions (same connection, in order): cross-instance traffic flows again.
      await this.sub.ping()
    } catch {
      if (this.state !== 'recovering') return
      this.state = 'down'
      // No further 'ready' may come (every client is connected): try again shortly.
      setTimeout(() => { void this.checkRecovered() }, this.maxDelay).unref()
      return
    }
    if (this.state !== 'recovering' || !this.allReady()) return
    this.state = 'up'
    this.lastError = null
    this.log.info('redis: connection restored, cross-instance delivery resumed')
    for (const listener of this.reconnectListeners) {
      try {
        listener()
      } catch (error) {
        this.log.error({ err: error }, 'cluster reconnect listener failed')
      }
    }
  }
}
