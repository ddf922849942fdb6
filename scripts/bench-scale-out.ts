/**
 * `npm run bench:scale-out`: what an instance pays for traffic it has no part in, with the classic and the sharded
 * Socket.IO adapter over Redis, in one run. For each adapter and each instance count: one store (`npm run db`) and
 * one redis-server shared by N Parley processes; the chat runs only between users on instances 1 and 2 (senders on
 * 1, receivers on 2; with one instance both on it), while every other instance holds idle sockets of its own users,
 * each in a direct conversation of its own (so it has rooms, as a real instance would). The same clients as
 * `npm run bench` keep a window of messages in flight per sender; per instance the process CPU time during the phase
 * is divided by the messages delivered.
 *
 * Aim (issue 15): with the sharded adapter an uninvolved instance's CPU per message under 5 % of an involved one's;
 * with the classic adapter every instance decodes every broadcast.
 *
 * Redis's own INFO commandstats before and after each phase give the Redis commands and Redis CPU per message.
 *
 * Options: --instances 1,2,4,6, --adapters classic,sharded, --pairs 20, --seconds 8, --window 10,
 * --idle 20 (idle sockets on each uninvolved instance). On a 2-core machine the instances share two cores: the
 * throughput column shows contention, the CPU columns are the measure.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { childClients, fmt, option, processCpu, startDbProcess } from './bench-common.js'
import { makePairs, redisCommandStats, startInstance, startRedis, stopChild, type Instance } from './bench-cluster-kit.js'

const COUNTS = option('instances', '1,2,4,6').split(',').map(Number)
const ADAPTERS = option('adapters', 'classic,sharded').split(',')
const PAIRS = Number(option('pairs', '20'))
const SECONDS = Number(option('seconds', '8'))
const WINDOW = Number(option('window', '10'))
const IDLE = Number(option('idle', '20'))
for (const adapter of ADAPTERS) if (adapter !== 'classic' && adapter !== 'sharded') throw new Error(`--adapters: unknown ${adapter}`)

interface Row {
  adapter: string
  instances: number
  perSecond: number
  delivered: number
  errors: number
  /** µs of CPU per delivered message: the busier involved instance, and the mean over uninvolved ones. */
  involved: number
  uninvolved: number | null
  /** The uninvolved instances' CPU at rest (µs per second, measured before the phase), included in `uninvolved`. */
  restPerSecond: number | null
  /** `uninvolved` without what those instances spend at rest over the phase's duration. */
  uninvolvedNet: number | null
  /** Redis commands and Redis CPU (µs) per delivered message in the phase, and the commands that made most of them. */
  redisCalls: number
  redisUsec: number
  topCommands: string
}

async function measure (adapter: string, count: number, dbUrl: string, redisUrl: string, load: ReturnType<typeof childClients>, tag: string): Promise<Row> {
  const env = { MONGODB_URL: dbUrl.replace('/?', `/scaleout${tag}?`), REDIS_URL: redisUrl, REDIS_ADAPTER: adapter }
  const instances: Instance[] = await Promise.all(Array.from({ length: count }, async () => await startInstance(env)))
  try {
    const receiverAt = Math.min(1, count - 1)
    const pairs = await makePairs(instances, `${tag}p`, PAIRS, () => [0, receiverAt])
    const bystanders = instances.slice(2)
    for (const [index, instance] of bystanders.entries()) {
      const idlePairs = await makePairs(instances, `${tag}i${index}`, Math.ceil(IDLE / 2), () => [0, 0])
      await load.openIdle(instance.url, idlePairs.flatMap(pair => [pair.senderToken, pair.receiverToken]), IDLE)
    }
    const cpu = (): number[] => instances.map(instance => processCpu(instance.child.pid))
    // The bystanders' own cost with no chat anywhere (timers, presence heartbeats), to tell it from the chat's.
    const restStart = cpu()
    const restMs = Math.max(1000, SECONDS * 500)
    await new Promise(resolve => setTimeout(resolve, restMs))
    const restSpent = cpu().map((value, i) => value - restStart[i]).slice(2)
    const before = cpu()
    const redisBefore = await redisCommandStats(redisUrl)
    const result = await load.throughput({ label: `${adapter}, ${count} instance${count > 1 ? 's' : ''}`, url: instances[0].url, pairs })
    const spent = cpu().map((value, i) => value - before[i])
    const redisAfter = await redisCommandStats(redisUrl)
    const commandCounts = Object.entries(redisAfter.byCommand).map(([name, calls]) => [name, calls - (redisBefore.byCommand[name] ?? 0)] as const)
    await load.closeIdle()
    const perMessage = (us: number): number => us / Math.max(1, result.delivered)
    const uninvolved = spent.slice(2)
    const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length
    const restPerSecond = restSpent.length > 0 ? mean(restSpent) / (restMs / 1000) : null
    return {
      adapter,
      instances: count,
      perSecond: result.perSecond,
      delivered: result.delivered,
      errors: result.errors,
      involved: perMessage(Math.max(...spent.slice(0, 2))),
      uninvolved: uninvolved.length > 0 ? perMessage(mean(uninvolved)) : null,
      restPerSecond,
      uninvolvedNet: restPerSecond !== null ? Math.max(0, perMessage(mean(uninvolved) - restPerSecond * result.seconds)) : null,
      redisCalls: (redisAfter.calls - redisBefore.calls - 1) / Math.max(1, result.delivered),
      redisUsec: perMessage(redisAfter.usec - redisBefore.usec),
      topCommands: commandCounts.filter(([, calls]) => calls > 0).sort((a, b) => b[1] - a[1]).slice(0, 3)
        .map(([name, calls]) => `${name} ${fmt(calls / Math.max(1, result.delivered), 2)}`).join(', ')
    }
  } finally {
    await Promise.all(instances.map(async instance => { await stopChild(instance.child) }))
  }
}

async function main (): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-scale-out-'))
  const db = await startDbProcess(dataDir)
  const redis = await startRedis()
  const load = childClients({ seconds: SECONDS, window: WINDOW, rate: 0 })
  const rows: Row[] = []
  console.log(`load average before: ${loadavg().map(v => v.toFixed(2)).join(' ')}`)
  try {
    let tag = 0
    for (const count of COUNTS) {
      for (const adapter of ADAPTERS) {
        console.log(`--- ${adapter} adapter, ${count} instance${count > 1 ? 's' : ''}`)
        rows.push(await measure(adapter, count, db.url, redis.url, load, String(tag++)))
      }
    }
  } finally {
    load.close()
    await stopChild(redis.child)
    await stopChild(db.child)
    rmSync(dataDir, { recursive: true, force: true })
  }
  console.log('')
  console.log(`load average after: ${loadavg().map(v => v.toFixed(2)).join(' ')}`)
  console.log('| adapter | instances | delivered msgs/s | failed sends | CPU per message, involved instance, µs | uninvolved instance, µs (at rest, µs/s) | uninvolved less its rest, µs | that / involved | Redis commands per message (most) | Redis CPU per message, µs |')
  console.log('|---|---|---|---|---|---|---|---|---|---|')
  const pct = (part: number | null, whole: number): string => part !== null ? `${fmt(100 * part / whole, 1)} %` : ''
  for (const row of rows) {
    const uninvolved = row.uninvolved !== null ? `${fmt(row.uninvolved, 1)} (${fmt(row.restPerSecond ?? 0, 0)})` : ''
    console.log(`| ${row.adapter} | ${row.instances} | ${fmt(row.perSecond, 0)} | ${row.errors} | ${fmt(row.involved, 0)} | ${uninvolved} | ` +
      `${row.uninvolvedNet !== null ? fmt(row.uninvolvedNet, 1) : ''} | ${pct(row.uninvolvedNet, row.involved)} | ${fmt(row.redisCalls, 2)} (${row.topCommands}) | ${fmt(row.redisUsec, 1)} |`)
  }
  const sharded = rows.filter(row => row.adapter === 'sharded' && row.uninvolvedNet !== null)
  if (sharded.length > 0) {
    const worst = Math.max(...sharded.map(row => 100 * (row.uninvolvedNet as number) / row.involved))
    console.log(`\naim: sharded uninvolved CPU per message < 5 % of an involved instance's: ${worst < 5 ? 'met' : 'NOT met'} (worst ${fmt(worst, 1)} %)`)
  }
}

main().catch(error => {
  console.error(error)
  process.exit(1)
})
