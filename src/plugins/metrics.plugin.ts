import fp from 'fastify-plugin'
import metricsModule from 'fastify-metrics'
import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { tokenFromHeader } from './auth.plugin.js'
import { unauthorized } from '../shared/errors.js'

// fastify-metrics is CommonJS with its plugin on `default`.
const metrics = metricsModule.default

/** Compares in constant time, so the token cannot be guessed byte by byte from response times. */
function sameToken (given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * Prometheus metrics at /metrics: process defaults plus per-route request durations. Public unless METRICS_TOKEN
 * is set; then a scraper sends `Authorization: Bearer <METRICS_TOKEN>` and anything else is a 401.
 */
async function metricsPlugin (app: FastifyInstance): Promise<void> {
  const { metricsToken } = app.config
  const guard = async (request: FastifyRequest): Promise<void> => {
    if (metricsToken !== null && !sameToken(tokenFromHeader(request.headers.authorization), metricsToken)) {
      throw unauthorized('The metrics token is wrong', 'INVALID_TOKEN')
    }
  }
  await app.register(metrics, {
    // fastify-metrics puts its own handler on this route; the guard runs first.
    endpoint: { url: '/metrics', method: 'GET', logLevel: 'fatal', exposeHeadRoute: false, onRequest: guard, handler: async () => {} },
    // Tests build many apps in one process; each starts from a clean default registry.
    clearRegisterOnInit: true,
    routeMetrics: { enabled: { histogram: true, summary: false } }
  })
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x' })
