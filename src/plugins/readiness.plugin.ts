import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { withTimeout } from '../shared/with-timeout.js'

/** A dependency `/ready` must reach: resolves when healthy, throws (or times out) when not. */
export type ReadinessCheck = () => Promise<void>

/** What `/ready` tells about each check: the reason stays in the log (it may name hosts and ports). */
export type CheckState = 'ok' | 'unavailable'

export interface Readiness {
  /** Infrastructure plugins register what they depend on (storage, and Redis with a cluster). */
  add (name: string, check: ReadinessCheck): void
  /** Runs every check in parallel, each bounded by `timeoutMs`; logs why a check failed. */
  run (timeoutMs?: number): Promise<{ ready: boolean; checks: Record<string, CheckState> }>
}

declare module 'fastify' {
  interface FastifyInstance {
    readiness: Readiness
  }
}

async function readinessPlugin (app: FastifyInstance): Promise<void> {
  const checks = new Map<string, ReadinessCheck>()
  app.decorate('readiness', {
    add (name, check) { checks.set(name, check) },
    async run (timeoutMs = 2000) {
      const entries = [...checks.entries()]
      const results = await Promise.allSettled(entries.map(async ([, check]) => await withTimeout(check(), timeoutMs, `no answer within ${timeoutMs} ms`)))
      const report: Record<string, CheckState> = {}
      results.forEach((result, i) => {
        const name = entries[i][0]
        report[name] = result.status === 'fulfilled' ? 'ok' : 'unavailable'
        if (result.status === 'rejected') app.log.warn({ check: name, err: result.reason }, 'readiness: check failed')
      })
      return { ready: results.every(r => r.status === 'fulfilled'), checks: report }
    }
  } satisfies Readiness)
}

export default fp(readinessPlugin, { name: 'readiness', fastify: '5.x' })
