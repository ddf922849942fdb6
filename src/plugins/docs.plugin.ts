import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { asyncApiDocument } from './asyncapi-document.js'

/** Parley's version from its package.json, the nearest one above this file (src/ under tsx, dist/src/ when built). */
export function packageVersion (from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'parley' && typeof pkg.version === 'string') return pkg.version
    }
    if (dirname(dir) === dir) throw new Error('package.json of parley not found')
  }
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
  await app.register(swaggerUi, { routePrefix: '/docs' })
  const asyncApi = JSON.stringify(asyncApiDocument({ version, host: `localhost:${app.config.port}` }))
  app.get('/docs/asyncapi.json', { schema: { hide: true } }, async (_request, reply) => {
    return await reply.type('application/json; charset=utf-8').send(asyncApi)
  })
}

export default fp(docsPlugin, { name: 'docs', fastify: '5.x' })
