import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { ConversationsService } from './conversations.service.js'
import { conversationsEvents } from './conversations.events.js'
import { GroupsService } from './groups.service.js'
import { clusterLimiterFactory } from '../../cluster/rate-limiters.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Conversations: membership checks, the direct conversation of a pair, lists, read/delivered marks. */
    conversations: ConversationsService
    /** Groups: creation, settings, members and roles, join/leave, public discovery, receipts. */
    groups: GroupsService
  }
}

/**
 * Decorates `app.conversations` and `app.groups`, registers the conversation socket events (typing, receipts) and tells the gateway
 * which conversation rooms a connecting user belongs in.
 */
async function conversationsPlugin (app: FastifyInstance): Promise<void> {
  const conversations = new ConversationsService({
    Conversation: app.models.Conversation,
    ConversationMember: app.models.ConversationMember,
    Message: app.models.Message,
    User: app.models.User,
    users: app.users,
    notifier: app.realtime.notifier
  })
  app.decorate('conversations', conversations)
  app.decorate('groups', new GroupsService({
    Conversation: app.models.Conversation,
    ConversationMember: app.models.ConversationMember,
    Message: app.models.Message,
    User: app.models.User,
    conversations,
    notifier: app.realtime.notifier,
    maxMembers: app.config.groupMaxMembers,
    createLimiter: clusterLimiterFactory(app)
  }))
  // Public profiles show presence only to contacts, as presence_query and the pushes do.
  app.users.contactsAmong = async (viewerId, userIds) => await conversations.contactsAmong(viewerId, userIds)
  app.realtime.registerEvents(conversationsEvents(conversations))
  app.realtime.setConversationRooms(async userId => await conversations.conversationIdsOf(userId))
}

export default fp(conversationsPlugin, { name: 'conversations', fastify: '5.x', dependencies: ['models', 'users', 'realtime'] })
