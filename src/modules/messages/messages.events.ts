/**
 * Message socket events. Handlers only call the service (the gateway validated the payload against
 * realtime/events.schemas.ts); the service delivers to the other sockets, and the gateway turns the result or the
 * AppError into the ack.
 */
import type { SocketHandlers } from '../../realtime/contracts.js'
import type { MessagesService } from './messages.service.js'

export function messagesEvents (messages: MessagesService): SocketHandlers {
  return {
    chat_message: async (context, payload) => (await messages.send(context.userId, payload, context.socketId)).message,
    // Files are uploaded first (POST /api/attachments); this sends their ids. The service emits re_message_file.
    chat_message_file: async (context, payload) => (await messages.send(context.userId, payload, context.socketId)).message,
    message_edit: async (context, payload) => await messages.edit(context.userId, payload.messageId, payload.body, context.socketId),
    message_delete: async (context, payload) => await messages.remove(context.userId, context.role, payload.messageId, context.socketId),
    sync: async (context, payload) => await messages.sync(context.userId, payload.cursors)
  }
}
