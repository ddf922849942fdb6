/**
 * What the storage plugin reports about the database commands it runs, from the MongoDB driver's command
 * monitoring, for whoever measures them. The metrics plugin decorates `app.storageMetrics` with a Prometheus
 * implementation (plugins/metrics/storage-metrics.ts) before storage is registered; without it commands are not
 * monitored at all (the driver then builds no monitoring events).
 */
import type { mongo } from 'mongoose'

export interface CommandMetrics {
  /** One command finished; `name` is the driver's command name (`find`, `insert`, ...), `failed` when it threw. */
  command: (name: string, seconds: number, failed: boolean) => void
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by the metrics plugin when it is registered before storage; optional. */
    storageMetrics?: CommandMetrics
  }
}

/** Commands timed at once at most; past it the oldest start times are dropped (a command never answered). */
const MAX_IN_FLIGHT = 10_000

/**
 * Reports every command of a client created with `monitorCommands: true`. Timed here from its start event: the
 * driver's own `duration` is in whole milliseconds, too coarse for the embedded engine's sub-millisecond reads;
 * it is the fallback for a command whose start was not seen.
 */
export function reportCommands (client: mongo.MongoClient, metrics: CommandMetrics): void {
  const started = new Map<number, number>()
  const elapsed = (requestId: number, driverMs: number): number => {
    const at = started.get(requestId)
    if (at === undefined) return driverMs / 1000
    started.delete(requestId)
    return (performance.now() - at) / 1000
  }
  client.on('commandStarted', event => {
    if (started.size >= MAX_IN_FLIGHT) started.delete(started.keys().next().value as number)
    started.set(event.requestId, performance.now())
  })
  client.on('commandSucceeded', event => { metrics.command(event.commandName, elapsed(event.requestId, event.duration), false) })
  client.on('commandFailed', event => { metrics.command(event.commandName, elapsed(event.requestId, event.duration), true) })
}
