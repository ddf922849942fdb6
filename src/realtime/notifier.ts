/**
 * The Notifier over Socket.IO rooms. Emits go through the adapter, so with a cluster adapter they reach every
 * instance; joins and leaves go through RoomMembership, which waits until every instance has applied them.
 */
import type { EmitOptions, EventBody, Notifier } from './contracts.js'
import type { ServerEventName, ServerPayload, ServerToClientEvents } from './events.js'
import type { ParleyServer } from './socket-types.js'
import { conversationRoom, userRoom } from './rooms.js'
import type { RoomMembership } from './room-membership.js'

export function createNotifier (io: ParleyServer, membership: RoomMembership): Notifier {
  const emit = <E extends ServerEventName>(rooms: string[], event: E, body: EventBody<E>, options?: EmitOptions): void => {
    if (rooms.length === 0) return
    let target = io.to(rooms)
    if (options?.exceptSocketId !== undefined) target = target.except(options.exceptSocketId)
    if (options?.exceptUserId !== undefined) target = target.except(userRoom(options.exceptUserId))
    // Omit<> and the literal `action` make ServerPayload<E> again; TypeScript cannot see that through a generic E.
    const payload = { ...body, action: event } as unknown as ServerPayload<E>
    target.emit(event, ...[payload] as Parameters<ServerToClientEvents[E]>)
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
