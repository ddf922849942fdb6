import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { clusterLimiterFactory } from '../../cluster/rate-limiters.js'
import { AttachmentsService } from './attachments.service.js'
import { GridFsStore } from './gridfs-store.js'
import { orphanSweeper } from './orphan-sweeper.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Attachments: uploads into GridFS, download access, claiming uploads for a message. */
    attachments: AttachmentsService
  }
}

export interface AttachmentsPluginOptions {
  /** How often the orphan sweep runs, in ms; default 600000 (10 minutes), 0 disables it. */
  sweepIntervalMs?: number
  /** How long released files wait before their removal; default 30000 ms (attachments.service.ts). */
  releaseGraceMs?: number
}

const SWEEP_INTERVAL_MS = 10 * 60_000

/**
 * Decorates `app.attachments` (register before the messages plugin, whose service claims attachments) and runs
 * the orphan sweep from ready to close, sooner when a deleted message released files.
 */
async function attachmentsPlugin (app: FastifyInstance, options: AttachmentsPluginOptions): Promise<void> {
  const { config } = app
  const attachments = new AttachmentsService({
    Attachment: app.models.Attachment,
    Conversation: app.models.Conversation,
    Message: app.models.Message,
    conversations: app.conversations,
    store: new GridFsStore(app.storage.connection),
    maxBytes: config.uploadMaxBytes,
    quotaBytes: config.uploadQuotaBytes,
    uploadsPerHour: config.rateLimitUploads,
    createLimiter: clusterLimiterFactory(app),
    orphanTtlSeconds: config.uploadOrphanTtlSeconds,
    releaseGraceMs: options.releaseGraceMs,
    // Files released: sweep once their grace has passed rather than at the next interval.
    onReleased: graceMs => { sweeper.runWithin(graceMs + 1000) }
  })
  app.decorate('attachments', attachments)
  const sweeper = orphanSweeper(attachments, options.sweepIntervalMs ?? SWEEP_INTERVAL_MS, app.log)
  app.addHook('onReady', async () => { sweeper.start() })
  // Before storage closes (onClose runs in reverse order of registration).
  app.addHook('onClose', async () => { await sweeper.stop() })
}

export default fp(attachmentsPlugin, { name: 'attachments', fastify: '5.x', dependencies: ['models', 'conversations'] })
