/**
 * `npm run bench:scale`: one instance holding many authenticated sockets (10,000 by default), Parley against a bare
 * Socket.IO relay holding the same sockets in the same run.
 *  - Parley: the real app (bench-common's startBenchApp: embedded engine, temporary durable DATA_DIR, limits off,
 *    cheap argon2) in a child process (bench-scale-server.ts); U = sockets / --sockets-per-user users registered and
 *    logged in over REST, a direct conversation per pair of users, each user's sockets authenticated by its token.
 *  - Relay: startRelayServer in the same kind of child; each socket joins the room of its pair's conversation, so a
 *    message reaches the same sockets as in Parley (both users' sockets but the sender's).
 * All sockets live in one client child process (bench-scale-clients.ts). Per server, in order: the connect ramp
 * (--concurrency handshakes at a time: sockets/s, event-loop lag), memory with every socket open (RSS and V8 heap
 * after full collections at the end of an idle phase, total and per socket against the figure before the ramp), and a chat
 * phase where --chat-percent of the sockets each send 1 msg/s to their pair (deliveries/s, delivery latency);
 * event-loop lag (bench-common's loopLagMonitor, in each server process) and server CPU in each phase.
 * Results: a table on stdout and a chart (SVG, bench-scale-chart.ts) at --svg.
 *
 * Options: --sockets N (10000), --chat-percent P (1), --seconds per phase (10), --svg FILE (docs/bench-scale.svg),
 * --sockets-per-user (10; at most the gateway's 20), --concurrency handshakes in flight (100), --rate msgs/s per
 * sender (1).
 */
import { writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { fmt, forkWorker, openFilesLimit, option, processCpu, type LoopLag, type Worker } from './bench-common.js'
import type { ChatResult, OpenResult } from './bench-scale-clients.js'
import type { ServerSetup, ServerStats } from './bench-scale-server.js'
import { renderChart, type ChartPanel } from './bench-scale-chart.js'

const SOCKETS = Number(option('sockets', '10000'))
const CHAT_PERCENT = Number(option('chat-percent', '1'))
const SECONDS = Number(option('seconds', '10'))
const SVG = option('svg', fileURLToPath(new URL('../docs/bench-scale.svg', import.meta.url)))
const PER_USER = Number(option('sockets-per-user', '10'))
const CONCURRENCY = Number(option('concurrency', '100'))
const RATE = Number(option('rate', '1'))
const WARMUP_SECONDS = 1
const USERS = Math.ceil(Math.ceil(SOCKETS / PER_USER) / 2) * 2
const SENDERS = Math.max(1, Math.round(SOCKETS * CHAT_PERCENT / 100))

if (!(SOCKETS >= 2 && PER_USER >= 1 && PER_USER <= 20 && CHAT_PERCENT > 0 && SECONDS > 0 && CONCURRENCY >= 1 && RATE > 0)) {
  console.error('need --sockets >= 2, 1 <= --sockets-per-user <= 20, --chat-percent > 0, --seconds > 0, --concurrency >= 1, --rate > 0')
  process.exit(2)
}

/** Sender i: the first user of pair i mod C, its socket number ⌊i / C⌋ (socket s belongs to user s mod U). */
function senderSockets (): number[] {
  const pairs = USERS / 2
  const senders = Array.from({ length: SENDERS }, (_, i) => Math.floor(i / pairs) * USERS + 2 * (i % pairs))
  if (senders.some(s => s >= SOCKETS)) {
    console.error(`--chat-percent ${CHAT_PERCENT} needs more senders than the pairs' first users have sockets: lower it`)
    process.exit(2)
  }
  return senders
}

/** Each process holds every socket (the server one end, the clients the other); the loopback has one port range. */
function checkLimits (): void {
  const limit = openFilesLimit()
  if (limit < SOCKETS + 1000) {
    console.error(`ulimit -n is ${limit}: each process needs one descriptor per socket, ${SOCKETS} and some; raise it (ulimit -n ${SOCKETS + 4096}) or lower --sockets`)
    process.exit(1)
  }
  console.log(`ulimit -n ${limit}: enough for ${fmt(SOCKETS, 0)} sockets per process`)
}

interface PhaseLoad { lag: LoopLag, cpuPercent: number }
interface Results {
  setup: ServerSetup
  open: OpenResult
  ramp: PhaseLoad
  before: ServerStats
  held: ServerStats
  idle: PhaseLoad
  chat: ChatResult & PhaseLoad
  after: ServerStats
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const mb = (bytes: number): string => fmt(bytes / 1024 / 1024)
const lagText = (lag: LoopLag): string => `p50 ${fmt(lag.p50, 2)} / p99 ${fmt(lag.p99, 2)} / max ${fmt(lag.max, 2)} ms`

/** JSON (the IPC channel) turns NaN into null: back to NaN, so a missing figure prints as NaN. */
function withNaN<T extends object> (result: T): T {
  return Object.fromEntries(Object.entries(result).map(([key, value]) => [key, value === null ? NaN : value])) as T
}

let label = ''
let server: Worker | null = null

function onClientNotice (notice: { kind: string, [key: string]: any }): void {
  if (notice.kind === 'progress') {
    const line = `[${label} connect] ${fmt(notice.done, 0)} / ${fmt(SOCKETS, 0)} sockets, ${fmt(notice.done / notice.seconds, 0)} sockets/s, ${notice.failed} failed`
    // With the server's memory at that point (no collection: the figure as it grows).
    void server?.call<ServerStats>({ kind: 'stats', settle: false }).then(
      stats => { console.log(`${line}; server holds ${fmt(stats.sockets, 0)}, RSS ${mb(stats.rss)} MB, heap ${mb(stats.heapUsed)} MB`) },
      () => { console.log(line) })
  } else if (notice.kind === 'chat') {
    console.log(`[${label} chat] ${fmt(notice.seconds, 0)} s: ${fmt(notice.deliveries, 0)} deliveries in the last second, p99 of the last 2,000 ${fmt(notice.p99 ?? NaN, 1)} ms, ${notice.errors} errors`)
  }
}

/** Runs `during` while measuring the server's event-loop lag and CPU (% of one core). */
async function measureLoad<T> (target: Worker, during: () => Promise<T>): Promise<{ result: T, load: PhaseLoad }> {
  await target.call({ kind: 'lagReset' })
  const cpuBefore = processCpu(target.pid)
  const started = performance.now()
  const result = await during()
  const wallUs = (performance.now() - started) * 1000
  const cpuPercent = (processCpu(target.pid) - cpuBefore) / wallUs * 100
  return { result, load: { lag: await target.call<LoopLag>({ kind: 'lagRead' }), cpuPercent } }
}

async function measure (target: 'parley' | 'relay', clients: Worker, senders: number[]): Promise<Results> {
  label = target
  const worker = forkWorker(fileURLToPath(new URL('./bench-scale-server.ts', import.meta.url)), ['--target', target])
  server = worker
  try {
    console.log(`--- ${target}: setup${target === 'parley' ? `, registering ${fmt(USERS, 0)} users and opening ${fmt(USERS / 2, 0)} direct conversations` : ''}`)
    const setup = await worker.call<ServerSetup>({ kind: 'setup', users: USERS })
    if (target === 'parley') console.log(`[parley setup] ${fmt(USERS, 0)} users and ${fmt(setup.conversationIds.length, 0)} conversations in ${fmt(setup.setupSeconds)} s`)
    const before = await worker.call<ServerStats>({ kind: 'stats', settle: true })
    console.log(`--- ${target}: connect ramp, ${fmt(SOCKETS, 0)} sockets, ${CONCURRENCY} handshakes in flight (server RSS before: ${mb(before.rss)} MB)`)
    const { result: open, load: ramp } = await measureLoad(worker, async () => await clients.call<OpenResult>({
      kind: 'open', url: setup.url, tokens: setup.tokens, conversationIds: setup.conversationIds, count: SOCKETS, concurrency: CONCURRENCY
    }))
    console.log(`[${target} connect] ${fmt(open.opened, 0)} open, ${open.failed} failed${open.failed > 0 ? ` (${JSON.stringify(open.failures)})` : ''}, ${fmt(open.opened / open.seconds, 0)} sockets/s; event-loop lag ${lagText(ramp.lag)}`)
    console.log(`--- ${target}: idle, holding the sockets for ${SECONDS} s`)
    const { load: idle } = await measureLoad(worker, async () => { await sleep(SECONDS * 1000) })
    console.log(`[${target} idle] event-loop lag ${lagText(idle.lag)}, server CPU ${fmt(idle.cpuPercent)} % of a core`)
    // After the idle phase: the ramp's garbage is collected and the allocator has had time to give pages back.
    const held = await worker.call<ServerStats>({ kind: 'stats', settle: true })
    console.log(`[${target} memory] holding ${fmt(held.sockets, 0)} sockets: RSS ${mb(held.rss)} MB, heap ${mb(held.heapUsed)} MB (before the ramp: ${mb(before.rss)} / ${mb(before.heapUsed)} MB)`)
    console.log(`--- ${target}: chat, ${senders.length} senders (${CHAT_PERCENT} % of the sockets) at ${RATE} msg/s each to their pair, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s`)
    const chatting = clients.call<ChatResult>({ kind: 'chat', senders, rate: RATE, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS })
    await sleep(WARMUP_SECONDS * 1000)
    const { load: chatLoad } = await measureLoad(worker, async () => { await sleep(SECONDS * 1000) })
    const chat = { ...withNaN(await chatting), ...chatLoad }
    console.log(`[${target} chat] ${fmt(chat.deliveriesPerSecond, 0)} deliveries/s, latency p50 ${fmt(chat.p50, 2)} / p99 ${fmt(chat.p99, 2)} ms; event-loop lag ${lagText(chat.lag)}`)
    const after = await worker.call<ServerStats>({ kind: 'stats', settle: true })
    await clients.call({ kind: 'close' })
    return { setup, open, ramp, before, held, idle, chat, after }
  } finally {
    server = null
    await worker.close()
  }
}

function table (parley: Results, relay: Results): string[] {
  const rows: string[] = ['| measurement | Parley | relay | Parley/relay |', '|---|---|---|---|']
  const row = (name: string, p: number, r: number, digits = 1, ratio = true): void => {
    rows.push(`| ${name} | ${fmt(p, digits)} | ${fmt(r, digits)} | ${ratio ? fmt(p / r, 2) : ''} |`)
  }
  const perSocket = (result: Results, key: 'rss' | 'heapUsed'): number => (result.held[key] - result.before[key]) / Math.max(1, result.open.opened) / 1024
  const text = (name: string, p: string, r: string): void => { rows.push(`| ${name} | ${p} | ${r} | |`) }
  text('sockets open / failed', `${fmt(parley.open.opened, 0)} / ${parley.open.failed}`, `${fmt(relay.open.opened, 0)} / ${relay.open.failed}`)
  row(`connect rate while ramping, sockets/s (${CONCURRENCY} in flight)`, parley.open.opened / parley.open.seconds, relay.open.opened / relay.open.seconds, 0)
  row('ramp: event-loop lag p99, ms', parley.ramp.lag.p99, relay.ramp.lag.p99, 2)
  row('ramp: server CPU, % of a core', parley.ramp.cpuPercent, relay.ramp.cpuPercent, 0)
  row('server RSS before the sockets, MB', parley.before.rss / 2 ** 20, relay.before.rss / 2 ** 20)
  row(`server RSS with ${fmt(SOCKETS, 0)} sockets, MB`, parley.held.rss / 2 ** 20, relay.held.rss / 2 ** 20)
  row('RSS per socket, KiB', perSocket(parley, 'rss'), perSocket(relay, 'rss'))
  row(`V8 heap used with ${fmt(SOCKETS, 0)} sockets, MB`, parley.held.heapUsed / 2 ** 20, relay.held.heapUsed / 2 ** 20)
  row('heap per socket, KiB', perSocket(parley, 'heapUsed'), perSocket(relay, 'heapUsed'))
  for (const key of ['p50', 'p99', 'max'] as const) row(`idle: event-loop lag ${key}, ms`, parley.idle.lag[key], relay.idle.lag[key], 2)
  row('idle: server CPU, % of a core', parley.idle.cpuPercent, relay.idle.cpuPercent)
  row(`chat: messages acked/s (${SENDERS} senders x ${RATE} msg/s offered)`, parley.chat.acked / SECONDS, relay.chat.acked / SECONDS)
  text('chat: failed acks', `${parley.chat.errors}${parley.chat.errors > 0 ? ` ${JSON.stringify(parley.chat.errorCodes)}` : ''}`, `${relay.chat.errors}`)
  row('chat: deliveries per message (fan-out)', parley.chat.fanout, relay.chat.fanout, 2, false)
  row('chat: delivered msgs/s (deliveries at the sockets)', parley.chat.deliveriesPerSecond, relay.chat.deliveriesPerSecond, 0)
  for (const key of ['p50', 'p99', 'max'] as const) row(`chat: delivery latency ${key}, ms`, parley.chat[key], relay.chat[key], 2)
  for (const key of ['p50', 'p99', 'max'] as const) row(`chat: event-loop lag ${key}, ms`, parley.chat.lag[key], relay.chat.lag[key], 2)
  row('chat: server CPU, % of a core', parley.chat.cpuPercent, relay.chat.cpuPercent)
  row('chat: server RSS after, MB', parley.after.rss / 2 ** 20, relay.after.rss / 2 ** 20)
  row('chat: clients\' event-loop lag p99, ms', parley.chat.clientLag.p99, relay.chat.clientLag.p99, 2, false)
  return rows
}

function chartPanels (parley: Results, relay: Results): ChartPanel[] {
  const perSocket = (result: Results, key: 'rss' | 'heapUsed'): number => (result.held[key] - result.before[key]) / Math.max(1, result.open.opened) / 1024
  return [
    { title: 'Delivered msgs/s', note: `chat, ${SENDERS} senders; higher is better`, groups: [{ label: 'deliveries/s', parley: parley.chat.deliveriesPerSecond, relay: relay.chat.deliveriesPerSecond }] },
    { title: 'Delivery latency, ms', note: 'chat phase; lower is better', groups: [{ label: 'p50', parley: parley.chat.p50, relay: relay.chat.p50 }, { label: 'p99', parley: parley.chat.p99, relay: relay.chat.p99 }] },
    {
      title: 'Event-loop lag p99, ms',
      note: 'server process; lower is better',
      groups: [{ label: 'ramp', parley: parley.ramp.lag.p99, relay: relay.ramp.lag.p99 }, { label: 'idle', parley: parley.idle.lag.p99, relay: relay.idle.lag.p99 }, { label: 'chat', parley: parley.chat.lag.p99, relay: relay.chat.lag.p99 }]
    },
    { title: 'Memory per socket, KiB', note: 'after full GCs; lower is better', groups: [{ label: 'RSS', parley: perSocket(parley, 'rss'), relay: perSocket(relay, 'rss') }, { label: 'V8 heap', parley: perSocket(parley, 'heapUsed'), relay: perSocket(relay, 'heapUsed') }] },
    { title: 'Connect rate, sockets/s', note: `${CONCURRENCY} handshakes in flight; higher is better`, groups: [{ label: 'ramp', parley: parley.open.opened / parley.open.seconds, relay: relay.open.opened / relay.open.seconds }] }
  ]
}

async function main (): Promise<void> {
  checkLimits()
  const senders = senderSockets()
  console.log(`${fmt(SOCKETS, 0)} sockets: ${fmt(USERS, 0)} users x ${PER_USER} sockets, ${fmt(USERS / 2, 0)} pairs; ${senders.length} senders; ${cpus().length} cores, load average ${loadavg().map(v => v.toFixed(2)).join(' ')}`)
  const clients = forkWorker(fileURLToPath(new URL('./bench-scale-clients.ts', import.meta.url)), [], { onNotice: onClientNotice })
  const results: Record<string, Results> = {}
  try {
    for (const target of ['relay', 'parley'] as const) results[target] = await measure(target, clients, senders)
  } finally {
    await clients.close()
  }
  const { parley, relay } = results
  console.log('')
  console.log(`load average after: ${loadavg().map(v => v.toFixed(2)).join(' ')}`)
  for (const line of table(parley, relay)) console.log(line)
  const date = new Date().toISOString().slice(0, 10)
  const subtitle = `${fmt(SOCKETS, 0)} sockets on one instance (${fmt(USERS, 0)} users x ${PER_USER}), ${SENDERS} senders at ${RATE} msg/s to their pair, ${SECONDS} s phases; ${date}, ${cpus().length} cores, ${fmt(totalmem() / 2 ** 30, 0)} GiB`
  writeFileSync(SVG, renderChart('npm run bench:scale: Parley vs a bare Socket.IO relay', subtitle, chartPanels(parley, relay)))
  console.log('')
  console.log(`chart: ${SVG}`)
}

main().catch(error => {
  console.error(error)
  process.exit(1)
})
