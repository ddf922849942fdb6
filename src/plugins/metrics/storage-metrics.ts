/**
 * Database command timings and failures (storage/command-metrics.ts) as Prometheus metrics. The `command` label is
 * one of a fixed list, `other` for anything else, so a new driver command cannot add series.
 */
import { Counter, Histogram, type Registry } from 'prom-client'
import type { CommandMetrics } from '../../storage/command-metrics.js'

/** The commands Parley's reads, writes, indexes and cursors send; every other name is counted as `other`. */
export const COMMANDS = [
  'find', 'getMore', 'aggregate', 'count', 'distinct', 'insert', 'update', 'delete', 'findAndModify', 'bulkWrite',
  'create', 'createIndexes', 'listIndexes', 'listCollections', 'killCursors', 'ping', 'endSessions'
] as const
export const OTHER_COMMAND = 'other'

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

interface Bound { observe: (seconds: number) => void, fail: () => void }

export function storageMetrics (registry: Registry): CommandMetrics {
  const registers = [registry]
  const seconds = new Histogram({
    name: 'parley_storage_command_seconds',
    help: 'Database commands by name, from the driver\'s command start to its reply (failed ones included)',
    labelNames: ['command'] as const,
    buckets: BUCKETS,
    registers
  })
  const errors = new Counter({
    name: 'parley_storage_command_errors_total',
    help: 'Database commands that failed, by name',
    labelNames: ['command'] as const,
    registers
  })
  const bind = (command: string): Bound => {
    const timed = seconds.labels(command)
    const failed = errors.labels(command)
    return { observe: value => { timed.observe(value) }, fail: () => { failed.inc() } }
  }
  const byName = new Map<string, Bound>(COMMANDS.map(command => [command, bind(command)]))
  const other = bind(OTHER_COMMAND)
  return {
    command (name, value, failed) {
      const bound = byName.get(name) ?? other
      bound.observe(value)
      if (failed) bound.fail()
    }
  }
}
