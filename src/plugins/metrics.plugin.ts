import fp from 'fastify-plugin'
import metricsModule from 'fastify-metrics'
import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Gauge, type Registry } from 'prom-client'
import { tokenFromHeader } from './auth.plugin.js'
import { unauthorized } from '../shared/errors.js'
import { socketMetrics } from './metrics/socket-metrics.js'
import { storageMetrics } from './metrics/storage-metrics.js'

// fastify-metrics is CommonJS with its plugin on `default`.
const metrics = metricsModule.default

/** Compares in constant time, so the token cannot be guessed byte by byte from response times. */
function sameToken (given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** `parley_redis_up`, read at scrape time: only with a cluster (REDIS_URL); a single instance has no such series. */
function redisGauge (app: FastifyInstance, registry: Registry): void {
  if (app.config.redisUrl === null) return
  registry.registerMetric(new Gauge({
    name: 'parley_redis_up',
    help: '1 while this instance\'s Redis command connection is ready, 0 during an outage',
    registers: [],
    // The cluster plugin is registered after this one; by the first scrape app.cluster is set.
    collect () { this.set(app.cluster?.isUp() === true ? 1 : 0) }
  }))
}

/**
 * Prometheus metrics at /metrics: process defaults (event-loop lag included), per-route request durations, and
 * Parley's own (docs/operations.md): the gateway's sockets and events, database commands, Redis. Public unless
 * METRICS_TOKEN is set; then a scraper sends `Authorization: Bearer <METRICS_TOKEN>` and anything else is a 401.
 * Registered before storage and the gateway, which report to `app.storageMetrics` and `app.realtimeMetrics` when
 * they find them.
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
    // prom-client's defaults: CPU, memory, GC, handles, and the event-loop lag (nodejs_eventloop_lag_seconds, ...).
    defaultMetrics: { enabled: true },
    routeMetrics: { enabled: { histogram: true, summary: false } }
  })
  // The same registry, just cleared for this app: nothing of another app's is left to clash with.
  const registry = app.metrics.client.register
  app.decorate('realtimeMetrics', socketMetrics(registry))
  app.decorate('storageMetrics', storageMetrics(registry))
  redisGauge(app, registry)
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x' })
