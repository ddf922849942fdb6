import fp from 'fastify-plugin'
import metricsModule from 'fastify-metrics'
import type { FastifyInstance } from 'fastify'

// fastify-metrics is CommonJS with its plugin on `default`.
const metrics = metricsModule.default

/** Prometheus metrics at /metrics: process defaults plus per-route request durations. */
async function metricsPlugin (app: FastifyInstance): Promise<void> {
  await app.register(metrics, {
    endpoint: '/metrics',
    // Tests build many apps in one process; each starts from a clean default registry.
    clearRegisterOnInit: true,
    routeMetrics: { enabled: { histogram: true, summary: false } }
  })
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x' })
