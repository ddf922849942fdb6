import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { ConversationsService } from './conversations.service.js'
import { notifierOf, realtimeOf } from './realtime-link.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Conversations: membership checks, the direct conversation of a pair, lists, read/delivered marks. */
    conversations: ConversationsService
  }
}

/**
 * Decorates `app.conversations` and, when the socket gateway is registered, tells it which conversation rooms a
 * connecting user belongs in.
 */
async function conversationsPlugin (app: FastifyInstance): Promise<void> {
  const conversations = new ConversationsService({
    Conversation: app.models.Conversation,
    ConversationMember: app.models.ConversationMember,
    Message: app.models.Message,
    User: app.models.User,
    users: app.users,
    notifier: notifierOf(app)
  })
  app.decorate('conversations', conversations)
  realtimeOf(app)?.setConversationRooms(async userId => await conversations.conversationIdsOf(userId))
}

export default fp(conversationsPlugin, { name: 'conversations', fastify: '5.x', dependencies: ['models', 'users'] })
