/**
 * After a Redis outage: what other instances did meanwhile never reached this instance's sockets. Membership
 * changes are repaired here (each socket's conversation rooms are read again: joined where the user was added,
 * left where they were removed), then each socket gets `resync` and the client calls `sync` for the messages.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { ParleySocket } from '../realtime/socket-types.js'
import type { ConversationRoomsResolver } from '../realtime/contracts.js'
import type { ResyncEvent } from '../realtime/events.js'
import { replayRoomChanges, type RoomMembership } from '../realtime/room-membership.js'
import { conversationIdsOf, conversationRoom } from '../realtime/rooms.js'

/** Users whose rooms are read at once (one database query each). */
const CONCURRENCY = 8

export interface ResyncOptions {
  /** This instance's connected sockets. */
  sockets: Iterable<ParleySocket>
  /** Where a user's conversation rooms come from (null: rooms are not refreshed). */
  resolveRooms: ConversationRoomsResolver | null
  /** Membership changes that land during a user's read are replayed after it. */
  membership: RoomMembership
  log: FastifyBaseLogger
}

/** Refreshes every local socket's conversation rooms, then emits `resync` to it. */
export async function resyncLocalSockets ({ sockets, resolveRooms, membership, log }: ResyncOptions): Promise<void> {
  const byUser = new Map<string, ParleySocket[]>()
  for (const socket of sockets) {
    if (!socket.connected) continue
    const { userId } = socket.data
    const own = byUser.get(userId)
    if (own === undefined) byUser.set(userId, [socket])
    else own.push(socket)
  }
  const users = [...byUser.entries()]
  const payload: ResyncEvent = { action: 'resync', reason: 'cluster_reconnected' }
  const work = async ([userId, own]: [string, ParleySocket[]]): Promise<void> => {
    try {
      if (resolveRooms !== null) await refreshRooms(own, userId, resolveRooms, membership)
    } catch (error) {
      // The client still syncs; its rooms are repaired at its next connect.
      log.warn({ err: error, userId }, 'resync: reading conversation rooms failed')
    }
    for (const socket of own) if (socket.connected) socket.emit('resync', payload)
  }
  for (let i = 0; i < users.length; i += CONCURRENCY) {
    await Promise.all(users.slice(i, i + CONCURRENCY).map(work))
  }
}

async function refreshRooms (sockets: ParleySocket[], userId: string, resolveRooms: ConversationRoomsResolver, membership: RoomMembership): Promise<void> {
  const { value: conversationIds, changes } = await membership.whileReading(userId, async () => await resolveRooms(userId))
  const wanted = new Set(conversationIds.map(conversationRoom))
  for (const socket of sockets) {
    if (!socket.connected) continue
    for (const room of conversationIdsOf(socket.rooms).map(conversationRoom)) if (!wanted.has(room)) void socket.leave(room)
    const missing = [...wanted].filter(room => !socket.rooms.has(room))
    if (missing.length > 0) void socket.join(missing)
    // A change applied during the read is newer than it: it wins.
    replayRoomChanges(socket, changes)
  }
}
