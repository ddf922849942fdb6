/**
 * The Notifier over Socket.IO rooms. Emits go through the adapter, so with a cluster adapter they reach every
 * instance; joins and leaves go through RoomMembership, which waits until every instance has applied them.
 */
import type { EmitOptions, EventBody, Notifier } from './contracts.js'
import type { ServerEventName, ServerPayload, ServerToClientEvents } from './events.js'
import type { ParleyServer } from './socket-types.js'
import { conversationRoom, userRoom } from './rooms.js'
import type { RoomMembership } from './room-membership.js'
import { noRealtimeMetrics, type RealtimeMetrics } from './realtime-metrics.js'

/**
 * The sockets on this instance an emit to `rooms` reaches (the adapter's local rooms; other instances count their
 * own). One room without `exceptUserId`, a new message's case, costs a map lookup.
 */
export function localRecipients (io: ParleyServer, rooms: string[], options?: EmitOptions): number {
  const local = io.of('/').adapter.rooms
  const exceptSocket = options?.exceptSocketId
  if (rooms.length === 1 && options?.exceptUserId === undefined) {
    const members = local.get(rooms[0])
    if (members === undefined) return 0
    return members.size - (exceptSocket !== undefined && members.has(exceptSocket) ? 1 : 0)
  }
  const exceptUser = options?.exceptUserId !== undefined ? local.get(userRoom(options.exceptUserId)) : undefined
  const reached = new Set<string>()
  for (const room of rooms) {
    for (const id of local.get(room) ?? []) if (id !== exceptSocket && exceptUser?.has(id) !== true) reached.add(id)
  }
  return reached.size
}

export function createNotifier (io: ParleyServer, membership: RoomMembership, metrics: RealtimeMetrics = noRealtimeMetrics): Notifier {
  const emit = <E extends ServerEventName>(rooms: string[], event: E, body: EventBody<E>, options?: EmitOptions): void => {
    if (rooms.length === 0) return
    let target = io.to(rooms)
    if (options?.exceptSocketId !== undefined) target = target.except(options.exceptSocketId)
    if (options?.exceptUserId !== undefined) target = target.except(userRoom(options.exceptUserId))
    // Omit<> and the literal `action` make ServerPayload<E> again; TypeScript cannot see that through a generic E.
    const payload = { ...body, action: event } as unknown as ServerPayload<E>
    target.emit(event, ...[payload] as Parameters<ServerToClientEvents[E]>)
    metrics.emitted(event)
    if (event === 're_message' || event === 're_message_file') metrics.messageFanout(localRecipients(io, rooms, options))
  }
  return {
    toConversation (conversationId, event, payload, options) {
      emit([conversationRoom(conversationId)], event, payload, options)
    },
    toConversations (conversationIds, event, payload, options) {
      emit([...new Set(conversationIds)].map(conversationRoom), event, payload, options)
    },
    toUsers (userIds, event, payload, options) {
      emit([...new Set(userIds)].map(userRoom), event, payload, options)
    },
    async joinConversation (userIds, conversationId) {
      await membership.change({ op: 'join', userIds, conversationId })
    },
    async leaveConversation (userIds, conversationId) {
      await membership.change({ op: 'leave', userIds, conversationId })
    }
  }
}
