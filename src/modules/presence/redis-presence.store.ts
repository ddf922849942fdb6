/**
 * Cluster-wide presence in Redis (used when REDIS_URL is set). Each instance keeps, per user, the number of its
 * own sockets in a shared hash (one field per instance), heartbeats in a registry, and reaps instances whose
 * heartbeat stopped: their users go offline within `ttlMs + 1.2 × reapMs` of the crash (defaults: ≤ 21 s).
 * The decisions ("first socket cluster-wide", "last one", "this dead instance is reaped") are Lua scripts
 * (redis-presence.scripts.ts), so each transition is pushed once, by one instance.
 *
 * `isOnline` is synchronous: this instance's own sockets, or a mirror of the shared online set kept from the
 * transitions the scripts publish, rebuilt at start, after an outage and every `mirrorResyncMs`. Redis failures
 * never reach the caller: they are logged, the answer falls back to the local view, and this instance
 * re-announces its sockets once Redis answers again (its counts may have been lost, or reaped meanwhile).
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Cluster } from '../../cluster/cluster.types.js'
import { addSocket, removeSocket, type PresenceStore, type PresenceTransition, type PresenceTransitionListener } from './presence.store.js'
import { presenceCommands, type PresenceCommands } from './redis-presence.scripts.js'
import { settlesWithin } from '../../shared/with-timeout.js'

export interface RedisPresenceTiming {
  /** An instance whose last heartbeat is older than this is dead and gets reaped. Default 15 000 ms. */
  ttlMs?: number
  /** Heartbeat period. Default 5 000 ms: two beats may be lost before the TTL runs out. */
  heartbeatMs?: number
  /** Reaper period, jittered by ±20 % so instances do not all reap at once. Default 5 000 ms. */
  reapMs?: number
  /** Full rebuild of the online mirror, which heals a lost pub/sub message. Default 60 000 ms. */
  mirrorResyncMs?: number
}

export interface RedisPresenceOptions extends RedisPresenceTiming {
  cluster: Cluster
  log: FastifyBaseLogger
}

const ONLINE_KEY = 'parley:presence:online'
/** Dead instances reaped per script call (each call is atomic: it bounds how long Redis is busy). */
const REAP_BATCH = 20

export class RedisPresenceStore implements PresenceStore {
  private readonly cluster: Cluster
  private readonly log: FastifyBaseLogger
  private readonly commands: PresenceCommands
  private timing: Required<RedisPresenceTiming>
  /** This instance's sockets: userId -> socket ids (the truth this instance re-announces). */
  private readonly local = new Map<string, Set<string>>()
  /** Users who left while Redis was unreachable, and when: their lastSeenAt once the resync removes them. */
  private readonly leftDuringOutage = new Map<string, Date>()
  /** Online users cluster-wide, as last heard. */
  private mirror = new Set<string>()
  private listener: PresenceTransitionListener | null = null
  private readonly pending = new Set<Promise<void>>()
  private state: 'idle' | 'running' | 'closed' | 'crashed' = 'idle'
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private readonly stops: Array<() => void> = []
  private syncing: Promise<void> | null = null
  private syncAgain = false
  /** Set after a failed command: the next heartbeat re-announces everything. */
  private needsSync = false
  private degraded = false
  /** No reaping before this (ms): after an outage every heartbeat is old, and the others must get to beat first. */
  private reapNotBefore = 0

  constructor (options: RedisPresenceOptions) {
    this.cluster = options.cluster
    this.log = options.log
    this.timing = timingOf(options)
    this.commands = presenceCommands(this.cluster.redis)
  }

  onTransitions (listener: PresenceTransitionListener): void {
    this.listener = listener
  }

  async start (): Promise<void> {
    if (this.state !== 'idle') return
    this.state = 'running'
    this.stops.push(this.cluster.subscribe('presence', payload => { this.heard(payload) }))
    // Answered after the SUBSCRIBE (same connection, in order): the mirror then misses no transition. Bounded, as
    // the subscriber queues while Redis is down.
    await settlesWithin(this.cluster.sub.ping(), 1000)
    this.stops.push(this.cluster.onReconnect(() => {
      this.reapNotBefore = Date.now() + this.timing.ttlMs
      void this.resync()
    }))
    await this.resync()
    this.schedule()
  }

  /** Changes the timing while running (tests use short values); restarts the timers. */
  retime (timing: RedisPresenceTiming): void {
    this.timing = timingOf({ ...this.timing, ...timing })
    if (this.state === 'running') this.schedule()
  }

  async add (userId: string, socketId: string): Promise<boolean> {
    if (this.local.get(userId)?.has(socketId) === true) return false
    const first = addSocket(this.local, userId, socketId)
    return await this.setCount(userId, first, 1)
  }

  async remove (userId: string, socketId: string): Promise<boolean> {
    if (this.local.get(userId)?.has(socketId) !== true) return false
    const last = removeSocket(this.local, userId, socketId)
    return await this.setCount(userId, last, -1)
  }

  isOnline (userId: string): boolean {
    return this.local.has(userId) || this.mirror.has(userId)
  }

  async onlineAmong (userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0 || this.state !== 'running') return new Set(userIds.filter(id => this.isOnline(id)))
    try {
      const flags = await this.cluster.redis.smismember(ONLINE_KEY, ...userIds)
      this.recovered()
      // Own sockets count even when their add is still on its way to Redis.
      return new Set(userIds.filter((id, i) => flags[i] === 1 || this.local.has(id)))
    } catch (error) {
      this.failed(error)
      return new Set(userIds.filter(id => this.isOnline(id)))
    }
  }

  async count (): Promise<number> {
    if (this.state === 'running') {
      try {
        const count = await this.cluster.redis.scard(ONLINE_KEY)
        this.recovered()
        return count
      } catch (error) {
        this.failed(error)
      }
    }
    return new Set([...this.mirror, ...this.local.keys()]).size
  }

  /** Graceful leave: this instance's fields go (its remaining users offline at once), timers stop. */
  async close (): Promise<void> {
    if (this.state !== 'running') {
      if (this.state === 'idle') this.state = 'closed'
      return
    }
    this.stopAll()
    try {
      const went = await this.commands.leave(this.cluster.instanceId)
      const at = new Date()
      this.emit(went.map(userId => ({ userId, online: false, at })))
    } catch (error) {
      this.failed(error)
    }
    await this.settled()
  }

  /** Tests only: stop like a crashed process (no leave, no heartbeat, nothing more written to Redis). */
  simulateCrash (): void {
    this.stopAll()
    this.state = 'crashed'
  }

  /** Resolves when the transition listeners started so far have finished. */
  async settled (): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending)
  }

  private async setCount (userId: string, localAnswer: boolean, delta: 1 | -1): Promise<boolean> {
    const count = this.local.get(userId)?.size ?? 0
    // A crashed process says nothing more; a closed one answers for itself (nothing shared is left).
    if (this.state === 'crashed') return false
    if (this.state !== 'running') return localAnswer
    try {
      const [transition, registered] = await this.commands.set(this.cluster.instanceId, userId, count)
      this.recovered()
      // Missing from the registry: reaped while alive, or Redis lost its data. Re-announce everything.
      if (registered === 0) void this.resync()
      return transition === delta
    } catch (error) {
      this.failed(error)
      // The mirror follows the local answer, so isOnline agrees with what the service was told.
      if (localAnswer && delta === 1) this.mirror.add(userId)
      if (localAnswer && delta === -1) {
        this.mirror.delete(userId)
        this.leftDuringOutage.set(userId, new Date())
      }
      return localAnswer
    }
  }

  /** Replaces this instance's state in Redis with its sockets, then rebuilds the mirror. Runs one at a time. */
  private async resync (): Promise<void> {
    if (this.syncing !== null) {
      this.syncAgain = true
      return await this.syncing
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false
        await this.syncOnce()
      } while (this.syncAgain && this.state === 'running')
    })().finally(() => { this.syncing = null })
    return await this.syncing
  }

  private async syncOnce (): Promise<void> {
    if (this.state !== 'running') return
    const state: string[] = []
    for (const [userId, sockets] of this.local) state.push(userId, String(sockets.size))
    try {
      const [came, went] = await this.commands.sync(this.cluster.instanceId, state)
      this.needsSync = false
      this.recovered()
      const now = new Date()
      const transitions: PresenceTransition[] = came.map(userId => ({ userId, online: true, at: now }))
      for (const userId of went) transitions.push({ userId, online: false, at: this.leftDuringOutage.get(userId) ?? now })
      this.leftDuringOutage.clear()
      await this.rebuildMirror()
      this.emit(transitions)
    } catch (error) {
      this.failed(error)
    }
  }

  private async rebuildMirror (): Promise<void> {
    try {
      this.mirror = new Set(await this.cluster.redis.smembers(ONLINE_KEY))
    } catch (error) {
      this.failed(error)
    }
  }

  private async heartbeat (): Promise<void> {
    if (this.needsSync) return await this.resync()
    try {
      if (await this.commands.heartbeat(this.cluster.instanceId) === 0) await this.resync()
      else this.recovered()
    } catch (error) {
      this.failed(error)
    }
  }

  private async reap (): Promise<void> {
    if (Date.now() < this.reapNotBefore) return
    try {
      const flat = await this.commands.reap(this.cluster.instanceId, this.timing.ttlMs, REAP_BATCH)
      this.recovered()
      const transitions: PresenceTransition[] = []
      for (let i = 0; i < flat.length; i += 2) transitions.push({ userId: flat[i], online: false, at: new Date(Number(flat[i + 1])) })
      if (transitions.length > 0) this.log.info({ users: transitions.length }, 'presence: reaped a dead instance, its users are offline')
      this.emit(transitions)
    } catch (error) {
      this.failed(error)
    }
  }

  /** A transition published by a script (any instance, this one included). */
  private heard (payload: unknown): void {
    if (typeof payload !== 'object' || payload === null) return
    const { userId, online } = payload as { userId?: unknown, online?: unknown }
    if (typeof userId !== 'string' || typeof online !== 'boolean') return
    if (online) this.mirror.add(userId)
    else this.mirror.delete(userId)
  }

  private emit (transitions: PresenceTransition[]): void {
    const listener = this.listener
    if (transitions.length === 0 || listener === null) return
    const work: Promise<void> = Promise.resolve()
      .then(async () => { await listener(transitions) })
      .catch(error => { this.log.error({ err: error }, 'presence: transition listener failed') })
      .finally(() => { this.pending.delete(work) })
    this.pending.add(work)
  }

  private schedule (): void {
    const every = (name: string, periodMs: number, jitter: boolean, task: () => Promise<void>): void => {
      clearTimeout(this.timers.get(name))
      const next = (): void => {
        const delay = jitter ? periodMs * (0.8 + Math.random() * 0.4) : periodMs
        this.timers.set(name, setTimeout(() => {
          void task().finally(() => { if (this.state === 'running') next() })
        }, delay).unref())
      }
      next()
    }
    every('heartbeat', this.timing.heartbeatMs, false, async () => { await this.heartbeat() })
    every('reap', this.timing.reapMs, true, async () => { await this.reap() })
    every('mirror', this.timing.mirrorResyncMs, true, async () => { await this.rebuildMirror() })
  }

  private stopAll (): void {
    this.state = 'closed'
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
    for (const stop of this.stops.splice(0)) stop()
  }

  private failed (error: unknown): void {
    this.needsSync = true
    this.reapNotBefore = Date.now() + this.timing.ttlMs
    if (this.degraded) return
    this.degraded = true
    this.log.warn({ err: error }, 'presence: Redis unavailable, answering from this instance until it is back')
  }

  private recovered (): void {
    if (!this.degraded) return
    this.degraded = false
    this.log.info('presence: Redis answers again')
  }
}

function timingOf (timing: RedisPresenceTiming): Required<RedisPresenceTiming> {
  return {
    ttlMs: timing.ttlMs ?? 15_000,
    heartbeatMs: timing.heartbeatMs ?? 5_000,
    reapMs: timing.reapMs ?? 5_000,
    mirrorResyncMs: timing.mirrorResyncMs ?? 60_000
  }
}
