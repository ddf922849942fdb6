import Fastify, { type FastifyInstance, type FastifyLoggerOptions } from 'fastify'
import type { AppConfig } from './config/load-config.js'
import errorsPlugin from './plugins/errors.plugin.js'
import jsonBodyPlugin from './plugins/json-body.plugin.js'
import readinessPlugin from './plugins/readiness.plugin.js'
import securityPlugin from './plugins/security.plugin.js'
import docsPlugin from './plugins/docs.plugin.js'
import metricsPlugin from './plugins/metrics.plugin.js'
import storagePlugin from './storage/storage.plugin.js'
import healthRoutes from './modules/health/health.routes.js'
import modelsPlugin from './storage/models/models.plugin.js'
import clusterPlugin, { type ClusterPluginOptions } from './cluster/cluster.plugin.js'
import authPlugin from './plugins/auth.plugin.js'
import usersPlugin from './modules/users/users.plugin.js'
import authRoutes from './modules/auth/auth.routes.js'
import usersRoutes from './modules/users/users.routes.js'
import conversationsPlugin from './modules/conversations/conversations.plugin.js'
import attachmentsPlugin, { type AttachmentsPluginOptions } from './modules/attachments/attachments.plugin.js'
import messagesPlugin from './modules/messages/messages.plugin.js'
import conversationsRoutes from './modules/conversations/conversations.routes.js'
import groupsRoutes from './modules/conversations/groups.routes.js'
import messagesRoutes from './modules/messages/messages.routes.js'
import attachmentsRoutes from './modules/attachments/attachments.routes.js'
import realtimeGateway from './realtime/gateway.plugin.js'
import adminPlugin from './modules/admin/admin.plugin.js'
import adminRoutes from './modules/admin/admin.routes.js'
import webAppPlugin, { type WebAppOptions } from './plugins/web-app.plugin.js'
import presencePlugin, { type PresencePluginOptions } from './modules/presence/presence.plugin.js'
import { validatorCompiler } from './shared/validation.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig
  }
}

export interface BuildOptions {
  /** Fastify's logger option; default: pino at config.logLevel. */
  logger?: boolean | FastifyLoggerOptions
  /** Redis connection timings (only used with REDIS_URL). */
  cluster?: ClusterPluginOptions
  /** How often each instance polls MongoDB for revocations made elsewhere; default 2000 ms, 0 disables (tests). */
  revocationPollMs?: number
  /** Presence store and the Redis store's timings (defaults in presence.plugin.ts). */
  presence?: PresencePluginOptions
  /** The attachments plugin's orphan sweep interval (default in attachments.plugin.ts). */
  attachments?: AttachmentsPluginOptions
  /** Where the built web app is (default dist/web), or false for none. */
  webApp?: WebAppOptions
}

/** Largest JSON body the REST facade accepts (uploads go through multipart with their own limit). */
const JSON_BODY_LIMIT = 1024 * 1024

/**
 * Node's HTTP server timeouts from the config: a request (headers and body, so an upload too) must arrive within
 * REQUEST_TIMEOUT and its headers within HEADERS_TIMEOUT, or the server answers 408 and closes the connection (an
 * upload cut that way is aborted and its GridFS chunks deleted); 0 disables either. Node checks them every connectionsCheckingInterval
 * (its default of 30 s would let a short timeout overrun by that much). No idle timeout: Socket.IO's long-polling
 * requests wait silently for up to a ping interval; keep-alive connections close after Fastify's 72 s.
 */
function httpTimeouts (config: AppConfig): { requestTimeout: number, http: { headersTimeout: number, requestTimeout: number, connectionsCheckingInterval: number } } {
  const requestTimeout = config.requestTimeoutSeconds * 1000
  const headersTimeout = config.headersTimeoutSeconds * 1000
  const shortest = Math.min(...[requestTimeout, headersTimeout].filter(ms => ms > 0), 120_000)
  const connectionsCheckingInterval = Math.min(30_000, Math.max(250, shortest / 4))
  return { requestTimeout, http: { headersTimeout, requestTimeout, connectionsCheckingInterval } }
}

/**
 * Builds the whole app from a config without listening: what the server entry and the tests both use.
 * No side effects at import.
 */
export async function buildApp (config: AppConfig, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? { level: config.logLevel } as FastifyLoggerOptions,
    trustProxy: config.trustProxy,
    bodyLimit: JSON_BODY_LIMIT,
    ...httpTimeouts(config),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } }
  })

  app.decorate('config', config)
  // Every route validates with TypeBox and decodes its codecs (ids to lower case), REST like sockets.
  app.setValidatorCompiler(validatorCompiler)
  await app.register(errorsPlugin)
  await app.register(jsonBodyPlugin)
  await app.register(readinessPlugin)
  await app.register(securityPlugin, { corsOrigins: config.corsOrigins })
  await app.register(docsPlugin)
  await app.register(metricsPlugin)
  await app.register(storagePlugin, { mongodbUrl: config.mongodbUrl, dataDir: config.dataDir, engineThread: config.dbThread, writeConcern: config.mongodbWriteConcern })
  await app.register(modelsPlugin)
  // Before auth and the gateway: they use app.cluster (null without REDIS_URL) for shared limits, revocations, the adapter.
  await app.register(clusterPlugin, options.cluster ?? {})
  await app.register(authPlugin, { revocationPollMs: options.revocationPollMs })
  await app.register(usersPlugin)
  await app.register(realtimeGateway)
  // Domains, each after the plugins it declares as dependencies (fastify-plugin checks the order).
  await app.register(conversationsPlugin)
  await app.register(presencePlugin, options.presence ?? {})
  await app.register(attachmentsPlugin, options.attachments ?? {})
  await app.register(messagesPlugin)
  await app.register(adminPlugin)
  await app.register(healthRoutes)
  await app.register(authRoutes, { prefix: '/api/auth' })
  await app.register(usersRoutes, { prefix: '/api/users' })
  await app.register(conversationsRoutes, { prefix: '/api/conversations' })
  await app.register(groupsRoutes, { prefix: '/api/conversations' })
  await app.register(messagesRoutes, { prefix: '/api' })
  await app.register(attachmentsRoutes, { prefix: '/api/attachments' })
  await app.register(adminRoutes, { prefix: '/api/admin' })
  await app.register(webAppPlugin, options.webApp ?? {})
  return app
}
