/** Conversation socket events: typing indicators and the delivered/read receipts. */
import { Type } from 'typebox'
import { socketEvent, type SocketEventModule } from '../../realtime/contracts.js'
import { IdString } from '../messages/messages.schemas.js'
import type { ConversationsService } from './conversations.service.js'
import { TypingThrottle } from './typing-throttle.js'

const ReceiptPayload = Type.Object({
  conversationId: IdString,
  seq: Type.Integer({ minimum: 0 })
}, { additionalProperties: false })

export function conversationsEvents (conversations: ConversationsService, throttle = new TypingThrottle()): SocketEventModule {
  return {
    typing: socketEvent({
      schema: Type.Object({ conversationId: IdString, isTyping: Type.Boolean() }, { additionalProperties: false }),
      handle: async (context, payload) => {
        await conversations.typing(context.userId, payload.conversationId, payload.isTyping, throttle)
        return {}
      }
    }),
    delivered: socketEvent({
      schema: ReceiptPayload,
      handle: async (context, payload) => {
        await conversations.mark(context.userId, payload.conversationId, 'delivered', payload.seq, context.socketId)
        return {}
      }
    }),
    read: socketEvent({
      schema: ReceiptPayload,
      handle: async (context, payload) => {
        await conversations.mark(context.userId, payload.conversationId, 'read', payload.seq, context.socketId)
        return {}
      }
    })
  }
}
