import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { AuditService } from './audit.service.js'
import { AdminMessagesService } from './admin-messages.service.js'
import { AdminDirectoryService } from './admin-directory.service.js'
import { AdminService } from './admin.service.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Admin history, export, users, conversations, audit and stats (each call checks the admin role and is audited). */
    admin: AdminService
  }
}

/** Decorates `app.admin`; the routes are admin.routes.ts under /api/admin. */
async function adminPlugin (app: FastifyInstance): Promise<void> {
  const { models } = app
  const isOnline = () => app.users.isOnline
  app.decorate('admin', new AdminService({
    User: models.User,
    audit: new AuditService(models.AuditEntry),
    messages: new AdminMessagesService({
      Message: models.Message, Conversation: models.Conversation, User: models.User, isOnline, retainDeletedText: app.config.retainDeletedText
    }),
    directory: new AdminDirectoryService({
      User: models.User,
      Conversation: models.Conversation,
      Message: models.Message,
      conversations: app.conversations,
      revocation: app.revocation,
      isOnline,
      onlineCount: async () => await app.presence.onlineCount(),
      instanceSockets: async () => await app.realtime.instanceSockets()
    })
  }))
}

export default fp(adminPlugin, { name: 'admin', fastify: '5.x', dependencies: ['models', 'auth', 'users', 'realtime', 'conversations', 'presence'] })
