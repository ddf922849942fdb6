/**
 * One connected socket's life in the gateway: its user room, its expiry, its conversation rooms, then its events
 * (dispatched only once the rooms are joined) and the lifecycle listeners on connect and disconnect.
 *
 * An idle socket is most of what an instance holds, so it costs as little as we can make it: the listeners are
 * shared by every socket (Socket.IO calls them with the socket as `this`) and read the socket's state from its
 * registry entry; its expiry is an entry in one ExpiryWheel, not a timer of its own; the handlers' context is made
 * at its first event; rooms it shares with other sockets here reuse the adapter's string for the room's name.
 */
import type { FastifyInstance } from 'fastify'
import type { RateLimiterMemory } from 'rate-limiter-flexible'
import { AppError } from '../shared/errors.js'
import type { ConversationRoomsResolver, SocketContext } from './contracts.js'
import { ackError, splitArgs, type EventRunner } from './ack.js'
import { deadlineOf, type ExpiryWheel } from './socket-session.js'
import type { LiveSocket, SocketRegistry } from './socket-registry.js'
import { conversationRoom, userRoom, type RoomNames } from './rooms.js'
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
  /** Every socket's token deadline (the gateway's one wheel; `auth_refresh` re-arms it). */
  expiries: ExpiryWheel<LiveSocket>
  /** The adapter's strings for the rooms that exist here. */
  roomNames: RoomNames
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

/** What the wheel does at a socket's deadline: tell the client why, then close (server-side: no auto-reconnect). */
export function sessionExpirer (app: FastifyInstance): (entry: LiveSocket) => void {
  return ({ socket }) => {
    if (!socket.connected) return
    app.log.debug({ userId: socket.data.userId, sid: socket.data.sid }, 'socket token expired, disconnecting')
    socket.emit('session_expired', { action: 'session_expired', reason: 'token_expired' })
    socket.disconnect(true)
  }
}

/** The handlers' view of a socket, made at its first event; `auth_refresh` moves its sid and role. */
export function contextOf (entry: LiveSocket): SocketContext {
  if (entry.context === null) {
    const { userId, sid, role } = entry.socket.data
    entry.context = { userId, sid, role, socketId: entry.socket.id }
  }
  return entry.context
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
    if (conversationIds.length > 0) await socket.join(conversationIds.map(id => deps.roomNames.shared(conversationRoom(id))))
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

/** One client event of a served socket, once its rooms are joined. */
async function runEvent (deps: ConnectionDeps, entry: LiveSocket, event: string, args: unknown[]): Promise<void> {
  const ok = typeof entry.ready === 'boolean' ? entry.ready : await entry.ready
  const { socket } = entry
  if (!ok || !socket.connected) return
  const refused = await overBudget(deps.eventLimiter, socket.data.userId)
  if (refused !== null) return refuse(deps, event, args, refused)
  const runner = deps.runners.get(event)
  if (runner !== undefined) return await runner(contextOf(entry), args)
  // Unknown events change nothing; an ack, if sent, is still answered.
  refuse(deps, event, args, ackError('UNKNOWN_EVENT', 'No such event'))
}

/**
 * The gateway's connection handler. Client events wait for the rooms: a handler never runs for a socket that is not
 * yet where it belongs. Each event counts against the user's budget (RATE_LIMIT_SOCKET_EVENTS) and at most
 * MAX_EVENTS_IN_FLIGHT run at once per socket.
 */
export function connectionHandler (deps: ConnectionDeps): (socket: ParleySocket) => void {
  const { app, registry, expiries } = deps

  function onEvent (this: ParleySocket, event: string, ...args: unknown[]): void {
    const entry = registry.get(this.id)
    // Not served (revoked before its rooms were read): nothing runs, as before its rooms are joined.
    if (entry === undefined) return
    if (entry.inFlight >= MAX_EVENTS_IN_FLIGHT) {
      refuse(deps, event, args, ackError('RATE_LIMITED', `More than ${MAX_EVENTS_IN_FLIGHT} events in flight on this socket: wait for their acks`))
      return
    }
    entry.inFlight++
    runEvent(deps, entry, event, args)
      .catch(error => { app.log.error({ err: error }, 'socket event dispatch failed') })
      .finally(() => { entry.inFlight-- })
  }
  function onDisconnecting (this: ParleySocket): void {
    const entry = registry.get(this.id)
    if (entry !== undefined) entry.rooms = [...this.rooms]
  }
  function onDisconnect (this: ParleySocket): void {
    const entry = registry.remove(this)
    if (entry === undefined) return
    expiries.clear(entry)
    const rooms = entry.rooms ?? []
    for (const listener of deps.disconnectionListeners) callListener(app, () => listener(this, rooms))
  }

  return socket => {
    const { userId, sid } = socket.data
    void socket.join(deps.roomNames.shared(userRoom(userId)))
    const entry: LiveSocket = { socket, context: null, inFlight: 0, ready: false, rooms: null }
    expiries.arm(entry, deadlineOf(socket.data.tokenExpiresAt))
    registry.add(entry)
    socket.on('disconnecting', onDisconnecting)
    socket.on('disconnect', onDisconnect)
    socket.onAny(onEvent)
    // The session may have been revoked between the token check and now.
    if (app.revocation.isRevoked(sid)) {
      socket.disconnect(true)
      return
    }
    const ready = joinConversationRooms(deps, socket)
    entry.ready = ready
    void ready.then(ok => {
      // Served from now on without waiting (and the promise can go).
      entry.ready = ok
      if (!ok || !socket.connected) return
      for (const listener of deps.connectionListeners) callListener(app, () => listener(socket))
    })
  }
}
