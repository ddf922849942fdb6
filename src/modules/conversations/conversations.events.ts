/** Conversation socket events: typing indicators and the delivered/read receipts. */
import type { SocketHandlers } from '../../realtime/contracts.js'
import type { ConversationsService } from './conversations.service.js'
import { TypingThrottle } from './typing-throttle.js'

export function conversationsEvents (conversations: ConversationsService, throttle = new TypingThrottle()): SocketHandlers {
  return {
    typing: async (context, payload) => {
      await conversations.typing(context.userId, payload.conversationId, payload.isTyping, throttle)
      return {}
    },
    delivered: async (context, payload) => {
      await conversations.mark(context.userId, payload.conversationId, 'delivered', payload.seq, context.socketId)
      return {}
    },
    read: async (context, payload) => {
      await conversations.mark(context.userId, payload.conversationId, 'read', payload.seq, context.socketId)
      return {}
    }
  }
}
