/**
 * The Notifier over Socket.IO rooms. Emits go through the adapter, and joins/leaves use
 * `io.in(room).socketsJoin/socketsLeave`, so with a cluster adapter the same calls reach every instance.
 */
import type { Server } from 'socket.io'
import type { EmitOptions, Notifier } from './contracts.js'
import { conversationRoom, userRoom } from './rooms.js'

/** The contract's Notifier plus a multi-room emit (presence goes to every room the user shares, once per socket). */
export interface RoomNotifier extends Notifier {
  /** Emit once to every socket in any of these conversations' rooms (a socket in several gets it once). */
  toConversations: (conversationIds: string[], event: string, payload: object, options?: EmitOptions) => void
}

export function createNotifier (io: Server<any, any, any, any>): RoomNotifier {
  const emit = (rooms: string[], event: string, payload: object, options?: EmitOptions): void => {
    if (rooms.length === 0) return
    let target = io.to(rooms)
    if (options?.exceptSocketId !== undefined) target = target.except(options.exceptSocketId)
    target.emit(event, { ...payload, action: event })
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
