/**
 * The Notifier over Socket.IO rooms. Emits go through the adapter, and joins/leaves use
 * `io.in(room).socketsJoin/socketsLeave`, so with a cluster adapter the same calls reach every instance.
 */
import type { EmitOptions, EventBody, Notifier } from './contracts.js'
import type { ServerEventName, ServerPayload, ServerToClientEvents } from './events.js'
import type { ParleyServer } from './socket-types.js'
import { conversationRoom, userRoom } from './rooms.js'

export function createNotifier (io: ParleyServer): Notifier {
  const emit = <E extends ServerEventName>(rooms: string[], event: E, body: EventBody<E>, options?: EmitOptions): void => {
    if (rooms.length === 0) return
    let target = io.to(rooms)
    if (options?.exceptSocketId !== undefined) target = target.except(options.exceptSocketId)
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
      if (userIds.length === 0) return
      io.in(userIds.map(userRoom)).socketsJoin(conversationRoom(conversationId))
    },
    async leaveConversation (userIds, conversationId) {
      if (userIds.length === 0) return
      io.in(userIds.map(userRoom)).socketsLeave(conversationRoom(conversationId))
    }
  }
}
