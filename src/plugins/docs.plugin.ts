import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { asyncApiDocument } from './asyncapi-document.js'
import { packageVersion } from '../shared/package-info.js'

/** The Content-Security-Policy of the Swagger UI's pages. */
export const DOCS_UI_CSP = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'frame-ancestors': ["'none'"]
}

/**
 * API documents, built once at startup: OpenAPI from the routes' TypeBox schemas (JSON at /docs/json, UI at /docs)
 * and AsyncAPI from the socket contract's (/docs/asyncapi.json, see asyncapi-document.ts).
 */
async function docsPlugin (app: FastifyInstance): Promise<void> {
  const version = packageVersion()
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley',
        version,
        description: 'REST facade of the Parley realtime chat backend. Realtime events (Socket.IO) are described in ' +
          'AsyncAPI at /docs/asyncapi.json and in docs/api.md.'
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } }
      }
    }
  })
  // The UI is same-origin with the web app (whose tokens are in sessionStorage): its pages run no script but its
  // own files. Inline styles stay allowed (the UI sets some); no upgrade-insecure-requests (plain-http development).
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: DOCS_UI_CSP })
  const asyncApi = JSON.stringify(asyncApiDocument({ version, host: `localhost:${app.config.port}` }))
  app.get('/docs/asyncapi.json', { schema: { hide: true } }, async (_request, reply) => {
    return await reply.type('application/json; charset=utf-8').send(asyncApi)
  })
}

export default fp(docsPlugin, { name: 'docs', fastify: '5.x' })
