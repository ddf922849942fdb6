/**
 * The Socket.IO gateway (`app.realtime`): one Server on the app's HTTP server at `/socket.io`. It authenticates
 * handshakes, puts each socket in its user's room and its conversations' rooms, dispatches client events to the
 * registered handlers (validation and acks in ack.ts), and disconnects every socket of a session the moment that
 * session is revoked (logout, password change, account disabled or deleted), on every instance that hears of it
 * through the revocation list. A socket lives as long as its access token (plus a short grace) unless the client
 * renews it with `auth_refresh` (socket-session.ts).
 *
 * With a cluster (REDIS_URL) the Redis adapter carries emits and disconnects to every instance, and room joins/leaves
 * wait for every instance's confirmation (room-membership.ts);
 * after a Redis outage the local sockets' rooms are repaired and each socket is told to `resync`.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Server } from 'socket.io'
import { RateLimiterMemory } from 'rate-limiter-flexible'
import { clusterLimiterFactory, consumePoint, type LimiterSpec } from '../cluster/rate-limiters.js'
import type { ConversationRoomsResolver, Notifier, SocketContext, SocketHandler, SocketHandlers } from './contracts.js'
import type { ClientEventName } from './events.js'
import { compileEvent, type EventRunner } from './ack.js'
import { authenticateHandshake, forgetHandshakeToken, isRefusal, type SocketAuth } from './socket-auth.js'
import { authRefreshHandler, deadlineOf, ExpiryWheel } from './socket-session.js'
import { connectionHandler, sessionExpirer, type ConnectionListener, type DisconnectionListener } from './connection.js'
import { SocketRegistry, type LiveSocket } from './socket-registry.js'
import { RoomNames } from './rooms.js'
import { SocketDrain } from './drain.js'
import { AppError, unauthorized } from '../shared/errors.js'
import { createNotifier } from './notifier.js'
import { RoomMembership } from './room-membership.js'
import { instanceSocketsCounter, type InstanceSockets } from './instance-sockets.js'
import { hostname } from 'node:os'
import type { ParleyServer } from './socket-types.js'
import { createClusterAdapter, DEFAULT_REQUESTS_TIMEOUT_MS, type ClusterAdapterOptions } from '../cluster/socket-adapter.js'
import { resyncLocalSockets } from '../cluster/resync.js'
import { noRealtimeMetrics } from './realtime-metrics.js'

export type { ConnectionListener, DisconnectionListener } from './connection.js'

export interface Realtime {
  io: ParleyServer
  notifier: Notifier
  /** Adds a module's client event handlers; a name registered twice is a programming error (throws). */
  registerEvents: (handlers: SocketHandlers) => void
  /** Where connecting sockets learn their conversation rooms (none until set). */
  setConversationRooms: (resolver: ConversationRoomsResolver) => void
  /** Lifecycle hooks (presence uses them). */
  onConnection: (listener: ConnectionListener) => void
  onDisconnection: (listener: DisconnectionListener) => void
  /** This instance's sockets of a session (what a revocation disconnects). */
  localSocketsOfSession: (sid: string) => number
  /** Work to finish before the sockets close at shutdown (in-flight sends), while their acks can still go out. */
  onDrain: (task: () => Promise<void>) => void
  /** Connected sockets per instance of the cluster that answered (this one alone without a cluster). */
  instanceSockets: () => Promise<InstanceSockets[]>
}

declare module 'fastify' {
  interface FastifyInstance {
    realtime: Realtime
  }
}

export interface GatewayOptions {
  /** Socket.IO ping interval; default 25 000 ms (Socket.IO's). */
  pingIntervalMs?: number
  /** Socket.IO ping timeout; default 20 000 ms (Socket.IO's). */
  pingTimeoutMs?: number
  /** Largest message a client may send; default 1 MiB (Socket.IO's), uploads go over REST. */
  maxHttpBufferSize?: number
  /** The Redis adapter's options (only with a cluster); see socket-adapter.ts. */
  adapter?: ClusterAdapterOptions
}

function createServer (app: FastifyInstance, options: GatewayOptions): ParleyServer {
  const { corsOrigins } = app.config
  const io: ParleyServer = new Server(app.server, {
    path: '/socket.io',
    serveClient: false,
    // Only when set: an explicit undefined would override Socket.IO's defaults (and time every client out).
    ...(options.pingIntervalMs !== undefined ? { pingInterval: options.pingIntervalMs } : {}),
    ...(options.pingTimeoutMs !== undefined ? { pingTimeout: options.pingTimeoutMs } : {}),
    maxHttpBufferSize: options.maxHttpBufferSize ?? 1024 * 1024,
    cors: { origin: corsOrigins === '*' ? true : corsOrigins.length > 0 ? corsOrigins : false, credentials: true }
  })
  if (app.cluster !== null) io.adapter(createClusterAdapter(app.cluster, { mode: app.config.redisAdapter, ...options.adapter }))
  return io
}

/** Sockets one user may have open on one instance (all devices and tabs); past it the handshake is refused. */
export const MAX_SOCKETS_PER_USER = 20
/** Handshakes per user per minute, across the cluster (a reconnect loop cannot flood presence and the database). */
export const HANDSHAKES_PER_MINUTE = 60

const memoryLimiter = (spec: LimiterSpec): RateLimiterMemory => new RateLimiterMemory(spec)

async function gatewayPlugin (app: FastifyInstance, options: GatewayOptions): Promise<void> {
  const io = createServer(app, options)
  const registry = new SocketRegistry()
  // One timer for every socket's token deadline.
  const expiries = new ExpiryWheel<LiveSocket>(sessionExpirer(app), error => { app.log.error({ err: error }, 'socket expiry failed') })
  const confirmTimeoutMs = (options.adapter?.requestsTimeoutMs ?? DEFAULT_REQUESTS_TIMEOUT_MS) + 1000
  const membership = new RoomMembership(io, { cluster: app.cluster, confirmTimeoutMs, log: app.log })
  const instanceId = app.cluster?.instanceId ?? `${hostname()}-${process.pid}`
  const drain = new SocketDrain()
  // Optional: the metrics plugin, registered before the gateway, provides it; nothing is measured otherwise.
  const metrics = app.realtimeMetrics ?? noRealtimeMetrics
  metrics.countSockets(() => registry.size)
  const runners = new Map<string, EventRunner>()
  const connectionListeners: ConnectionListener[] = []
  const disconnectionListeners: DisconnectionListener[] = []
  let resolveRooms: ConversationRoomsResolver | null = null
  // Per user on this instance: it counts on the hot path, where a Redis round trip per event would cost too much.
  const perTenSeconds = app.config.rateLimitSocketEvents
  const eventLimiter = perTenSeconds > 0 ? new RateLimiterMemory({ keyPrefix: 'socket-events', points: perTenSeconds, duration: 10 }) : null
  const handshakes = perTenSeconds > 0 ? (clusterLimiterFactory(app) ?? memoryLimiter)({ keyPrefix: 'handshakes', points: HANDSHAKES_PER_MINUTE, duration: 60 }) : null

  const register = <E extends ClientEventName>(name: E, handle: SocketHandler<E>): void => {
    if (runners.has(name)) throw new Error(`Socket event "${name}" is registered twice`)
    runners.set(name, compileEvent(name, handle, app.log, metrics.clientEvent(name)))
  }

  /** `auth_refresh` after its token checks passed: the socket now belongs to the token's session and deadline. */
  const rebind = (context: SocketContext, auth: SocketAuth): { expiresAt: string } => {
    const entry = registry.get(context.socketId)
    if (entry === undefined || !entry.socket.connected) throw unauthorized('The socket has closed')
    // Revoked while the account was read: its revocation listener has already run, so refuse here.
    if (app.revocation.isRevoked(auth.sid)) throw unauthorized('The session was revoked')
    const { socket } = entry
    const expiresAt = auth.expiresAt.toISOString()
    registry.moveSession(socket, auth.sid)
    socket.data.sid = context.sid = auth.sid
    socket.data.role = context.role = auth.role
    socket.data.tokenExpiresAt = expiresAt
    expiries.arm(entry, deadlineOf(auth.expiresAt))
    return { expiresAt }
  }
  register('auth_refresh', authRefreshHandler(app, rebind))

  /** Why a user may not open another socket now (too many open here, or too many handshakes), or null. */
  const handshakeRefusal = async (userId: string): Promise<string | null> => {
    if (registry.countOfUser(userId) >= MAX_SOCKETS_PER_USER) return `At most ${MAX_SOCKETS_PER_USER} sockets per user on one instance`
    try {
      await consumePoint(handshakes, userId, 'connections')
      return null
    } catch (error) {
      if (!(error instanceof AppError)) throw error
      return error.message
    }
  }

  io.use((socket, next) => {
    // Draining (SIGTERM): new sockets belong on another instance; the client retries through the load balancer.
    if (drain.draining) return next(Object.assign(new Error('unavailable'), { data: { code: 'SHUTTING_DOWN' } }))
    authenticateHandshake(app, socket.handshake).then(async ({ userId, sid, role, lastSeenAt, expiresAt }) => {
      const refused = await handshakeRefusal(userId)
      if (refused !== null) return next(Object.assign(new Error('unavailable'), { data: { code: 'RATE_LIMITED', message: refused } }))
      // Spelt out: a spread copy gets a hidden class of its own per socket.
      socket.data = { userId, sid, role, lastSeenAt, tokenExpiresAt: expiresAt.toISOString() }
      // Checked: the socket need not carry its bearer token (`auth_refresh` brings the next one).
      forgetHandshakeToken(socket.handshake)
      next()
    }, (error: Error) => {
      if (isRefusal(error)) return next(error)
      app.log.error({ err: error }, 'socket handshake failed')
      next(Object.assign(new Error('unavailable'), { data: { code: 'INTERNAL_ERROR' } }))
    })
  })

  const roomNames = new RoomNames(io.of('/').adapter)
  io.on('connection', connectionHandler({
    app, registry, expiries, roomNames, membership, runners, resolveRooms: () => resolveRooms, connectionListeners, disconnectionListeners, eventLimiter, metrics
  }))

  const stopListening = app.revocation.onRevoked(revocation => {
    for (const socket of registry.ofSession(revocation.sid)) socket.disconnect(true)
  })
  // Redis is back: repair rooms changed meanwhile on other instances, then tell the clients to `sync`.
  let resyncing: Promise<void> | null = null
  const stopResync = app.cluster?.onReconnect(() => {
    resyncing = resyncLocalSockets({ sockets: registry.sockets(), resolveRooms, membership, log: app.log })
      .catch(error => { app.log.error({ err: error }, 'resync after the Redis outage failed') })
      .finally(() => { resyncing = null })
  }) ?? (() => {})

  app.decorate('realtime', {
    io,
    notifier: createNotifier(io, membership, metrics),
    registerEvents (handlers: SocketHandlers) {
      for (const name of Object.keys(handlers) as ClientEventName[]) register(name, handlers[name] as SocketHandler<typeof name>)
    },
    setConversationRooms (resolver: ConversationRoomsResolver) { resolveRooms = resolver },
    onConnection (listener: ConnectionListener) { connectionListeners.push(listener) },
    onDisconnection (listener: DisconnectionListener) { disconnectionListeners.push(listener) },
    localSocketsOfSession (sid: string) { return registry.ofSession(sid).length },
    onDrain (task: () => Promise<void>) { drain.add(task) },
    instanceSockets: instanceSocketsCounter(io, instanceId, app.cluster, confirmTimeoutMs)
  } satisfies Realtime)

  app.addHook('preClose', async () => { await drain.run(io, app.log) })
  app.addHook('onClose', async () => {
    expiries.stop()
    stopListening()
    stopResync()
    await resyncing
    // io.close() also closes the HTTP server, which Fastify closes itself: that second close's error is expected.
    await new Promise<void>(resolve => { void io.close(() => { resolve() }) })
  })
}

export default fp(gatewayPlugin, { name: 'realtime', fastify: '5.x', dependencies: ['auth', 'cluster'] })
