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
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LatencyResult, PairSpec, ThroughputResult } from './bench-realtime-clients.js'
import { childClients, fmt, option, processCpu, startDbProcess } from './bench-common.js'

const PAIRS = Number(option('pairs', '50'))
const SECONDS = Number(option('seconds', '10'))
const RATE = Number(option('rate', '1000'))
const WINDOW = Number(option('window', '10'))
const COUNTS = option('instances', '1,2,3').split(',').map(Number)
const REDIS_BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server'
const SECRET = 'bench-cluster-secret-that-is-long-enough-0123456789'

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => { resolve(port) })
    })
  })
}

async function until (what: string, probe: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await probe().catch(() => false)) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`${what} not ready after ${ms} ms`)
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

async function startRedis (): Promise<{ url: string, child: ChildProcess }> {
  const port = await freePort()
  const child = spawn(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  child.once('error', error => { console.error(`cannot start ${REDIS_BIN}: ${error.message}`); process.exit(1) })
  await until('redis-server', async () => await new Promise<boolean>(resolve => {
    const socket = net.connect(port, '127.0.0.1', () => { socket.end(); resolve(true) })
    socket.once('error', () => { resolve(false) })
  }))
  return { url: `redis://127.0.0.1:${port}`, child }
}

interface Instance { url: string, child: ChildProcess }

async function startInstance (env: NodeJS.ProcessEnv): Promise<Instance> {
  const port = await freePort()
  const script = fileURLToPath(new URL('../src/server.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: {
      ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', JWT_SECRET: SECRET,
      RATE_LIMIT_MESSAGES: '0', RATE_LIMIT_SOCKET_EVENTS: '0', RATE_LIMIT_LOGIN: '0', RATE_LIMIT_LOGIN_ACCOUNT: '0', RATE_LIMIT_REGISTER: '0',
      ARGON2_MEMORY_KIB: '64', ARGON2_TIME_COST: '1', ARGON2_PARALLELISM: '1', ...env
    },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const url = `http://127.0.0.1:${port}`
  await until(`instance on ${port}`, async () => (await fetch(`${url}/health`)).ok)
  return { url, child }
}

async function post (url: string, body: object, token?: string): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body)
  })
  if (res.status >= 300) throw new Error(`${url}: ${res.status} ${await res.text()}`)
  return await res.json()
}

/** Users and one direct conversation per pair, created through the first instance. */
async function makePairs (instances: Instance[], tag: string): Promise<PairSpec[]> {
  const user = async (name: string): Promise<{ id: string, token: string }> => {
    const registered = await post(`${instances[0].url}/api/auth/register`, { username: name, email: `${name}@example.com`, password: 'correct horse battery' })
    const login = await post(`${instances[0].url}/api/auth/login`, { login: name, password: 'correct horse battery' })
    return { id: registered.user.id, token: login.accessToken }
  }
  const pairs: PairSpec[] = []
  for (let i = 0; i < PAIRS; i++) {
    const sender = await user(`s${tag}_${i}`)
    const receiver = await user(`r${tag}_${i}`)
    const conversation = await post(`${instances[0].url}/api/conversations`, { type: 'direct', userId: receiver.id }, sender.token)
    pairs.push({
      senderToken: sender.token,
      receiverToken: receiver.token,
      conversationId: conversation.id,
      senderUrl: instances[i % instances.length].url,
      receiverUrl: instances[(i + 1) % instances.length].url
    })
  }
  return pairs
}

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
        const spec = { label, url: instances[0].url, pairs: await makePairs(instances, String(index)) }
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
