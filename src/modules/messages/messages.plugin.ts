import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { MessagesService, type AttachmentClaimer } from './messages.service.js'
import { notifierOf, realtimeOf } from '../conversations/realtime-link.js'
import { messagesEvents } from './messages.events.js'
import { conversationsEvents } from '../conversations/conversations.events.js'
import { clusterLimiterFactory } from '../../cluster/rate-limiters.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Messages: send, page, edit, delete, sync. */
    messages: MessagesService
  }
}

/**
 * Decorates `app.messages` and registers the conversation and message socket events with the gateway when
 * there is one (register this after the gateway plugin).
 */
async function messagesPlugin (app: FastifyInstance): Promise<void> {
  const messages = new MessagesService({
    Conversation: app.models.Conversation,
    ConversationMember: app.models.ConversationMember,
    Message: app.models.Message,
    // The attachments plugin decorates `app.attachments` when registered (before this plugin).
    attachments: () => (app as unknown as { attachments?: AttachmentClaimer }).attachments,
    onError: error => { app.log.error({ err: error }, 'messages: bookkeeping write failed after the messages were stored') },
    conversations: app.conversations,
    notifier: notifierOf(app),
    maxBytes: app.config.messageMaxBytes,
    ratePerTenSeconds: app.config.rateLimitMessages,
    createLimiter: clusterLimiterFactory(app)
  })
  app.decorate('messages', messages)
  const realtime = realtimeOf(app)
  if (realtime !== null) {
    realtime.registerEvents(messagesEvents(messages))
    realtime.registerEvents(conversationsEvents(app.conversations))
    // Shutdown: sends in flight are stored and acked before the sockets close.
    realtime.onDrain?.(async () => { await messages.writer.drained() })
  }
  // ...and before storage closes (REST sends; onClose runs in reverse order of registration).
  app.addHook('onClose', async () => { await messages.writer.drained() })
}

export default fp(messagesPlugin, { name: 'messages', fastify: '5.x', dependencies: ['models', 'conversations'] })
