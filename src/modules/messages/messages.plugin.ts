import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { MessagesService } from './messages.service.js'
import { messagesEvents } from './messages.events.js'
import { clusterLimiterFactory } from '../../cluster/rate-limiters.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Messages: send, page, edit, delete, sync. */
    messages: MessagesService
  }
}

/** Decorates `app.messages` and registers the message socket events with the gateway. */
async function messagesPlugin (app: FastifyInstance): Promise<void> {
  const messages = new MessagesService({
    Conversation: app.models.Conversation,
    ConversationMember: app.models.ConversationMember,
    Message: app.models.Message,
    attachments: app.attachments,
    onError: error => { app.log.error({ err: error }, 'messages: bookkeeping write failed after the messages were stored') },
    conversations: app.conversations,
    notifier: app.realtime.notifier,
    maxBytes: app.config.messageMaxBytes,
    ratePerTenSeconds: app.config.rateLimitMessages,
    retainDeletedText: app.config.retainDeletedText,
    createLimiter: clusterLimiterFactory(app)
  })
  app.decorate('messages', messages)
  app.realtime.registerEvents(messagesEvents(messages))
  // Shutdown: sends in flight are stored and acked before the sockets close.
  app.realtime.onDrain(async () => { await messages.writer.drained() })
  // ...and before storage closes (REST sends; onClose runs in reverse order of registration).
  app.addHook('onClose', async () => { await messages.writer.drained() })
}

export default fp(messagesPlugin, { name: 'messages', fastify: '5.x', dependencies: ['models', 'realtime', 'conversations', 'attachments'] })
