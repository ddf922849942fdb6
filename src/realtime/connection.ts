/**
 * One connected socket's life in the gateway: its user room, its expiry timer, its conversation rooms, then its
 * events (dispatched only once the rooms are joined) and the lifecycle listeners on connect and disconnect.
 */
import type { FastifyInstance } from 'fastify'
import type { RateLimiterMemory } from 'rate-limiter-flexible'
import { AppError } from '../shared/errors.js'
import type { ConversationRoomsResolver, SocketContext } from './contracts.js'
import { ackError, splitArgs, type EventRunner } from './ack.js'
import { deadlineOf, ExpiryTimer } from './socket-session.js'
import type { SocketRegistry } from './socket-registry.js'
import { conversationRoom, userRoom } from './rooms.js'
import type { ParleySocket } from './socket-types.js'
import { replayRoomChanges, type RoomMembership } from './room-membership.js'
import { consumePoint } from '../cluster/rate-limiters.js'
import type { RealtimeMetrics } from './realtime-metrics.js'

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
  /** Membership changes that land while the rooms are read are replayed after the join. */
  membership: RoomMembership
  connectionListeners: readonly ConnectionListener[]
  disconnectionListeners: readonly DisconnectionListener[]
  /** Client events per user on this instance (all their sockets together, so reconnecting resets nothing), or null. */
  eventLimiter: RateLimiterMemory | null
  /** Told about the events refused here, before any runner (the runners report their own acks). */
  metrics: RealtimeMetrics
}

/** Events of one socket running at once; past it the next is answered RATE_LIMITED (a client must await its acks). */
export const MAX_EVENTS_IN_FLIGHT = 50

/** Runs a lifecycle listener; its failure is logged, never the socket's problem. */
function callListener (app: FastifyInstance, run: () => void | Promise<void>): void {
  try {
    Promise.resolve(run()).catch(error => app.log.error({ err: error }, 'realtime lifecycle listener failed'))
  } catch (error) {
    app.log.error({ err: error }, 'realtime lifecycle listener failed')
  }
}

/**
 * Joins the socket's conversation rooms. Read only once the socket is in its user room, and the membership changes
 * that reached the user while the read ran are replayed after it: a member added or removed meanwhile ends up
 * where the last change put them, whichever side of the read it fell.
 * False when the socket should not be served (resolver failed, or it left meanwhile).
 */
async function joinConversationRooms (deps: ConnectionDeps, socket: ParleySocket): Promise<boolean> {
  const resolveRooms = deps.resolveRooms()
  const { userId } = socket.data
  try {
    const { value: conversationIds, changes } = await deps.membership.whileReading(userId, async () => resolveRooms !== null ? await resolveRooms(userId) : [])
    // A socket that left must not join: the adapter would keep rooms for a dead id.
    if (!socket.connected) return false
    socket.data.conversationIds = conversationIds
    if (conversationIds.length > 0) await socket.join(conversationIds.map(conversationRoom))
    replayRoomChanges(socket, changes)
    return true
  } catch (error) {
    deps.app.log.error({ err: error, userId }, 'socket rooms: resolver failed, disconnecting')
    socket.disconnect(true)
    return false
  }
}

function refuse (deps: ConnectionDeps, event: string, args: unknown[], response: ReturnType<typeof ackError>): void {
  if (!response.ok) deps.metrics.refused(event, response.error.code)
  const { ack } = splitArgs(args)
  try {
    ack?.(response)
  } catch {}
}

/** Consumes one event of the user's budget; the refusal to answer, or null when the event may run. */
async function overBudget (limiter: RateLimiterMemory | null, userId: string): Promise<ReturnType<typeof ackError> | null> {
  try {
    await consumePoint(limiter, userId, 'socket events')
    return null
  } catch (error) {
    if (!(error instanceof AppError)) throw error
    return ackError(error.code, error.message)
  }
}

/**
 * Client events wait for the rooms: a handler never runs for a socket that is not yet where it belongs. Each event
 * counts against the user's budget (RATE_LIMIT_SOCKET_EVENTS) and at most MAX_EVENTS_IN_FLIGHT run at once per socket.
 */
function dispatch (socket: ParleySocket, context: SocketContext, deps: ConnectionDeps, ready: Promise<boolean>): void {
  let inFlight = 0
  socket.onAny((event: string, ...args: unknown[]) => {
    if (inFlight >= MAX_EVENTS_IN_FLIGHT) {
      refuse(deps, event, args, ackError('RATE_LIMITED', `More than ${MAX_EVENTS_IN_FLIGHT} events in flight on this socket: wait for their acks`))
      return
    }
    inFlight++
    void ready.then(async ok => {
      if (!ok || !socket.connected) return
      const refused = await overBudget(deps.eventLimiter, socket.data.userId)
      if (refused !== null) return refuse(deps, event, args, refused)
      const runner = deps.runners.get(event)
      if (runner !== undefined) return await runner(context, args)
      // Unknown events change nothing; an ack, if sent, is still answered.
      refuse(deps, event, args, ackError('UNKNOWN_EVENT', 'No such event'))
    }).catch(error => { deps.app.log.error({ err: error }, 'socket event dispatch failed') })
      .finally(() => { inFlight-- })
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
  const ready = joinConversationRooms(deps, socket)
  dispatch(socket, context, deps, ready)
  void ready.then(ok => {
    if (!ok || !socket.connected) return
    for (const listener of deps.connectionListeners) callListener(app, () => listener(socket))
  })
}
