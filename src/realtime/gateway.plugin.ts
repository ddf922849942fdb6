/**
 * The Socket.IO gateway (`app.realtime`): one Server on the app's HTTP server at `/socket.io`. It authenticates
 * handshakes, puts each socket in its user's room and its conversations' rooms, dispatches client events to the
 * registered handlers (validation and acks in ack.ts), and disconnects every socket of a session the moment that
 * session is revoked (logout, password change, account disabled or deleted), on every instance that hears of it
 * through the revocation list. A socket lives as long as its access token (plus a short grace) unless the client
 * renews it with `auth_refresh` (socket-session.ts).
 *
 * With a cluster (REDIS_URL) the Redis adapter carries emits, room joins/leaves and disconnects to every instance;
 * after a Redis outage the local sockets' rooms are repaired and each socket is told to `resync`.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Server } from 'socket.io'
import type { ConversationRoomsResolver, Notifier, SocketContext, SocketHandler, SocketHandlers } from './contracts.js'
import type { ClientEventName } from './events.js'
import { ackError, compileEvent, splitArgs, type EventRunner } from './ack.js'
import { authenticateHandshake, isRefusal, type SocketAuth } from './socket-auth.js'
import { authRefreshHandler, deadlineOf, ExpiryTimer } from './socket-session.js'
import { SocketRegistry } from './socket-registry.js'
import { SocketDrain } from './drain.js'
import { unauthorized } from '../shared/errors.js'
import { createNotifier } from './notifier.js'
import { conversationRoom, userRoom } from './rooms.js'
import type { ParleyServer, ParleySocket } from './socket-types.js'
import { createClusterAdapter, type ClusterAdapterOptions } from '../cluster/socket-adapter.js'
import { resyncLocalSockets } from '../cluster/resync.js'

export type { ParleyServer, ParleySocket } from './socket-types.js'
export { DRAIN_TIMEOUT_MS } from './drain.js'

/** Told about every socket after it joined its rooms. Errors are logged, never fatal. */
export type ConnectionListener = (socket: ParleySocket) => void | Promise<void>
/** Told about every socket that left, with the rooms it was in. */
export type DisconnectionListener = (socket: ParleySocket, rooms: string[]) => void | Promise<void>

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
  if (app.cluster !== null) io.adapter(createClusterAdapter(app.cluster, options.adapter))
  return io
}

/** Runs a lifecycle listener; its failure is logged, never the socket's problem. */
function callListener (app: FastifyInstance, run: () => void | Promise<void>): void {
  try {
    Promise.resolve(run()).catch(error => app.log.error({ err: error }, 'realtime lifecycle listener failed'))
  } catch (error) {
    app.log.error({ err: error }, 'realtime lifecycle listener failed')
  }
}

async function gatewayPlugin (app: FastifyInstance, options: GatewayOptions): Promise<void> {
  const io = createServer(app, options)
  const registry = new SocketRegistry()
  const drain = new SocketDrain()
  const runners = new Map<string, EventRunner>()
  const connectionListeners: ConnectionListener[] = []
  const disconnectionListeners: DisconnectionListener[] = []
  let resolveRooms: ConversationRoomsResolver | null = null

  const register = <E extends ClientEventName>(name: E, handle: SocketHandler<E>): void => {
    if (runners.has(name)) throw new Error(`Socket event "${name}" is registered twice`)
    runners.set(name, compileEvent(name, handle, app.log))
  }

  /** `auth_refresh` after its token checks passed: the socket now belongs to the token's session and deadline. */
  const rebind = (context: SocketContext, auth: SocketAuth): { expiresAt: string } => {
    const entry = registry.get(context.socketId)
    if (entry === undefined || !entry.socket.connected) throw unauthorized('The socket has closed')
    // Revoked while the account was read: its revocation listener has already run, so refuse here.
    if (app.revocation.isRevoked(auth.sid)) throw unauthorized('The session was revoked')
    const { socket, expiry } = entry
    const expiresAt = auth.expiresAt.toISOString()
    registry.moveSession(socket, auth.sid)
    socket.data.sid = context.sid = auth.sid
    socket.data.role = context.role = auth.role
    socket.data.tokenExpiresAt = expiresAt
    expiry.arm(deadlineOf(auth.expiresAt))
    return { expiresAt }
  }
  register('auth_refresh', authRefreshHandler(app, rebind))

  io.use((socket, next) => {
    // Draining (SIGTERM): new sockets belong on another instance; the client retries through the load balancer.
    if (drain.draining) return next(Object.assign(new Error('unavailable'), { data: { code: 'SHUTTING_DOWN' } }))
    authenticateHandshake(app, socket.handshake).then(({ expiresAt, ...data }) => {
      socket.data = { ...data, conversationIds: [], tokenExpiresAt: expiresAt.toISOString() }
      next()
    }, (error: Error) => {
      if (isRefusal(error)) return next(error)
      app.log.error({ err: error }, 'socket handshake failed')
      next(Object.assign(new Error('unavailable'), { data: { code: 'INTERNAL_ERROR' } }))
    })
  })

  /**
   * Joins the socket's conversation rooms. Read only once the socket is connected and in its user room, so a
   * membership added meanwhile (socketsJoin through the user room) is either in the read or reaches the socket.
   * False when the socket should not be served (resolver failed, or it left meanwhile).
   */
  const joinConversationRooms = async (socket: ParleySocket): Promise<boolean> => {
    try {
      const conversationIds = resolveRooms !== null ? await resolveRooms(socket.data.userId) : []
      // A socket that left must not join: the adapter would keep rooms for a dead id.
      if (!socket.connected) return false
      socket.data.conversationIds = conversationIds
      if (conversationIds.length > 0) await socket.join(conversationIds.map(conversationRoom))
      return true
    } catch (error) {
      app.log.error({ err: error, userId: socket.data.userId }, 'socket rooms: resolver failed, disconnecting')
      socket.disconnect(true)
      return false
    }
  }

  /** Client events wait for the rooms: a handler never runs for a socket that is not yet where it belongs. */
  const dispatch = (socket: ParleySocket, context: SocketContext, ready: Promise<boolean>): void => {
    socket.onAny((event: string, ...args: unknown[]) => {
      void ready.then(ok => {
        if (!ok || !socket.connected) return
        const runner = runners.get(event)
        if (runner !== undefined) return runner(context, args)
        // Unknown events change nothing; an ack, if sent, is still answered.
        const { ack } = splitArgs(args)
        try {
          ack?.(ackError('UNKNOWN_EVENT', 'No such event'))
        } catch {}
      })
    })
  }

  io.on('connection', socket => {
    const { userId, sid, role } = socket.data
    void socket.join(userRoom(userId))
    const context: SocketContext = { userId, sid, role, socketId: socket.id }
    const expiry = new ExpiryTimer(() => {
      // The token ran out without a refresh: tell the client why, then close (server-side: no auto-reconnect).
      if (!socket.connected) return
      socket.emit('session_expired', { action: 'session_expired', reason: 'token_expired' })
      socket.disconnect(true)
    })
    expiry.arm(deadlineOf(socket.data.tokenExpiresAt))
    registry.add({ socket, context, expiry })
    let rooms: string[] = []
    socket.on('disconnecting', () => { rooms = [...socket.rooms] })
    socket.on('disconnect', () => {
      registry.remove(socket)
      for (const listener of disconnectionListeners) callListener(app, () => listener(socket, rooms))
    })
    // The session may have been revoked between the token check and now.
    if (app.revocation.isRevoked(sid)) {
      socket.disconnect(true)
      return
    }
    const ready = joinConversationRooms(socket)
    dispatch(socket, context, ready)
    void ready.then(ok => {
      if (!ok || !socket.connected) return
      for (const listener of connectionListeners) callListener(app, () => listener(socket))
    })
  })

  const stopListening = app.revocation.onRevoked(revocation => {
    for (const socket of registry.ofSession(revocation.sid)) socket.disconnect(true)
  })
  // Redis is back: repair rooms changed meanwhile on other instances, then tell the clients to `sync`.
  let resyncing: Promise<void> | null = null
  const stopResync = app.cluster?.onReconnect(() => {
    resyncing = resyncLocalSockets({ sockets: registry.sockets(), resolveRooms, log: app.log })
      .catch(error => { app.log.error({ err: error }, 'resync after the Redis outage failed') })
      .finally(() => { resyncing = null })
  }) ?? (() => {})

  app.decorate('realtime', {
    io,
    notifier: createNotifier(io),
    registerEvents (handlers: SocketHandlers) {
      for (const name of Object.keys(handlers) as ClientEventName[]) register(name, handlers[name] as SocketHandler<typeof name>)
    },
    setConversationRooms (resolver: ConversationRoomsResolver) { resolveRooms = resolver },
    onConnection (listener: ConnectionListener) { connectionListeners.push(listener) },
    onDisconnection (listener: DisconnectionListener) { disconnectionListeners.push(listener) },
    localSocketsOfSession (sid: string) { return registry.ofSession(sid).length },
    onDrain (task: () => Promise<void>) { drain.add(task) }
  } satisfies Realtime)

  app.addHook('preClose', async () => { await drain.run(io, app.log) })
  app.addHook('onClose', async () => {
    stopListening()
    stopResync()
    await resyncing
    // io.close() also closes the HTTP server, which Fastify closes itself: that second close's error is expected.
    await new Promise<void>(resolve => { void io.close(() => { resolve() }) })
  })
}

export default fp(gatewayPlugin, { name: 'realtime', fastify: '5.x', dependencies: ['auth', 'cluster'] })
