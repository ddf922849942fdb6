import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { AttachmentsService } from './attachments.service.js'
import { GridFsStore } from './gridfs-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Attachments: uploads into GridFS, download access, claiming uploads for a message. */
    attachments: AttachmentsService
  }
}

/** Decorates `app.attachments` (register before the messages plugin, whose service claims attachments). */
async function attachmentsPlugin (app: FastifyInstance): Promise<void> {
  app.decorate('attachments', new AttachmentsService({
    Attachment: app.models.Attachment,
    Conversation: app.models.Conversation,
    conversations: app.conversations,
    store: new GridFsStore(app.storage.connection),
    maxBytes: app.config.uploadMaxBytes
  }))
}

export default fp(attachmentsPlugin, { name: 'attachments', fastify: '5.x', dependencies: ['models', 'conversations'] })
