/**
 * `npm run capacity [-- --connections 1000000 --messages 100000 ...]`: how many Parley instances, Redis shards and
 * MongoDB shards a load needs, from unit costs. The defaults are the figures measured on the project's 2-core VM
 * (docs/benchmarks.md, 2026-12-01) or, where this machine cannot measure them (a real MongoDB shard), stated
 * assumptions; docs/scaling.md explains each. Change a flag when a figure changes and run it again.
 */
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

export interface UnitCosts {
  /** Sockets one instance holds with its event loop still responsive (bench:scale: 10,000 on 2 cores). */
  socketsPerInstance: number
  /** Messages per second one instance stores and delivers at its CPU limit (npm run bench on 2 cores, MongoDB elsewhere). */
  messagesPerInstance: number
  /** Fraction of those limits to plan for, leaving room for spikes, GC and a failed instance's sockets. */
  headroom: number
  /** Socket deliveries per message (members online times their devices; 2-3 for direct chats). */
  deliveriesPerMessage: number
  /** Deliveries per second an instance's sockets take (bench:groups: 124,095 into one group of 500 on 2 cores). */
  deliveriesPerInstance: number
  /**
   * Redis CPU per message, µs (bench:scale-out, sharded adapter: 2.5-2.7 with the message limit off, flat in the
   * number of instances; the per-user message limit's counter adds about one command).
   */
  redisMicrosPerMessage: number
  /** CPU one Redis shard has, µs per second: one core (Redis runs commands on one thread). */
  redisMicrosPerShard: number
  /** MongoDB document writes per message after group commit (the message, plus amortised bookkeeping and receipts). */
  mongoWritesPerMessage: number
  /** Durable writes per second one MongoDB shard (a replica set's primary) takes: an assumption, not measured here. */
  mongoWritesPerShard: number
}

export const MEASURED: UnitCosts = {
  socketsPerInstance: 10_000,
  messagesPerInstance: 3_000,
  headroom: 0.6,
  deliveriesPerMessage: 2.5,
  deliveriesPerInstance: 120_000,
  redisMicrosPerMessage: 4,
  redisMicrosPerShard: 1_000_000,
  mongoWritesPerMessage: 1.5,
  mongoWritesPerShard: 20_000
}

export interface Plan {
  instances: number
  /** Which limit sets the instance count. */
  instancesBoundBy: 'connections' | 'messages' | 'deliveries'
  redisShards: number
  mongoShards: number
}

const atLeastOne = (value: number): number => Math.max(1, Math.ceil(value))

/** The smallest cluster that carries `connections` sockets and `messages` per second within the headroom. */
export function plan (connections: number, messages: number, costs: UnitCosts = MEASURED): Plan {
  const byLimit = {
    connections: connections / (costs.socketsPerInstance * costs.headroom),
    messages: messages / (costs.messagesPerInstance * costs.headroom),
    deliveries: messages * costs.deliveriesPerMessage / (costs.deliveriesPerInstance * costs.headroom)
  }
  const [instancesBoundBy, needed] = (Object.entries(byLimit) as Array<[Plan['instancesBoundBy'], number]>).sort((a, b) => b[1] - a[1])[0]
  return {
    instances: atLeastOne(needed),
    instancesBoundBy,
    redisShards: atLeastOne(messages * costs.redisMicrosPerMessage / (costs.redisMicrosPerShard * costs.headroom)),
    mongoShards: atLeastOne(messages * costs.mongoWritesPerMessage / (costs.mongoWritesPerShard * costs.headroom))
  }
}

function main (): void {
  const options = Object.fromEntries(Object.keys(MEASURED).map(name => [name, { type: 'string' as const }]))
  const { values } = parseArgs({ options: { ...options, connections: { type: 'string' }, messages: { type: 'string' } }, strict: true })
  const costs = { ...MEASURED }
  for (const name of Object.keys(MEASURED) as Array<keyof UnitCosts>) {
    const given = (values as Record<string, string | undefined>)[name]
    if (typeof given === 'string') costs[name] = Number(given)
  }
  const connections = Number(values.connections ?? 1_000_000)
  const messages = Number(values.messages ?? 100_000)
  for (const [name, value] of Object.entries({ connections, messages, ...costs })) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name}: must be a positive number`)
  }
  const result = plan(connections, messages, costs)
  console.log(`load: ${connections.toLocaleString('en-US')} connections, ${messages.toLocaleString('en-US')} messages/s`)
  console.log('unit costs:', JSON.stringify(costs))
  console.log(`Parley instances (2 cores each): ${result.instances} (bound by ${result.instancesBoundBy})`)
  console.log(`Redis shards (Redis Cluster masters): ${result.redisShards}`)
  console.log(`MongoDB shards: ${result.mongoShards}`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main()
