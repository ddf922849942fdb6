import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

/** OpenAPI generated from the routes' TypeBox schemas: JSON at /docs/json, UI at /docs. */
async function docsPlugin (app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley',
        version: '0.1.0',
        description: 'REST facade of the Parley realtime chat backend. Realtime events (Socket.IO) are described in docs/api.md.'
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } }
      }
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
}

export default fp(docsPlugin, { name: 'docs', fastify: '5.x' })
