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

/** Each of `senders` keeps `window` sends in flight until `end` (performance.now()): `send` calls `done` when acked. */
function sendWindowed (senders: number, window: number, end: number, send: (index: number, done: () => void) => void): void {
  const sendOne = (index: number): void => {
    if (performance.now() >= end) return
    send(index, () => { sendOne(index) })
  }
  for (let index = 0; index < senders; index++) for (let i = 0; i < window; i++) sendOne(index)
}

/**
 * `rate` sends/s in total from `senders`, each on its own fixed schedule from `start` (not setInterval's drift:
 * every tick sends whatever is due), staggered. Returns the stop function.
 */
function sendAtRate (senders: number, rate: number, start: number, send: (index: number) => void): () => void {
  const intervalMs = senders / rate * 1000
  const timers: NodeJS.Timeout[] = []
  for (let index = 0; index < senders; index++) {
    const offset = intervalMs * index / senders
    let due = start + offset
    const tick = (): void => {
      const now = performance.now()
      while (due <= now) {
        due += intervalMs
        send(index)
      }
      timers[index] = setTimeout(tick, Math.max(0, due - performance.now()))
    }
    timers[index] = setTimeout(tick, offset)
  }
  return () => { for (const timer of timers) clearTimeout(timer) }
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
  sendWindowed(pairs.length, window, start + seconds * 1000, (index, done) => {
    const pair = pairs[index]
    pair.sender.timeout(30_000).emit('chat_message', {
      conversationId: pair.conversationId, body: makeBody(performance.now()), clientMsgId: clientMsgId()
    }, (error: Error | null, ack: AckLike) => {
      if (failed(error, ack)) errors++
      else acked++
      done()
    })
  })
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
  const stopSending = sendAtRate(pairs.length, rate, start, index => {
    const pair = pairs[index]
    sent++
    pair.sender.timeout(30_000).emit('chat_message', {
      conversationId: pair.conversationId, body: makeBody(performance.now()), clientMsgId: clientMsgId()
    }, (error: Error | null, ack: AckLike) => { if (failed(error, ack)) errors++ })
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
  stopSending()
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
  idleSockets.push(...await connectMany(url, Array.from({ length: count }, (_, i) => tokens[i % tokens.length]), 'idle', concurrency))
  return idleSockets.length
}

/** One socket per token, in token order, `concurrency` handshakes at a time. */
async function connectMany (url: string, tokens: string[], conversationId: string, concurrency = 50): Promise<Socket[]> {
  const sockets: Socket[] = new Array(tokens.length)
  let next = 0
  try {
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < tokens.length) {
        const i = next++
        sockets[i] = await connect(url, tokens[i], conversationId)
      }
    }))
  } catch (error) {
    for (const socket of sockets) socket?.disconnect()
    throw error
  }
  return sockets
}

export function closeIdle (): void {
  for (const socket of idleSockets.splice(0)) socket.disconnect()
}

// ---- Groups (`npm run bench:groups`): every member's socket in one conversation, a few of them sending ----

export interface GroupSpec {
  label: string
  url: string
  conversationId: string
  /** One access token per member (the bare broadcast ignores them); the first `senders` members send. */
  tokens: string[]
  senders: number
}

export interface GroupPhaseResult {
  /** Messages sent / acked ok / failed acks (by code, as in the pair phases). */
  sent: number
  acked: number
  errors: number
  errorCodes: Record<string, number>
  /** Deliveries counted at the receivers while the phase ran (throughput: the send window; latency: after warm-up), and per second. */
  deliveries: number
  seconds: number
  perSecond: number
  /** Over the acked messages, after the drain: deliveries each member missed, and extra ones (a second copy, or the sender's own). */
  expected: number
  lost: number
  duplicates: number
  /** Deliveries of messages this phase did not send (the previous phase's stragglers): not counted anywhere else. */
  strays: number
  /** Delivery latency (receive − send time in the body), ms; the latency phase after its warm-up, the throughput phase throughout. */
  samples: number
  p50: number
  p99: number
  max: number
}

interface Tracked { sender: number, seen: Uint8Array, ok: boolean }

interface GroupPhase {
  start: number
  counting: boolean
  recording: boolean
  messages: Map<string, Tracked>
  deliveries: number
  received: number
  strays: number
  latencies: number[]
}

interface Group { spec: GroupSpec, sockets: Socket[], phase: GroupPhase | null }
let group: Group | null = null

/** Connects every member (50 handshakes at a time) and listens for `re_message`; kept until `closeGroup`. */
export async function openGroup (spec: GroupSpec): Promise<number> {
  if (group !== null) throw new Error('a group is already open')
  const sockets = await connectMany(spec.url, spec.tokens, spec.conversationId)
  const opened: Group = { spec, sockets, phase: null }
  sockets.forEach((socket, member) => {
    socket.on('re_message', (event: { message: { body: string, clientMsgId: string | null } }) => {
      const now = performance.now()
      const phase = opened.phase
      const tracked = phase?.messages.get(event.message.clientMsgId ?? '')
      // Not this phase's (a straggler of the previous one): not counted.
      if (phase === null || tracked === undefined) {
        if (phase !== null) phase.strays++
        return
      }
      if (tracked.seen[member] < 255) tracked.seen[member]++
      phase.received++
      if (phase.counting) phase.deliveries++
      if (phase.recording) phase.latencies.push(now - Number.parseFloat(event.message.body))
    })
  })
  group = opened
  return sockets.length
}

export function closeGroup (): void {
  for (const socket of group?.sockets ?? []) socket.disconnect()
  group = null
}

/**
 * One phase on the open group: `window` messages in flight per sender (throughput) or `rate` messages/s in total
 * (latency, 1 s warm-up first), for `seconds`; then up to 5 s for the acked messages' deliveries to arrive.
 */
export async function runGroupPhase (load: { window: number } | { rate: number }, seconds: number, log: (line: string) => void): Promise<GroupPhaseResult> {
  if (group === null) throw new Error('no group open')
  const { spec, sockets } = group
  const members = sockets.length
  const kind = 'window' in load ? 'throughput' : 'latency'
  const warmupMs = kind === 'latency' ? 1000 : 0
  const phase: GroupPhase = {
    start: performance.now(), counting: warmupMs === 0, recording: warmupMs === 0, messages: new Map(), deliveries: 0, received: 0, strays: 0, latencies: []
  }
  group.phase = phase
  let sent = 0
  let acked = 0
  let errors = 0
  let countingFrom = phase.start
  const send = (sender: number, done?: () => void): void => {
    const id = clientMsgId()
    const tracked: Tracked = { sender, seen: new Uint8Array(members), ok: false }
    phase.messages.set(id, tracked)
    sent++
    sockets[sender].timeout(30_000).emit('chat_message', {
      conversationId: spec.conversationId, body: makeBody(performance.now()), clientMsgId: id
    }, (error: Error | null, ack: AckLike) => {
      if (failed(error, ack)) errors++
      else { acked++; tracked.ok = true }
      done?.()
    })
  }
  const sendSeconds = seconds + warmupMs / 1000
  const end = phase.start + sendSeconds * 1000
  const stopSending = 'window' in load
    ? (sendWindowed(spec.senders, load.window, end, send), () => {})
    : sendAtRate(spec.senders, load.rate, phase.start, sender => { send(sender) })
  const warm = setTimeout(() => { phase.counting = true; phase.recording = true; countingFrom = performance.now() }, warmupMs)
  let last = 0
  const progress = setInterval(() => {
    const t = (performance.now() - phase.start) / 1000
    const recent = phase.latencies.slice(-2000).sort((a, b) => a - b)
    log(`[${spec.label} group ${kind}] ${t.toFixed(0)} s: ${phase.received - last} delivered in the last second, p99 of the last 2,000 ${percentile(recent, 0.99).toFixed(1)} ms, ${errors} errors`)
    last = phase.received
  }, 1000)
  await new Promise(resolve => setTimeout(resolve, sendSeconds * 1000))
  stopSending()
  clearTimeout(warm)
  phase.counting = false
  const elapsed = (performance.now() - countingFrom) / 1000
  const counted = phase.deliveries
  // The acked messages' deliveries still on their way (the window in flight, a slow tail) count, up to 5 s.
  const expectedOf = (): number => [...phase.messages.values()].filter(m => m.ok).length * (members - 1)
  const drainUntil = performance.now() + 5000
  while (performance.now() < drainUntil && (phase.received < expectedOf() || acked + errors < sent)) await new Promise(resolve => setTimeout(resolve, 50))
  clearInterval(progress)
  phase.recording = false
  let lost = 0
  let duplicates = 0
  for (const tracked of phase.messages.values()) {
    tracked.seen.forEach((copies, member) => {
      if (member === tracked.sender) duplicates += copies
      else if (copies > 1) duplicates += copies - 1
      else if (copies === 0 && tracked.ok) lost++
    })
  }
  group.phase = null
  const latencies = phase.latencies.sort((a, b) => a - b)
  return {
    sent, acked, errors, errorCodes: takeErrorCodes(),
    deliveries: counted, seconds: elapsed, perSecond: counted / elapsed,
    expected: expectedOf(), lost, duplicates, strays: phase.strays,
    samples: latencies.length, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies.length > 0 ? latencies[latencies.length - 1] : NaN
  }
}

type Command =
  | { id: number, kind: 'throughput', spec: LoadSpec, seconds: number, window: number }
  | { id: number, kind: 'latency', spec: LoadSpec, seconds: number, rate: number }
  | { id: number, kind: 'openIdle', url: string, tokens: string[], count: number }
  | { id: number, kind: 'closeIdle' }
  | { id: number, kind: 'openGroup', spec: GroupSpec }
  | { id: number, kind: 'groupPhase', load: { window: number } | { rate: number }, seconds: number }
  | { id: number, kind: 'closeGroup' }

async function handle (command: Command): Promise<unknown> {
  const log = (line: string): void => { console.log(line) }
  switch (command.kind) {
    case 'throughput': return await runThroughput(command.spec, command.seconds, command.window, log)
    case 'latency': return await runLatency(command.spec, command.seconds, command.rate, log)
    case 'openIdle': return await openIdle(command.url, command.tokens, command.count)
    case 'closeIdle': closeIdle(); return null
    case 'openGroup': return await openGroup(command.spec)
    case 'groupPhase': return await runGroupPhase(command.load, command.seconds, log)
    case 'closeGroup': closeGroup(); return null
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
  process.on('disconnect', () => { closeIdle(); closeGroup(); process.exit(0) })
}
