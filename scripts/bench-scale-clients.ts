/**
 * The client side of `npm run bench:scale` (scripts/bench-scale.ts): every socket in this one child process, so the
 * clients do not share a server's event loop. Commands over IPC (bench-common's serveParent):
 *  - `open`: `count` socket.io-client sockets (websocket only), `concurrency` handshakes at a time; socket s belongs
 *    to user s mod U (so the first U sockets are one per user, then each user's second, ...) and carries the
 *    token of that user and the conversation of its pair (users 2k and 2k + 1; the relay reads the room from it).
 *    A notice every 1,000 sockets; answers the count opened, failed and the seconds taken;
 *  - `chat`: the given sender sockets each send `chat_message {conversationId, body, clientMsgId}` (acked) at
 *    `rate` msgs/s on a fixed, staggered schedule; every socket counts `re_message` deliveries and their latency
 *    (receive time − the send time in the body) for the messages sent in the measured window (after a warm-up);
 *  - `close`: disconnects every socket.
 */
import { io as connectClient, type Socket } from 'socket.io-client'
import { loopLagMonitor, serveParent, type LoopLag } from './bench-common.js'

export interface OpenSpec { url: string, tokens: string[], conversationIds: string[], count: number, concurrency: number }
export interface OpenResult { opened: number, failed: number, failures: Record<string, number>, seconds: number }
export interface ChatSpec { senders: number[], rate: number, seconds: number, warmupSeconds: number }
export interface ChatResult {
  /** Messages sent / acked ok / failed acks in the measured window (failures by code; NO_ACK: none in 30 s). */
  sent: number
  acked: number
  errors: number
  errorCodes: Record<string, number>
  /** Deliveries (`re_message` at a socket) of the messages sent in the window, per second of the window. */
  deliveries: number
  seconds: number
  deliveriesPerSecond: number
  /** Deliveries per acked message (the sockets of the pair but the sender's one). */
  fanout: number
  p50: number
  p99: number
  max: number
  /** This process's event-loop lag in the window: says whether the clients kept up. */
  clientLag: LoopLag
}

/** Every body is this long (ASCII), the send time first, as in the other benchmarks. */
const BODY_BYTES = 100
const makeBody = (sentAt: number): string => {
  const head = `${sentAt.toFixed(3)} `
  return head + 'x'.repeat(Math.max(1, BODY_BYTES - head.length))
}

const lag = loopLagMonitor()
const sockets: Socket[] = []
const conversationOf: string[] = []

/** What `re_message` feeds while a chat phase runs: deliveries and latencies of messages sent in [from, to). */
let window: { from: number, to: number, deliveries: number, latencies: number[] } | null = null

function onMessage (event: { message: { body: string } }): void {
  const now = performance.now()
  const sentAt = Number.parseFloat(event.message.body)
  if (window === null || !(sentAt >= window.from && sentAt < window.to)) return
  window.deliveries++
  window.latencies.push(now - sentAt)
}

async function connect (url: string, token: string, conversationId: string): Promise<Socket> {
  const socket = connectClient(url, {
    path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, timeout: 30_000,
    auth: { token, conversationId }
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => { resolve() })
    socket.once('connect_error', error => { socket.disconnect(); reject(error) })
  })
  return socket
}

async function open (spec: OpenSpec, notify: (notice: Record<string, unknown>) => void): Promise<OpenResult> {
  const users = spec.tokens.length
  const started = performance.now()
  const failures: Record<string, number> = {}
  let next = 0
  let done = 0
  let failed = 0
  await Promise.all(Array.from({ length: Math.min(spec.concurrency, spec.count) }, async () => {
    while (next < spec.count) {
      const index = next++
      const user = index % users
      const conversationId = spec.conversationIds[Math.floor(user / 2)]
      try {
        const socket = await connect(spec.url, spec.tokens[user], conversationId)
        socket.on('re_message', onMessage)
        sockets[index] = socket
        conversationOf[index] = conversationId
      } catch (error) {
        failed++
        const code = String((error as { data?: { code?: string } }).data?.code ?? (error as Error).message)
        failures[code] = (failures[code] ?? 0) + 1
      }
      if (++done % 1000 === 0 || done === spec.count) notify({ kind: 'progress', done, failed, seconds: (performance.now() - started) / 1000 })
    }
  }))
  return { opened: done - failed, failed, failures, seconds: (performance.now() - started) / 1000 }
}

const percentile = (sorted: number[], p: number): number => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function chat (spec: ChatSpec, notify: (notice: Record<string, unknown>) => void): Promise<ChatResult> {
  const intervalMs = 1000 / spec.rate
  const start = performance.now()
  const from = start + spec.warmupSeconds * 1000
  const to = from + spec.seconds * 1000
  const current = { from, to, deliveries: 0, latencies: [] as number[] }
  window = current
  let sent = 0
  let acked = 0
  let errors = 0
  const errorCodes: Record<string, number> = {}
  let nextId = 0
  const send = (index: number): void => {
    // A socket that failed to open has no place in the phase.
    if (sockets[index] === undefined) return
    const sentAt = performance.now()
    const counted = sentAt >= from && sentAt < to
    if (counted) sent++
    sockets[index].timeout(30_000).emit('chat_message', {
      conversationId: conversationOf[index], body: makeBody(sentAt), clientMsgId: `s${process.pid}-${++nextId}`
    }, (error: Error | null, ack?: { ok: boolean, error?: { code: string } }) => {
      if (!counted) return
      if (error === null && ack?.ok === true) { acked++; return }
      errors++
      const code = error !== null ? 'NO_ACK' : ack?.error?.code ?? 'UNKNOWN'
      errorCodes[code] = (errorCodes[code] ?? 0) + 1
    })
  }
  // Each sender on its own fixed schedule (every tick sends whatever is due), staggered over one interval.
  const timers: NodeJS.Timeout[] = []
  spec.senders.forEach((index, i) => {
    let due = start + intervalMs * i / spec.senders.length
    const tick = (): void => {
      while (due <= performance.now() && due < to) {
        due += intervalMs
        send(index)
      }
      if (due < to) timers[i] = setTimeout(tick, Math.max(0, due - performance.now()))
    }
    timers[i] = setTimeout(tick, due - start)
  })
  const measuring = setTimeout(() => { lag.reset() }, from - start)
  let last = 0
  const progress = setInterval(() => {
    const recent = current.latencies.slice(-2000).sort((a, b) => a - b)
    notify({ kind: 'chat', seconds: (performance.now() - start) / 1000, deliveries: current.deliveries - last, p99: percentile(recent, 0.99), errors })
    last = current.deliveries
  }, 1000)
  await sleep(to - start)
  const clientLag = lag.read()
  for (const timer of timers) clearTimeout(timer)
  clearTimeout(measuring)
  // The window's last messages are still on their way: wait for their acks, then until deliveries stop (at most 5 s).
  const drainUntil = performance.now() + 5000
  let seen = -1
  while (performance.now() < drainUntil && (acked + errors < sent || seen !== current.deliveries)) {
    seen = current.deliveries
    await sleep(200)
  }
  clearInterval(progress)
  window = null
  const latencies = current.latencies.sort((a, b) => a - b)
  return {
    sent, acked, errors, errorCodes,
    deliveries: current.deliveries, seconds: spec.seconds, deliveriesPerSecond: current.deliveries / spec.seconds,
    fanout: current.deliveries / Math.max(1, acked),
    p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies.length > 0 ? latencies[latencies.length - 1] : NaN,
    clientLag
  }
}

function closeAll (): void {
  for (const socket of sockets.splice(0)) socket?.disconnect()
  conversationOf.length = 0
}

type Command = ({ kind: 'open' } & OpenSpec) | ({ kind: 'chat' } & ChatSpec) | { kind: 'close' }

serveParent(async (command: Command, notify) => {
  switch (command.kind) {
    case 'open': return await open(command, notify)
    case 'chat': return await chat(command, notify)
    case 'close': closeAll(); return null
  }
}, closeAll)
