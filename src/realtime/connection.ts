/**
 * One connected socket's life in the gateway: its user room, its expiry timer, its conversation rooms, then its
 * events (dispatched only once the rooms are joined) and the lifecycle listeners on connect and disconnect.
 */
import type { FastifyInstance } from 'fastify'
import type { ConversationRoomsResolver, SocketContext } from './contracts.js'
import { ackError, splitArgs, type EventRunner } from './ack.js'
import { deadlineOf, ExpiryTimer } from './socket-session.js'
import type { SocketRegistry } from './socket-registry.js'
import { conversationRoom, userRoom } from './rooms.js'
import type { ParleySocket } from './socket-types.js'

/** Told about every socket after it joined its rooms. Errors are logged, never fatal. */
export type ConnectionListener = (socket: ParleySocket) => void | Promise<void>
/** Told about every socket that left, with the rooms it was in. */
export type DisconnectionListener = (socket: ParleySocket, rooms: string[]) => void | Promise<void>

export interface ConnectionDeps {
  app: FastifyInstance
  registry: SocketRegistry
  runners: ReadonlyMap<string, EventRunner>
  /** Read at each connect: the conversations module sets it after the gateway is up. */
  resolveRooms: () => ConversationRoomsResolver | null
  connectionListeners: readonly ConnectionListener[]
  disconnectionListeners: readonly DisconnectionListener[]
}

/** Runs a lifecycle listener; its failure is logged, never the socket's problem. */
function callListener (app: FastifyInstance, run: () => void | Promise<void>): void {
  try {
    Promise.resolve(run()).catch(error => app.log.error({ err: error }, 'realtime lifecycle listener failed'))
  } catch (error) {
    app.log.error({ err: error }, 'realtime lifecycle listener failed')
  }
}

/**
 * Joins the socket's conversation rooms. Read only once the socket is connected and in its user room, so a
 * membership added meanwhile (socketsJoin through the user room) is either in the read or reaches the socket.
 * False when the socket should not be served (resolver failed, or it left meanwhile).
 */
async function joinConversationRooms (app: FastifyInstance, socket: ParleySocket, resolveRooms: ConversationRoomsResolver | null): Promise<boolean> {
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
function dispatch (socket: ParleySocket, context: SocketContext, runners: ReadonlyMap<string, EventRunner>, ready: Promise<boolean>): void {
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

export function serveConnection (socket: ParleySocket, deps: ConnectionDeps): void {
  const { app, registry } = deps
  const { userId, sid, role } = socket.data
  void socket.join(userRoom(userId))
  const context: SocketContext = { userId, sid, role, socketId: socket.id }
  const expiry = new ExpiryTimer(() => {
    // The token ran out without a refresh: tell the client why, then close (server-side: no auto-reconnect).
    if (!socket.connected) return
    app.log.debug({ userId, sid: socket.data.sid }, 'socket token expired, disconnecting')
    socket.emit('session_expired', { action: 'session_expired', reason: 'token_expired' })
    socket.disconnect(true)
  })
  expiry.arm(deadlineOf(socket.data.tokenExpiresAt))
  registry.add({ socket, context, expiry })
  let rooms: string[] = []
  socket.on('disconnecting', () => { rooms = [...socket.rooms] })
  socket.on('disconnect', () => {
    registry.remove(socket)
    for (const listener of deps.disconnectionListeners) callListener(app, () => listener(socket, rooms))
  })
  // The session may have been revoked between the token check and now.
  if (app.revocation.isRevoked(sid)) {
    socket.disconnect(true)
    return
  }
  const ready = joinConversationRooms(app, socket, deps.resolveRooms())
  dispatch(socket, context, deps.runners, ready)
  void ready.then(ok => {
    if (!ok || !socket.connected) return
    for (const listener of deps.connectionListeners) callListener(app, () => listener(socket))
  })
}
