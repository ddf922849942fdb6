/**
 * `npm run bench`: Parley's realtime path against a bare Socket.IO relay, in one run on this machine.
 *  - Parley: the real app (buildApp) on the embedded engine with a temporary durable DATA_DIR, listening on
 *    127.0.0.1:0; users registered and logged in over REST, one direct conversation per pair; each sender emits
 *    `chat_message {conversationId, body, clientMsgId}` and the receiver gets `re_message` (stored, seq'd, acked).
 *  - Relay: a plain socket.io Server that puts each socket in the room named in its handshake and forwards each
 *    message to that room except the sender, then acks (no auth, no validation, no storage).
 * The same client code (bench-realtime-clients.ts) and the same ~100-byte bodies drive both, in two phases:
 * throughput (each sender keeps a window of messages in flight) and latency at a fixed offered rate; then the
 * server's RSS per idle socket. Clients run in a child process by default so they do not share the servers' loop.
 *
 * Options: --pairs N (50), --seconds S per phase (10), --rate msgs/s total (1000), --window in flight per sender
 * (10), --idle sockets (1000), --clients-in-child=false (clients in this process), --profile FILE.cpuprofile
 * (CPU profile of this process, i.e. the servers, during Parley's throughput phase; prints the top functions),
 * --data-dir DIR (default: a fresh temporary directory, removed after; `:memory:` for no journal), --db-process
 * (the embedded engine in its own process, `npm run db`, as several instances would share it; its CPU time is
 * added to the server's), --db-thread=false (the in-process engine on the app's event loop, not its own thread), --only idle (only the RSS-per-idle-socket phase: quick, for memory work; the idle sockets
 * then come from enough users for at most 10 sockets each, as with the defaults).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import * as clients from './bench-realtime-clients.js'
import type { LatencyResult, LoadSpec, PairSpec, ThroughputResult } from './bench-realtime-clients.js'
import { childClients, fmt, option, processCpu, startBenchApp, startDbProcess, startRelayServer, type Clients } from './bench-common.js'

const PAIRS = Number(option('pairs', '50'))
const SECONDS = Number(option('seconds', '10'))
const RATE = Number(option('rate', '1000'))
const WINDOW = Number(option('window', '10'))
const IDLE = Number(option('idle', '1000'))
const IN_CHILD = option('clients-in-child', 'true') !== 'false'
const PROFILE = option('profile', '')
/** A directory to use instead of a fresh temporary one; `:memory:` runs the engine without a journal (for comparison). */
const DATA_DIR = option('data-dir', '')
const DB_PROCESS = process.argv.includes('--db-process')
/** `--db-thread=false`: the in-process engine on the app's event loop instead of its own thread (DB_THREAD=false). */
const DB_THREAD = option('db-thread', 'true') !== 'false'
/** `idle`: run only the idle-socket phase. */
const ONLY = option('only', '')
if (ONLY !== '' && ONLY !== 'idle') throw new Error(`--only ${ONLY}: only "idle" is supported`)
/** Idle sockets per user at most (MAX_SOCKETS_PER_USER is 20); the defaults give 1,000 sockets over 100 users. */
const IDLE_PER_USER = 10

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function localClients (): Clients {
  const log = (line: string): void => { console.log(line) }
  return {
    throughput: async spec => await clients.runThroughput(spec, SECONDS, WINDOW, log),
    latency: async spec => await clients.runLatency(spec, SECONDS, RATE, log),
    openIdle: async (url, tokens, count) => await clients.openIdle(url, tokens, count),
    closeIdle: async () => { clients.closeIdle() },
    close: () => {}
  }
}

interface Target {
  label: string
  url: string
  pairs: PairSpec[]
  tokens: string[]
  /** CPU time (µs) of helper processes the server uses (the engine with --db-process). */
  helperCpu: () => number
  close: () => Promise<void>
}

async function startParley (): Promise<Target> {
  const temporary = DATA_DIR === ''
  const dataDir = temporary ? mkdtempSync(join(tmpdir(), 'parley-bench-')) : DATA_DIR
  const db = DB_PROCESS ? await startDbProcess(dataDir) : null
  const storage: Record<string, string> = db !== null ? { MONGODB_URL: `${db.url.replace(/\/\?/, '/parley?').replace(/\/$/, '/parley')}` } : { DB_THREAD: String(DB_THREAD) }
  const { app, url, user } = await startBenchApp(dataDir, storage)
  const pairs: PairSpec[] = []
  // Enough pairs for the idle sockets too; the load phases use the first PAIRS of them.
  const pairCount = Math.max(PAIRS, Math.ceil(IDLE / IDLE_PER_USER / 2))
  for (let i = 0; i < pairCount; i++) {
    const sender = await user(`sender${i}`)
    const receiver = await user(`receiver${i}`)
    const opened = await app.inject({
      method: 'POST', url: '/api/conversations', headers: { authorization: `Bearer ${sender.token}` }, payload: { type: 'direct', userId: receiver.id }
    })
    if (opened.statusCode !== 201) throw new Error(`open conversation failed: ${opened.body}`)
    pairs.push({ senderToken: sender.token, receiverToken: receiver.token, conversationId: opened.json().id })
  }
  return {
    label: 'parley',
    url,
    pairs: pairs.slice(0, PAIRS),
    tokens: pairs.flatMap(pair => [pair.senderToken, pair.receiverToken]),
    helperCpu: () => processCpu(db?.child.pid),
    close: async () => {
      await app.close()
      if (db !== null) {
        db.child.kill('SIGTERM')
        await new Promise(resolve => db.child.once('exit', resolve))
      }
      if (temporary) rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

async function startRelay (): Promise<Target> {
  const relay = await startRelayServer()
  const pairs = Array.from({ length: PAIRS }, (_, i) => ({ senderToken: 'none', receiverToken: 'none', conversationId: `pair${i}` }))
  return { label: 'relay', url: relay.url, pairs, tokens: ['none'], helperCpu: () => 0, close: relay.close }
}

/** This process's memory after a full collection (twice: finalizers free more on the second). */
async function settledMemory (): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 2; i++) {
    gc()
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  return process.memoryUsage()
}

/** cpuPerMessage: the server process's CPU time (user + system) per delivered message in the throughput phase, µs. */
/**
 * rssPerSocket / heapPerSocket: growth of RSS / of the live V8 heap (heapUsed + external) per idle socket, bytes.
 * RSS also moves with heap space already free before the sockets came (the app's start leaves some): the heap figure
 * is the steadier one.
 */
interface Results { throughput: ThroughputResult | null, latency: LatencyResult | null, rssPerSocket: number, heapPerSocket: number, cpuPerMessage: number }

async function measure (target: Target, load: Clients): Promise<Results> {
  const spec: LoadSpec = { label: target.label, url: target.url, pairs: target.pairs }
  // First, on the fresh server: after the load phases the heap holds their garbage and RSS moves on its own.
  console.log(`--- ${target.label}: RSS per idle socket, ${IDLE} sockets`)
  const before = await settledMemory()
  const opened = await load.openIdle(target.url, target.tokens, IDLE)
  await new Promise(resolve => setTimeout(resolve, 1000))
  const after = await settledMemory()
  const rssPerSocket = (after.rss - before.rss) / opened
  const heapPerSocket = (after.heapUsed + after.external - before.heapUsed - before.external) / opened
  await load.closeIdle()
  if (ONLY === 'idle') return { throughput: null, latency: null, rssPerSocket, heapPerSocket, cpuPerMessage: NaN }
  console.log(`--- ${target.label}: throughput, ${PAIRS} pairs, window ${WINDOW} per sender, ${SECONDS} s`)
  let session: Session | null = null
  if (PROFILE !== '' && target.label === 'parley') {
    session = new Session()
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
  }
  // CPU time, unlike wall time, says what a message costs even when other processes share the cores.
  const cpuBefore = process.cpuUsage()
  const helperBefore = target.helperCpu()
  const throughput = await load.throughput(spec)
  const cpu = process.cpuUsage(cpuBefore)
  const cpuPerMessage = (cpu.user + cpu.system + target.helperCpu() - helperBefore) / Math.max(1, throughput.delivered)
  if (session !== null) {
    const { profile } = await session.post('Profiler.stop')
    writeFileSync(PROFILE, JSON.stringify(profile))
    session.disconnect()
    printTopFunctions(profile)
  }
  console.log(`--- ${target.label}: latency at ${RATE} msgs/s offered, ${SECONDS} s (+1 s warm-up)`)
  const latency = await load.latency(spec)
  return { throughput, latency, rssPerSocket, heapPerSocket, cpuPerMessage }
}

/** Self time per function in a V8 CPU profile, top 20. */
function printTopFunctions (profile: { nodes: Array<{ id: number, callFrame: { functionName: string, url: string, lineNumber: number } }>, samples?: number[], timeDeltas?: number[] }): void {
  const byNode = new Map<number, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  samples.forEach((id, i) => byNode.set(id, (byNode.get(id) ?? 0) + (deltas[i] ?? 0)))
  const byFunction = new Map<string, number>()
  let total = 0
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0
    total += us
    const { functionName, url, lineNumber } = node.callFrame
    const where = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/main\//, '')
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`
    byFunction.set(key, (byFunction.get(key) ?? 0) + us)
  }
  // By package too: says whether the time goes to Socket.IO, the database path or Parley's own code.
  const byArea = new Map<string, number>()
  for (const node of profile.nodes) {
    const { url, functionName } = node.callFrame
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]
    const area = pkg ?? (url.includes('/src/storage/embedded/') ? 'embedded engine' : url.includes('/src/') ? 'parley src' : url.startsWith('node:') ? 'node (js)' : url === '' && functionName.startsWith('(') ? functionName : 'native')
    byArea.set(area, (byArea.get(area) ?? 0) + (byNode.get(node.id) ?? 0))
  }
  console.log(`Self time by area: ${[...byArea].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([area, us]) => `${area} ${(us / total * 100).toFixed(1)} %`).join(', ')}`)
  console.log(`Top self time in the server process (${PROFILE}):`)
  for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    console.log(`  ${(us / total * 100).toFixed(1).padStart(5)} %  ${key}`)
  }
}


async function main (): Promise<void> {
  const load = IN_CHILD ? childClients({ seconds: SECONDS, window: WINDOW, rate: RATE }) : localClients()
  console.log(`storage: the embedded engine ${DB_PROCESS ? 'in its own process (npm run db)' : DB_THREAD ? 'on its own thread in the server process' : "on the server process's event loop"}`)
  console.log(`load average before: ${loadavg().map(v => v.toFixed(2)).join(' ')}; clients ${IN_CHILD ? 'in a child process' : 'in the servers\' process (they share one event loop)'}`)
  const results: Record<string, Results> = {}
  for (const start of [startRelay, startParley]) {
    const target = await start()
    results[target.label] = await measure(target, load)
    await target.close()
  }
  load.close()
  const { parley, relay } = results
  const clientsIncluded = IN_CHILD ? '' : ' (clients included)'
  const idleRow = `| server RSS per idle socket (${IDLE} sockets), KiB${clientsIncluded} | ${fmt(parley.rssPerSocket / 1024)} | ${fmt(relay.rssPerSocket / 1024)} | ${fmt(parley.rssPerSocket / relay.rssPerSocket, 2)} |\n` +
    `| server heap (used + external) per idle socket, KiB${clientsIncluded} | ${fmt(parley.heapPerSocket / 1024)} | ${fmt(relay.heapPerSocket / 1024)} | ${fmt(parley.heapPerSocket / relay.heapPerSocket, 2)} |`
  if (parley.throughput === null || relay.throughput === null || parley.latency === null || relay.latency === null) {
    console.log('')
    console.log('| measurement | Parley | relay | Parley/relay |')
    console.log('|---|---|---|---|')
    console.log(idleRow)
    return
  }
  const ratio = parley.throughput.perSecond / relay.throughput.perSecond
  console.log('')
  console.log(`load average after: ${loadavg().map(v => v.toFixed(2)).join(' ')}`)
  console.log('| measurement | Parley | relay | Parley/relay |')
  console.log('|---|---|---|---|')
  console.log(`| throughput, delivered msgs/s | ${fmt(parley.throughput.perSecond, 0)} | ${fmt(relay.throughput.perSecond, 0)} | ${fmt(ratio, 2)} |`)
  console.log(`| throughput phase errors | ${parley.throughput.errors} | ${relay.throughput.errors} | |`)
  for (const [name, key] of [['p50', 'p50'], ['p99', 'p99'], ['max', 'max']] as const) {
    console.log(`| latency ${name} at ${RATE} msgs/s, ms | ${fmt(parley.latency[key], 2)} | ${fmt(relay.latency[key], 2)} | ${fmt(parley.latency[key] / relay.latency[key], 2)} |`)
  }
  console.log(`| achieved send rate, msgs/s | ${fmt(parley.latency.achievedPerSecond, 0)} | ${fmt(relay.latency.achievedPerSecond, 0)} | |`)
  console.log(`| latency samples / lost / errors | ${parley.latency.samples} / ${parley.latency.lost} / ${parley.latency.errors} | ${relay.latency.samples} / ${relay.latency.lost} / ${relay.latency.errors} | |`)
  const codes = (result: { errorCodes: Record<string, number> }): string => Object.entries(result.errorCodes).map(([code, n]) => `${code} ${n}`).join(', ') || 'none'
  console.log(`| failed acks by code (throughput; latency) | ${codes(parley.throughput)}; ${codes(parley.latency)} | ${codes(relay.throughput)}; ${codes(relay.latency)} | |`)
  console.log(`| server CPU per delivered message (throughput phase), µs | ${fmt(parley.cpuPerMessage, 0)} | ${fmt(relay.cpuPerMessage, 0)} | ${fmt(parley.cpuPerMessage / relay.cpuPerMessage, 2)} |`)
  console.log(idleRow)
  console.log('')
  console.log(`aim: Parley throughput >= 0.5x relay: ${ratio >= 0.5 ? 'met' : 'NOT met'} (${fmt(ratio, 2)}x)`)
  console.log(`aim: p99 < 50 ms at ${RATE} msgs/s: ${parley.latency.p99 < 50 ? 'met' : 'NOT met'} (${fmt(parley.latency.p99, 2)} ms)`)
}

main().catch(error => {
  console.error(error)
  process.exit(1)
})
