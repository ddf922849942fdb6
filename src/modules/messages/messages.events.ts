/**
 * Message socket events. Handlers only validate (the gateway compiles the schemas) and call the service; the
 * service delivers to the other sockets, and the gateway turns the result or the AppError into the ack.
 */
import { Type } from 'typebox'
import { socketEvent, type SocketEventModule } from '../../realtime/contracts.js'
import { ClientMsgId, IdString, MessageBody } from './messages.schemas.js'
import type { MessagesService } from './messages.service.js'

const Target = {
  conversationId: Type.Optional(IdString),
  receiverId: Type.Optional(IdString)
}

export const ChatMessagePayload = Type.Object({
  ...Target,
  body: MessageBody,
  clientMsgId: Type.Optional(ClientMsgId),
  replyToId: Type.Optional(IdString)
}, { additionalProperties: false })

export const ChatMessageFilePayload = Type.Object({
  ...Target,
  attachmentIds: Type.Array(IdString, { minItems: 1, maxItems: 10 }),
  body: Type.Optional(MessageBody),
  clientMsgId: Type.Optional(ClientMsgId),
  replyToId: Type.Optional(IdString)
}, { additionalProperties: false })

export const SyncPayload = Type.Object({
  cursors: Type.Optional(Type.Array(Type.Object({
    conversationId: IdString,
    afterSeq: Type.Integer({ minimum: 0 })
  }, { additionalProperties: false }), { maxItems: 1000 }))
}, { additionalProperties: false })

export function messagesEvents (messages: MessagesService): SocketEventModule {
  return {
    chat_message: socketEvent({
      schema: ChatMessagePayload,
      handle: async (context, payload) => (await messages.send(context.userId, payload, context.socketId)).message
    }),
    // Files are uploaded first (POST /api/attachments); this sends their ids. The service emits re_message_file.
    chat_message_file: socketEvent({
      schema: ChatMessageFilePayload,
      handle: async (context, payload) => (await messages.send(context.userId, payload, context.socketId)).message
    }),
    message_edit: socketEvent({
      schema: Type.Object({ messageId: IdString, body: MessageBody }, { additionalProperties: false }),
      handle: async (context, payload) => await messages.edit(context.userId, payload.messageId, payload.body, context.socketId)
    }),
    message_delete: socketEvent({
      schema: Type.Object({ messageId: IdString }, { additionalProperties: false }),
      handle: async (context, payload) => await messages.remove(context.userId, context.role, payload.messageId, context.socketId)
    }),
    sync: socketEvent({
      schema: SyncPayload,
      handle: async (context, payload) => await messages.sync(context.userId, payload.cursors)
    })
  }
}
