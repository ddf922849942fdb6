/**
 * The client side of `npm run bench` (scripts/bench-realtime.ts): real socket.io-client sockets in pairs, the same
 * code against Parley and against the bare relay. Runs in a child process (IPC commands from the parent) so the
 * clients do not share the servers' event loop, or in-process when `--clients-in-child=false`.
 */
import { io as connectClient, type Socket } from 'socket.io-client'

export interface PairSpec {
  /** Sender's and receiver's access tokens (the relay ignores them). */
  senderToken: string
  receiverToken: string
  conversationId: string
  /** Where each side connects (cluster benchmark: different instances); default the load's `url`. */
  senderUrl?: string
  receiverUrl?: string
}

export interface LoadSpec {
  label: string
  url: string
  pairs: PairSpec[]
}

export interface ThroughputResult { delivered: number, seconds: number, perSecond: number, acked: number, errors: number, errorCodes: Record<string, number> }
export interface LatencyResult {
  offeredPerSecond: number
  achievedPerSecond: number
  samples: number
  p50: number
  p99: number
  max: number
  lost: number
  errors: number
  errorCodes: Record<string, number>
}

/** Every body is this long (ASCII), the send time first, so both servers carry the same bytes. */
const BODY_BYTES = 100

function makeBody (sentAt: number): string {
  const head = `${sentAt.toFixed(3)} `
  return head + 'x'.repeat(Math.max(1, BODY_BYTES - head.length))
}

async function connect (url: string, token: string, conversationId: string): Promise<Socket> {
  const socket = connectClient(url, {
    path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true,
    // The relay reads conversationId to pick the room; Parley reads the token (and ignores the rest).
    auth: { token, conversationId }
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => { resolve() })
    socket.once('connect_error', error => { reject(error) })
  })
  return socket
}

interface Pair { sender: Socket, receiver: Socket, conversationId: string }

async function connectPairs (spec: LoadSpec): Promise<Pair[]> {
  return await Promise.all(spec.pairs.map(async pair => ({
    sender: await connect(pair.senderUrl ?? spec.url, pair.senderToken, pair.conversationId),
    receiver: await connect(pair.receiverUrl ?? spec.url, pair.receiverToken, pair.conversationId),
    conversationId: pair.conversationId
  })))
}

function closePairs (pairs: Pair[]): void {
  for (const pair of pairs) { pair.sender.disconnect(); pair.receiver.disconnect() }
}

let nextId = 0
const clientMsgId = (): string => `b${process.pid}-${++nextId}`

type AckLike = { ok: boolean, error?: { code: string } }

/** Failed acks by code (NO_ACK: none came back before the timeout or the socket closed at the end of the phase). */
let errorCodes: Record<string, number> = {}
function failed (error: Error | null, ack: AckLike | undefined): boolean {
  if (error === null && ack?.ok === true) return false
  const code = error !== null ? 'NO_ACK' : ack?.error?.code ?? 'UNKNOWN'
  errorCodes[code] = (errorCodes[code] ?? 0) + 1
  return true
}
function takeErrorCodes (): Record<string, number> {
  const codes = errorCodes
  errorCodes = {}
  return codes
}

/** Each sender keeps `window` messages in flight (a new one per ack) for `seconds`; counts receipts at the receivers. */
export async function runThroughput (spec: LoadSpec, seconds: number, window: number, log: (line: string) => void): Promise<ThroughputResult> {
  const pairs = await connectPairs(spec)
  let delivered = 0
  let acked = 0
  let errors = 0
  let measuring = true
  for (const pair of pairs) pair.receiver.on('re_message', () => { if (measuring) delivered++ })
  const start = performance.now()
  const end = start + seconds * 1000
  const sendOne = (pair: Pair): void => {
    if (performance.now() >= end) return
    pair.sender.timeout(30_000).emit('chat_message', {
      conversationId: pair.conversationId, body: makeBody(performance.now()), clientMsgId: clientMsgId()
    }, (error: Error | null, ack: AckLike) => {
      if (failed(error, ack)) errors++
      else acked++
      sendOne(pair)
    })
  }
  for (const pair of pairs) for (let i = 0; i < window; i++) sendOne(pair)
  let last = 0
  const progress = setInterval(() => {
    const t = (performance.now() - start) / 1000
    log(`[${spec.label} throughput] ${t.toFixed(0)} s: ${delivered - last} delivered in the last second, ${errors} errors`)
    last = delivered
  }, 1000)
  await new Promise(resolve => setTimeout(resolve, seconds * 1000))
  measuring = false
  const elapsed = (performance.now() - start) / 1000
  clearInterval(progress)
  const counted = delivered
  // Let the in-flight window drain before closing, so the next phase starts clean.
  await new Promise(resolve => setTimeout(resolve, 1000))
  closePairs(pairs)
  return { delivered: counted, seconds: elapsed, perSecond: counted / elapsed, acked, errors, errorCodes: takeErrorCodes() }
}

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]

/** `rate` messages/s in total, each sender on its own timer (staggered); latency = receive time − send time in the body. */
export async function runLatency (spec: LoadSpec, seconds: number, rate: number, log: (line: string) => void): Promise<LatencyResult> {
  const pairs = await connectPairs(spec)
  const warmupMs = 1000
  const latencies: number[] = []
  let sent = 0
  let received = 0
  let errors = 0
  let recording = false
  const start = performance.now()
  for (const pair of pairs) {
    pair.receiver.on('re_message', (event: { message: { body: string } }) => {
      const sentAt = Number.parseFloat(event.message.body)
      // A straggler of the previous phase (sent before this one started) is not this phase's.
      if (sentAt < start) return
      received++
      if (!recording) return
      latencies.push(performance.now() - sentAt)
    })
  }
  const intervalMs = pairs.length / rate * 1000
  const timers: NodeJS.Timeout[] = []
  // Each sender runs on a fixed schedule (not setInterval's drift): it sends whatever is due on each tick.
  pairs.forEach((pair, index) => {
    const offset = intervalMs * index / pairs.length
    let due = start + offset
    const tick = (): void => {
      const now = performance.now()
      while (due <= now) {
        due += intervalMs
        sent++
        pair.sender.timeout(30_000).emit('chat_message', {
          conversationId: pair.conversationId, body: makeBody(performance.now()), clientMsgId: clientMsgId()
        }, (error: Error | null, ack: AckLike) => { if (failed(error, ack)) errors++ })
      }
      timers[index] = setTimeout(tick, Math.max(0, due - performance.now()))
    }
    timers[index] = setTimeout(tick, offset)
  })
  const warm = setTimeout(() => { recording = true }, warmupMs)
  let lastReceived = 0
  const progress = setInterval(() => {
    const t = (performance.now() - start) / 1000
    const recent = latencies.slice(-500).sort((a, b) => a - b)
    log(`[${spec.label} latency] ${t.toFixed(0)} s: ${received - lastReceived} delivered in the last second, p99 of the last 500 ${percentile(recent, 0.99).toFixed(1)} ms, ${errors} errors`)
    lastReceived = received
  }, 1000)
  await new Promise(resolve => setTimeout(resolve, (seconds + warmupMs / 1000) * 1000))
  for (const timer of timers) clearTimeout(timer)
  clearTimeout(warm)
  const sendSeconds = (performance.now() - start) / 1000
  const sentTotal = sent
  // Wait for stragglers (up to 5 s) so slow ones count in the tail instead of vanishing.
  const drainUntil = performance.now() + 5000
  while (received < sentTotal && performance.now() < drainUntil) await new Promise(resolve => setTimeout(resolve, 50))
  clearInterval(progress)
  closePairs(pairs)
  latencies.sort((a, b) => a - b)
  return {
    offeredPerSecond: rate,
    achievedPerSecond: sentTotal / sendSeconds,
    samples: latencies.length,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies.length > 0 ? latencies[latencies.length - 1] : NaN,
    lost: sentTotal - received,
    errors,
    errorCodes: takeErrorCodes()
  }
}

/** Idle sockets (tokens round-robin, `concurrency` handshakes at a time), kept until `closeIdle`. */
const idleSockets: Socket[] = []

export async function openIdle (url: string, tokens: string[], count: number, concurrency = 50): Promise<number> {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++
      idleSockets.push(await connect(url, tokens[i % tokens.length], 'idle'))
    }
  }))
  return idleSockets.length
}

export function closeIdle (): void {
  for (const socket of idleSockets.splice(0)) socket.disconnect()
}

type Command =
  | { id: number, kind: 'throughput', spec: LoadSpec, seconds: number, window: number }
  | { id: number, kind: 'latency', spec: LoadSpec, seconds: number, rate: number }
  | { id: number, kind: 'openIdle', url: string, tokens: string[], count: number }
  | { id: number, kind: 'closeIdle' }

async function handle (command: Command): Promise<unknown> {
  const log = (line: string): void => { console.log(line) }
  switch (command.kind) {
    case 'throughput': return await runThroughput(command.spec, command.seconds, command.window, log)
    case 'latency': return await runLatency(command.spec, command.seconds, command.rate, log)
    case 'openIdle': return await openIdle(command.url, command.tokens, command.count)
    case 'closeIdle': closeIdle(); return null
  }
}

// Child mode: answer the parent's commands one at a time.
if (process.send !== undefined && process.argv.includes('--bench-clients')) {
  process.on('message', (command: Command) => {
    handle(command).then(
      result => process.send?.({ id: command.id, result }),
      (error: Error) => process.send?.({ id: command.id, error: error.message })
    )
  })
  process.on('disconnect', () => { closeIdle(); process.exit(0) })
}
