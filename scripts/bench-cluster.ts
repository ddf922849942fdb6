/**
 * `npm run bench:cluster`: Parley as a cluster on this machine, in one run. One store served by `npm run db` and one
 * spawned `redis-server`, then, in turn: 1 instance without Redis (the baseline), 1 instance with the Redis adapter,
 * 2 and 3 instances (processes running src/server.ts). Each sender sits on instance i % N and its receiver on
 * (i + 1) % N, so with 2 or 3 instances every message crosses instances. The same clients as `npm run bench` (in a
 * child process) measure throughput (a window of messages in flight per sender) and latency at a fixed offered rate;
 * the CPU time of every server process plus the store and Redis is divided by the messages delivered.
 *
 * Options: --pairs N (50), --seconds S per phase (10), --rate msgs/s (1000), --window (10), --instances 1,2,3.
 * On a 2-core machine, more instances mean more processes sharing the same two cores: the figures show the
 * adapter's cost and the cluster's overhead, not scaling (which needs more cores or machines).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LatencyResult, ThroughputResult } from './bench-realtime-clients.js'
import { childClients, fmt, option, processCpu, startDbProcess } from './bench-common.js'
import { makePairs, startInstance, startRedis, stopChild } from './bench-cluster-kit.js'

const PAIRS = Number(option('pairs', '50'))
const SECONDS = Number(option('seconds', '10'))
const RATE = Number(option('rate', '1000'))
const WINDOW = Number(option('window', '10'))
const COUNTS = option('instances', '1,2,3').split(',').map(Number)

interface Row { label: string, throughput: ThroughputResult, latency: LatencyResult, cpuPerMessage: number }

async function main (): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-cluster-'))
  const db = await startDbProcess(dataDir)
  const redis = await startRedis()
  const load = childClients({ seconds: SECONDS, window: WINDOW, rate: RATE })
  const rows: Row[] = []
  console.log(`load average before: ${loadavg().map(v => v.toFixed(2)).join(' ')}`)
  try {
    const setups = [{ count: 1, redis: false }, ...COUNTS.map(count => ({ count, redis: true }))]
    for (const [index, setup] of setups.entries()) {
      const label = `${setup.count} instance${setup.count > 1 ? 's' : ''}${setup.redis ? ' + Redis adapter' : ', no Redis (baseline)'}`
      console.log(`--- ${label}`)
      const env = { MONGODB_URL: db.url.replace('/?', `/cluster${index}?`), ...(setup.redis ? { REDIS_URL: redis.url } : {}) }
      const instances = await Promise.all(Array.from({ length: setup.count }, async () => await startInstance(env)))
      try {
        const spec = { label, url: instances[0].url, pairs: await makePairs(instances, String(index), PAIRS, i => [i % instances.length, (i + 1) % instances.length]) }
        const pids = [...instances.map(instance => instance.child.pid), db.child.pid, redis.child.pid]
        const cpuBefore = pids.reduce<number>((sum, pid) => sum + processCpu(pid), 0)
        const throughput = await load.throughput(spec)
        const cpu = pids.reduce<number>((sum, pid) => sum + processCpu(pid), 0) - cpuBefore
        const latency = await load.latency(spec)
        rows.push({ label, throughput, latency, cpuPerMessage: cpu / Math.max(1, throughput.delivered) })
      } finally {
        await Promise.all(instances.map(async instance => { await stopChild(instance.child) }))
      }
    }
  } finally {
    load.close()
    await stopChild(redis.child)
    await stopChild(db.child)
    rmSync(dataDir, { recursive: true, force: true })
  }
  const base = rows[0]
  console.log('')
  console.log(`load average after: ${loadavg().map(v => v.toFixed(2)).join(' ')}`)
  console.log(`| setup | delivered msgs/s | vs baseline | p50 / p99 at ${RATE} msgs/s, ms | lost / failed acks | CPU per message (all processes), µs |`)
  console.log('|---|---|---|---|---|---|')
  for (const row of rows) {
    console.log(`| ${row.label} | ${fmt(row.throughput.perSecond, 0)} | ${fmt(row.throughput.perSecond / base.throughput.perSecond, 2)} | ` +
      `${fmt(row.latency.p50, 1)} / ${fmt(row.latency.p99, 1)} | ${row.latency.lost} / ${row.throughput.errors + row.latency.errors} | ${fmt(row.cpuPerMessage, 0)} |`)
  }
}

main().catch(error => {
  console.error(error)
  process.exit(1)
})
