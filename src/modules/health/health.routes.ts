import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const Health = Type.Object({ status: Type.Literal('ok') })
const Ready = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  checks: Type.Record(Type.String(), Type.String())
})

/** Liveness and readiness for load balancers and orchestrators. */
const healthRoutes: FastifyPluginAsyncTypebox = async app => {
  app.get('/health', {
    schema: { tags: ['operations'], summary: 'The process is alive', response: { 200: Health } }
  }, async () => ({ status: 'ok' as const }))

  app.get('/ready', {
    schema: {
      tags: ['operations'],
      summary: 'MongoDB (and Redis when configured) are reachable',
      response: { 200: Ready, 503: Ready }
    }
  }, async (_request, reply) => {
    const { ready, checks } = await app.readiness.run()
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks })
  })
}

export default healthRoutes
