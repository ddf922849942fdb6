/**
 * The Socket.IO gateway (`app.realtime`): one Server on the app's HTTP server at `/socket.io`. It authenticates
 * handshakes, puts each socket in its user's room and its conversations' rooms, dispatches client events to the
 * registered SocketEventModules (validation and acks in ack.ts), and disconnects every socket of a session the
 * moment that session is revoked (logout, password change, account disabled or deleted), on every instance that
 * hears of it through the revocation list. A socket lives as long as its access token (plus a short grace) unless
 * the client renews it with `auth_refresh` (socket-session.ts).
 *
 * With a cluster (REDIS_URL) the Redis adapter carries emits, room joins/leaves and disconnects to every instance;
 * after a Redis outage the local sockets' rooms are repaired and each socket is told to `resync`.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Server, type Socket } from 'socket.io'
import type { ConversationRoomsResolver, SocketContext, SocketEventModule } from './contracts.js'
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from './events.js'
import { ackError, compileEvent, splitArgs, type EventRunner } from './ack.js'
import { authenticateHandshake, isRefusal, type SocketAuth } from './socket-auth.js'
import { authRefreshEvent, deadlineOf, ExpiryTimer } from './socket-session.js'
import { unauthorized } from '../shared/errors.js'
import { createNotifier, type RoomNotifier } from './notifier.js'
import { conversationRoom, userRoom } from './rooms.js'
import { createClusterAdapter, type ClusterAdapterOptions } from '../cluster/socket-adapter.js'
import { resyncLocalSockets } from '../cluster/resync.js'

export type ParleyServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>
export type ParleySocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>

/** Told about every socket after it joined its rooms. Errors are logged, never fatal. */
export type ConnectionListener = (socket: ParleySocket) => void | Promise<void>
/** Told about every socket that left, with the rooms it was in. */
export type DisconnectionListener = (socket: ParleySocket, rooms: string[]) => void | Promise<void>

export interface Realtime {
  io: ParleyServer
  notifier: RoomNotifier
  /** Adds a module's client events; a name registered twice is a programming error (throws). */
  registerEvents: (module: SocketEventModule) => void
  /** Where connecting sockets learn their conversation rooms (none until set). */
  setConversationRooms: (resolver: ConversationRoomsResolver) => void
  /** Lifecycle hooks (presence uses them). */
  onConnection: (listener: ConnectionListener) => void
  onDisconnection: (listener: DisconnectionListener) => void
  /** Sockets connected to this instance for a session (tests, metrics). */
  localSocketsOfSession: (sid: string) => number
  /**
   * Work to finish before the sockets close at shutdown (in-flight sends), while their acks can still go out.
   * Each task gets at most DRAIN_TIMEOUT_MS.
   */
  onDrain: (task: () => Promise<void>) => void
}

/** The longest the drain waits for in-flight work before closing the sockets anyway. */
export const DRAIN_TIMEOUT_MS = 10_000

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

const CONVERSATION_PREFIX = conversationRoom('')

async function gatewayPlugin (app: FastifyInstance, options: GatewayOptions): Promise<void> {
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
  const { cluster } = app
  if (cluster !== null) io.adapter(createClusterAdapter(cluster, options.adapter))
  const notifier = createNotifier(io)
  const runners = new Map<string, EventRunner>()
  const connectionListeners: ConnectionListener[] = []
  const disconnectionListeners: DisconnectionListener[] = []
  /** sid -> this instance's sockets of that session, so a revocation finds them without scanning. */
  const sessions = new Map<string, Set<ParleySocket>>()
  /** socket id -> the live socket, its context and its expiry timer (what `auth_refresh` updates). */
  const live = new Map<string, { socket: ParleySocket, context: SocketContext, expiry: ExpiryTimer }>()
  let resolveRooms: ConversationRoomsResolver | null = null

  const callListener = (run: () => void | Promise<void>): void => {
    try {
      Promise.resolve(run()).catch(error => app.log.error({ err: error }, 'realtime lifecycle listener failed'))
    } catch (error) {
      app.log.error({ err: error }, 'realtime lifecycle listener failed')
    }
  }

  const indexSession = (sid: string, socket: ParleySocket): void => {
    let own = sessions.get(sid)
    if (own === undefined) sessions.set(sid, own = new Set())
    own.add(socket)
  }
  const unindexSession = (sid: string, socket: ParleySocket): void => {
    const own = sessions.get(sid)
    if (own === undefined) return
    own.delete(socket)
    if (own.size === 0) sessions.delete(sid)
  }

  /** The token ran out without a refresh: tell the client why, then close (server-side: no auto-reconnect). */
  const expire = (socket: ParleySocket): void => {
    if (!socket.connected) return
    app.log.debug({ userId: socket.data.userId, sid: socket.data.sid }, 'socket token expired, disconnecting')
    socket.emit('session_expired', { action: 'session_expired', reason: 'token_expired' })
    socket.disconnect(true)
  }

  /** `auth_refresh` after its token checks passed: the socket now belongs to the token's session and deadline. */
  const rebind = (context: SocketContext, auth: SocketAuth): { expiresAt: string } => {
    const entry = live.get(context.socketId)
    if (entry === undefined || !entry.socket.connected) throw unauthorized('The socket has closed')
    // Revoked while the account was read: its revocation listener has already run, so refuse here.
    if (app.revocation.isRevoked(auth.sid)) throw unauthorized('The session was revoked')
    const { socket, expiry } = entry
    const expiresAt = auth.expiresAt.toISOString()
    if (auth.sid !== socket.data.sid) {
      unindexSession(socket.data.sid, socket)
      indexSession(auth.sid, socket)
    }
    socket.data.sid = context.sid = auth.sid
    socket.data.role = context.role = auth.role
    socket.data.tokenExpiresAt = expiresAt
    expiry.arm(deadlineOf(auth.expiresAt))
    return { expiresAt }
  }
  runners.set('auth_refresh', compileEvent('auth_refresh', authRefreshEvent(app, rebind), app.log))

  let draining = false
  const drainTasks: Array<() => Promise<void>> = []
  io.use((socket, next) => {
    // Draining (SIGTERM): new sockets belong on another instance; the client retries through the load balancer.
    if (draining) return next(Object.assign(new Error('unavailable'), { data: { code: 'SHUTTING_DOWN' } }))
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

  io.on('connection', socket => {
    const { userId, sid, role } = socket.data
    void socket.join(userRoom(userId))
    indexSession(sid, socket)
    const context: SocketContext = { userId, sid, role, socketId: socket.id }
    const expiry = new ExpiryTimer(() => { expire(socket) })
    expiry.arm(deadlineOf(socket.data.tokenExpiresAt))
    live.set(socket.id, { socket, context, expiry })
    let rooms: string[] = []
    socket.on('disconnecting', () => { rooms = [...socket.rooms] })
    socket.on('disconnect', () => {
      expiry.clear()
      live.delete(socket.id)
      // The current session: auth_refresh may have moved the socket to another one.
      unindexSession(socket.data.sid, socket)
      for (const listener of disconnectionListeners) callListener(() => listener(socket, rooms))
    })
    // The session may have been revoked between the token check and now.
    if (app.revocation.isRevoked(sid)) {
      socket.disconnect(true)
      return
    }

    // Events wait for the rooms: a handler never runs for a socket that is not yet where it belongs.
    const ready = joinConversationRooms(socket)
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
    void ready.then(ok => {
      if (!ok || !socket.connected) return
      for (const listener of connectionListeners) callListener(() => listener(socket))
    })
  })

  const stopListening = app.revocation.onRevoked(revocation => {
    const own = sessions.get(revocation.sid)
    if (own === undefined) return
    for (const socket of [...own]) socket.disconnect(true)
  })
  // Redis is back: repair rooms changed meanwhile on other instances, then tell the clients to `sync`.
  let resyncing: Promise<void> | null = null
  const stopResync = cluster?.onReconnect(() => {
    resyncing = resyncLocalSockets({ sockets: [...live.values()].map(entry => entry.socket), resolveRooms, log: app.log })
      .catch(error => { app.log.error({ err: error }, 'resync after the Redis outage failed') })
      .finally(() => { resyncing = null })
  }) ?? (() => {})

  app.decorate('realtime', {
    io,
    notifier,
    registerEvents (module: SocketEventModule) {
      for (const [name, definition] of Object.entries(module)) {
        if (runners.has(name)) throw new Error(`Socket event "${name}" is registered twice`)
        runners.set(name, compileEvent(name, definition, app.log))
      }
    },
    setConversationRooms (resolver: ConversationRoomsResolver) { resolveRooms = resolver },
    onConnection (listener: ConnectionListener) { connectionListeners.push(listener) },
    onDisconnection (listener: DisconnectionListener) { disconnectionListeners.push(listener) },
    localSocketsOfSession (sid: string) { return sessions.get(sid)?.size ?? 0 },
    onDrain (task: () => Promise<void>) { drainTasks.push(task) }
  } satisfies Realtime)

  // Shutdown: refuse new sockets, let in-flight work finish and ack, then close the transports without a
  // Socket.IO disconnect packet, so clients see "transport close" and reconnect (elsewhere, behind a load balancer)
  // instead of "io server disconnect", after which socket.io-client would stay offline.
  app.addHook('preClose', async () => {
    draining = true
    await Promise.all(drainTasks.map(async task => {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>(resolve => { timer = setTimeout(resolve, DRAIN_TIMEOUT_MS) })
      await Promise.race([task().catch(error => { app.log.error({ err: error }, 'drain task failed') }), timeout])
      clearTimeout(timer)
    }))
    io.engine.close()
  })
  app.addHook('onClose', async () => {
    stopListening()
    stopResync()
    await resyncing
    // io.close() also closes the HTTP server, which Fastify closes itself: that second close's error is expected.
    await new Promise<void>(resolve => { void io.close(() => { resolve() }) })
  })
}

/** Conversation ids among a socket's rooms. */
export function conversationIdsOf (rooms: Iterable<string>): string[] {
  const ids: string[] = []
  for (const room of rooms) if (room.startsWith(CONVERSATION_PREFIX)) ids.push(room.slice(CONVERSATION_PREFIX.length))
  return ids
}

export default fp(gatewayPlugin, { name: 'realtime', fastify: '5.x', dependencies: ['auth', 'cluster'] })
