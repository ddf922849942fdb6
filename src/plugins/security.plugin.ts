import fp from 'fastify-plugin'
import helmet from '@fastify/helmet'
import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'

export interface SecurityOptions {
  /** `'*'` any origin; a list: only those; empty: no cross-origin access. */
  corsOrigins: string[] | '*'
}

/** Security headers (helmet) and CORS, from configuration. */
async function securityPlugin (app: FastifyInstance, options: SecurityOptions): Promise<void> {
  // The API serves JSON and files, not pages; the CSP would only break the /docs UI.
  await app.register(helmet, { contentSecurityPolicy: false, crossOriginResourcePolicy: { policy: 'cross-origin' } })
  await app.register(cors, {
    origin: options.corsOrigins === '*' ? true : options.corsOrigins.length > 0 ? options.corsOrigins : false,
    credentials: true
  })
}

export default fp(securityPlugin, { name: 'security', fastify: '5.x' })
