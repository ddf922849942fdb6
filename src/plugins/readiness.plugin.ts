import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { withTimeout } from '../shared/with-timeout.js'

/** A dependency `/ready` must reach: resolves when healthy, throws (or times out) when not. */
export type ReadinessCheck = () => Promise<void>

export interface Readiness {
  /** Infrastructure plugins register what they depend on (storage, and Redis with a cluster). */
  add (name: string, check: ReadinessCheck): void
  /** Runs every check in parallel, each bounded by `timeoutMs`. */
  run (timeoutMs?: number): Promise<{ ready: boolean; checks: Record<string, 'ok' | string> }>
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
      const report: Record<string, string> = {}
      results.forEach((result, i) => {
        report[entries[i][0]] = result.status === 'fulfilled' ? 'ok' : String((result.reason as Error)?.message ?? result.reason)
      })
      return { ready: results.every(r => r.status === 'fulfilled'), checks: report }
    }
  } satisfies Readiness)
}

export default fp(readinessPlugin, { name: 'readiness', fastify: '5.x' })
