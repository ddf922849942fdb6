/**
 * `npm run bench:client`: what the client SDK (`client/`, ParleyClient) costs over raw socket.io-client, on the
 * same Parley server in the same run. The server is the real app (buildApp) on the embedded engine with a
 * temporary durable data directory, in this process; the clients run in a child process (IPC commands), so they do
 * not share the server's event loop. Two users send and two receive: a raw pair (socket.io-client sockets:
 * `chat_message {conversationId, body, clientMsgId}` with an ack, `re_message` at the receiver) and an SDK pair
 * (ParleyClient: `send()`, the receiver's `timeline` event showing the stored message), each pair in its own K
 * two-member group conversations, so neither sees the other's traffic. Bodies are ~100 bytes with the send time
 * first. Phases, in rounds that alternate raw and SDK (the first round of each is a warm-up, not counted):
 *
 *  - closed loop: K conversations, each with one message in flight (the SDK's own rule, to keep a sender's
 *    order): raw emits the next message of a conversation on the previous one's ack, the SDK app calls `send()`
 *    when its own timeline shows the previous one stored. Delivered msgs/s and send-to-display latency;
 *  - fixed rate: `--rate` msgs/s in total over the K conversations, each on its own schedule. The SDK's outbox
 *    sends at once when nothing is in flight in that conversation, else after the previous ack; the raw client
 *    does the same (a due message waits in order), and both count latency from when the message was due. Latency;
 *  - queued (SDK only): every `send()` of the round at once; the outbox keeps one in flight per conversation.
 *    Compared with the raw closed loop of the same round (the same concurrency at the server).
 *
 * The SDK's timelines keep every message of the run (as an app's would), so the last rounds show its cost with
 * thousands of messages held. Also: CPU time per message of the clients' process and of the server.
 *
 * On a shared machine single rounds swing by tens of percent either way, so the summary gives, beside the pooled
 * figures, the median over rounds of the paired SDK/raw ratio (and of the p99 difference) of the same round.
 *
 * Options: --conversations K (10), --messages per closed-loop and queued round (1500), --rounds measured rounds
 * per client (10), --rate msgs/s (500), --rate-seconds per fixed-rate round (2), --sdk FILE (another copy of
 * `client/src/index.ts` to load instead, e.g. an older version's, to compare two versions of the SDK).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir, cpus } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { io as connectClient, type Socket } from 'socket.io-client'
import { fmt, forkWorker, option, serveParent, startBenchApp } from './bench-common.js'

const CONVERSATIONS = Number(option('conversations', '10'))
const MESSAGES = Number(option('messages', '1500'))
const ROUNDS = Number(option('rounds', '10'))
const RATE = Number(option('rate', '500'))
const RATE_SECONDS = Number(option('rate-seconds', '2'))
/** Another copy of the SDK's index.ts to measure (e.g. an older version's checkout), read by the clients' process. */
const SDK = option('sdk', '')

type Mode = 'raw' | 'sdk'
type Phase = 'closed' | 'rate' | 'queued'

interface PhaseResult {
  delivered: number
  seconds: number
  perSecond: number
  /** send-to-display latencies, ms */
  latencies: number[]
  errors: number
  /** the clients' process CPU (user + system), µs */
  clientCpu: number
}

interface Setup {
  url: string
  raw: { senderToken: string, receiverToken: string, conversations: string[] }
  sdk: { sender: { accessToken: string, refreshToken: string }, receiver: { accessToken: string, refreshToken: string }, conversations: string[] }
}

/** Every body is this long (ASCII), the send time first, as in the other benchmarks. */
const BODY_BYTES = 100
function makeBody (sentAt: number): string {
  const head = `${sentAt.toFixed(3)} `
  return head + 'x'.repeat(Math.max(1, BODY_BYTES - head.length))
}

// ---------------------------------------------------------------- the clients' process

async function childMain (): Promise<void> {
  type Sdk = typeof import('../client/src/index.js')
  const { ParleyClient } = await import(SDK === '' ? '../client/src/index.js' : pathToFileURL(SDK).href) as Sdk
  type Client = InstanceType<typeof ParleyClient>
  let rawSender: Socket
  let rawReceiver: Socket
  let sdkSender: Client
  let sdkReceiver: Client
  let setup: Setup
  let nextId = 0

  const connectRaw = async (url: string, token: string): Promise<Socket> => {
    const socket = connectClient(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => { resolve() })
      socket.once('connect_error', reject)
    })
    return socket
  }

  /** The phase's receive side: `display(sentAt)` per message shown; `done` once `expected()` were shown. */
  interface Receiving { display: (sentAt: number) => void, check: () => void, done: Promise<void>, latencies: number[], count: () => number }
  const receiving = (expected: () => number, start: number): Receiving => {
    const latencies: number[] = []
    let resolve = (): void => {}
    const done = new Promise<void>(r => { resolve = r })
    const check = (): void => { if (latencies.length >= expected()) resolve() }
    return {
      latencies,
      done,
      check,
      count: () => latencies.length,
      display: sentAt => {
        if (sentAt < start) return // a straggler of an earlier phase
        latencies.push(performance.now() - sentAt)
        check()
      }
    }
  }

  // Raw: one listener for the run, pointed at the current phase.
  let rawDisplay: (sentAt: number) => void = () => {}
  // SDK: the receiver's shown count per conversation, to find what each timeline event adds.
  const shownCount = new Map<string, number>()
  let sdkDisplay: (sentAt: number) => void = () => {}
  let sdkSenderShown: (conversationId: string) => void = () => {}

  const commands = {
    setup: async (spec: Setup): Promise<null> => {
      setup = spec
      rawSender = await connectRaw(spec.url, spec.raw.senderToken)
      rawReceiver = await connectRaw(spec.url, spec.raw.receiverToken)
      rawReceiver.on('re_message', (event: { message: { body: string } }) => { rawDisplay(Number.parseFloat(event.message.body)) })
      const sdk = async (tokens: { accessToken: string, refreshToken: string }): Promise<Client> => {
        const client = new ParleyClient({ url: spec.url, socketOptions: { transports: ['websocket'] } })
        await client.useTokens(tokens)
        await client.connect()
        return client
      }
      sdkSender = await sdk(spec.sdk.sender)
      sdkReceiver = await sdk(spec.sdk.receiver)
      sdkReceiver.on('timeline', (conversationId, messages) => {
        const from = shownCount.get(conversationId) ?? 0
        let shown = from
        // The receiver sends nothing: everything it shows is stored, new messages at the end.
        for (let i = from; i < messages.length; i++) {
          const message = messages[i]
          if (message.status !== 'stored') break
          shown = i + 1
          sdkDisplay(Number.parseFloat(message.body))
        }
        shownCount.set(conversationId, shown)
      })
      sdkSender.on('timeline', (conversationId, messages) => {
        // Our send is stored once the view ends with a stored message (no pending one left).
        if (messages.length > 0 && messages[messages.length - 1].status === 'stored') sdkSenderShown(conversationId)
      })
      return null
    },

    phase: async ({ mode, phase, messages }: { mode: Mode, phase: Phase, messages: number }): Promise<PhaseResult> => {
      const conversations = mode === 'raw' ? setup.raw.conversations : setup.sdk.conversations
      const cpuBefore = process.cpuUsage()
      const start = performance.now()
      let expected = messages
      const rx = receiving(() => expected, start)
      let errors = 0
      let sent = 0
      if (mode === 'raw') rawDisplay = rx.display
      else sdkDisplay = rx.display
      const rawEmit = (conversationId: string, sentAt: number, then: () => void): void => {
        rawSender.timeout(30_000).emit('chat_message', {
          conversationId, body: makeBody(sentAt), clientMsgId: `b${process.pid}-${++nextId}`
        }, (error: Error | null, ack: { ok: boolean }) => {
          if (error !== null || !ack.ok) errors++
          then()
        })
      }
      // Raw sends keep the SDK's rule too: one in flight per conversation, the others wait in order (with the
      // time they were due, which their latency counts from, as the SDK's count from send()).
      const waiting = new Map<string, number[]>()
      const inFlight = new Set<string>()
      const rawSend = (conversationId: string, then?: () => void): void => {
        const sentAt = performance.now()
        if (inFlight.has(conversationId)) {
          waiting.get(conversationId)?.push(sentAt) ?? waiting.set(conversationId, [sentAt])
          return
        }
        inFlight.add(conversationId)
        const acked = (): void => {
          const next = waiting.get(conversationId)?.shift()
          if (next !== undefined) rawEmit(conversationId, next, acked)
          else inFlight.delete(conversationId)
          then?.()
        }
        rawEmit(conversationId, sentAt, acked)
      }
      const sdkSend = (conversationId: string): void => { sdkSender.send(conversationId, makeBody(performance.now())) }

      let stop = (): void => {}
      if (phase === 'closed') {
        // One message in flight per conversation; the next on the previous one's ack (raw) or stored display (SDK).
        const next = (conversationId: string): void => {
          if (sent >= messages) return
          sent++
          if (mode === 'raw') rawSend(conversationId, () => { next(conversationId) })
          else sdkSend(conversationId)
        }
        if (mode === 'sdk') sdkSenderShown = next
        for (const conversationId of conversations) next(conversationId)
      } else if (phase === 'queued') {
        for (let i = 0; i < messages; i++) sdkSend(conversations[i % conversations.length])
        sent = messages
      } else {
        // `RATE` msgs/s in total, each conversation on its own fixed schedule (staggered), for RATE_SECONDS.
        expected = Number.POSITIVE_INFINITY
        const interval = conversations.length / RATE * 1000
        const end = start + RATE_SECONDS * 1000
        const timers: Array<ReturnType<typeof setTimeout>> = []
        conversations.forEach((conversationId, index) => {
          let due = start + interval * index / conversations.length
          const tick = (): void => {
            const now = performance.now()
            while (due <= now && due < end) {
              due += interval
              sent++
              if (mode === 'raw') rawSend(conversationId)
              else sdkSend(conversationId)
            }
            if (due < end) timers[index] = setTimeout(tick, Math.max(0, due - performance.now()))
          }
          timers[index] = setTimeout(tick, Math.max(0, due - performance.now()))
        })
        stop = () => { for (const timer of timers) clearTimeout(timer) }
        await new Promise(resolve => setTimeout(resolve, RATE_SECONDS * 1000))
        stop()
        expected = sent
        rx.check()
      }
      const timeout = new Promise<'timeout'>(resolve => setTimeout(() => { resolve('timeout') }, 60_000))
      const finished = await Promise.race([rx.done.then(() => 'done' as const), timeout])
      const seconds = (performance.now() - start) / 1000
      const cpu = process.cpuUsage(cpuBefore)
      sdkSenderShown = () => {}
      if (finished === 'timeout') errors += expected - rx.count()
      // Drain: the SDK's outbox and delivery marks settle before the next phase.
      while (mode === 'sdk' && sdkSender.pending > 0) await new Promise(resolve => setTimeout(resolve, 10))
      await new Promise(resolve => setTimeout(resolve, 600))
      const latencies = rx.latencies
      return { delivered: latencies.length, seconds, perSecond: latencies.length / seconds, latencies, errors, clientCpu: cpu.user + cpu.system }
    },

    close: async (): Promise<null> => {
      rawSender.disconnect()
      rawReceiver.disconnect()
      sdkSender.close()
      sdkReceiver.close()
      return null
    }
  }

  serveParent(async (request: { kind: keyof typeof commands, arg: any }) => await commands[request.kind](request.arg))
}

// ---------------------------------------------------------------- the server's process

function startChild (): { call: <T>(kind: string, arg?: unknown) => Promise<T>, pid: number | undefined, close: () => void } {
  const worker = forkWorker(fileURLToPath(import.meta.url), ['--bench-client-child', ...process.argv.slice(2)])
  return {
    call: async <T>(kind: string, arg?: unknown) => await worker.call<T>({ kind, arg }),
    pid: worker.pid,
    close: () => { void worker.close() }
  }
}

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
const median = (values: number[]): number => percentile([...values].sort((a, b) => a - b), 0.5)

interface Totals {
  delivered: number
  seconds: number
  latencies: number[]
  errors: number
  clientCpu: number
  serverCpu: number
  /** per measured round: msgs/s, p99 */
  perRound: number[]
  p99s: number[]
}
const totals = (): Totals => ({ delivered: 0, seconds: 0, latencies: [], errors: 0, clientCpu: 0, serverCpu: 0, perRound: [], p99s: [] })

async function main (): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-client-'))
  const { app, url, user } = await startBenchApp(dataDir)
  const child = startChild()
  try {
    const [rawSender, rawReceiver, sdkSender, sdkReceiver] = await Promise.all(['rawsender', 'rawreceiver', 'sdksender', 'sdkreceiver'].map(async name => await user(name)))
    const login = async (name: string): Promise<{ accessToken: string, refreshToken: string }> => {
      const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: name, password: 'correct horse battery' } })
      return { accessToken: res.json().accessToken, refreshToken: res.json().refreshToken }
    }
    const groups = async (owner: { token: string }, member: { id: string }, label: string): Promise<string[]> => {
      const ids: string[] = []
      for (let i = 0; i < CONVERSATIONS; i++) {
        const res = await app.inject({
          method: 'POST', url: '/api/conversations', headers: { authorization: `Bearer ${owner.token}` },
          payload: { type: 'group', name: `${label} ${i}`, memberIds: [member.id] }
        })
        if (res.statusCode !== 201) throw new Error(`group: ${res.statusCode} ${res.body}`)
        ids.push(res.json().id)
      }
      return ids
    }
    await child.call('setup', {
      url,
      raw: { senderToken: rawSender.token, receiverToken: rawReceiver.token, conversations: await groups(rawSender, rawReceiver, 'raw') },
      sdk: { sender: await login('sdksender'), receiver: await login('sdkreceiver'), conversations: await groups(sdkSender, sdkReceiver, 'sdk') }
    } satisfies Setup)

    console.log(`${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average before: ${loadavg().map(v => v.toFixed(2)).join(' ')}`)
    console.log(`${CONVERSATIONS} conversations per client, ${MESSAGES} messages per closed-loop and queued round, ${RATE} msgs/s for ${RATE_SECONDS} s per fixed-rate round, ${ROUNDS} measured rounds (+1 warm-up) per client, alternating`)
    const results: Record<string, Totals> = {}
    const key = (mode: Mode, phase: Phase): string => `${mode} ${phase}`
    for (const mode of ['raw', 'sdk'] as const) for (const phase of ['closed', 'rate', 'queued'] as const) results[key(mode, phase)] = totals()
    const runPhase = async (round: number, mode: Mode, phase: Phase): Promise<void> => {
      const serverBefore = process.cpuUsage()
      const result = await child.call<PhaseResult>('phase', { mode, phase, messages: MESSAGES })
      const server = process.cpuUsage(serverBefore)
      const sorted = [...result.latencies].sort((a, b) => a - b)
      console.log(`round ${round === 0 ? 'warm-up' : round} ${mode.padEnd(3)} ${phase.padEnd(6)}: ${fmt(result.perSecond, 0)} msgs/s, p50 ${fmt(percentile(sorted, 0.5), 2)} ms, p99 ${fmt(percentile(sorted, 0.99), 2)} ms, ${result.delivered} shown, ${result.errors} errors, client CPU ${fmt(result.clientCpu / Math.max(1, result.delivered), 0)} µs/msg`)
      if (round === 0) return
      const total = results[key(mode, phase)]
      total.delivered += result.delivered
      total.seconds += result.seconds
      total.errors += result.errors
      total.clientCpu += result.clientCpu
      total.serverCpu += server.user + server.system
      total.perRound.push(result.perSecond)
      total.p99s.push(percentile(sorted, 0.99))
      for (const latency of result.latencies) total.latencies.push(latency)
    }
    for (let round = 0; round <= ROUNDS; round++) {
      // Alternate which client goes first, so drift over the run falls on both.
      const order: Mode[] = round % 2 === 0 ? ['raw', 'sdk'] : ['sdk', 'raw']
      for (const mode of order) {
        await runPhase(round, mode, 'closed')
        await runPhase(round, mode, 'rate')
        if (mode === 'sdk') await runPhase(round, mode, 'queued')
      }
    }
    await child.call('close')

    const stats = (total: Totals): { rate: number, p50: number, p99: number, clientCpu: number, serverCpu: number } => {
      const sorted = total.latencies.sort((a, b) => a - b)
      return {
        rate: total.delivered / total.seconds,
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        clientCpu: total.clientCpu / Math.max(1, total.delivered),
        serverCpu: total.serverCpu / Math.max(1, total.delivered)
      }
    }
    const raw = { closed: stats(results['raw closed']), rate: stats(results['raw rate']) }
    const sdk = { closed: stats(results['sdk closed']), rate: stats(results['sdk rate']), queued: stats(results['sdk queued']) }
    const paired = (a: number[], b: number[], f: (x: number, y: number) => number): number[] => a.map((x, i) => f(x, b[i]))
    const closedRatios = paired(results['sdk closed'].perRound, results['raw closed'].perRound, (x, y) => x / y)
    const queuedRatios = paired(results['sdk queued'].perRound, results['raw closed'].perRound, (x, y) => x / y)
    const closedP99 = paired(results['sdk closed'].p99s, results['raw closed'].p99s, (x, y) => x - y)
    const rateP99 = paired(results['sdk rate'].p99s, results['raw rate'].p99s, (x, y) => x - y)
    const list = (values: number[], digits: number): string => values.map(v => fmt(v, digits)).join(', ')
    const signed = (ms: number): string => `${ms >= 0 ? '+' : ''}${fmt(ms, 2)} ms`
    const errors = Object.entries(results).filter(([name]) => name !== 'raw queued').map(([name, total]) => `${name} ${total.errors}`).join(', ')
    console.log('')
    console.log(`load average after: ${loadavg().map(v => v.toFixed(2)).join(' ')}`)
    console.log('| measurement | raw socket.io-client | SDK | SDK vs raw (pooled) | median of paired rounds |')
    console.log('|---|---|---|---|---|')
    console.log(`| closed loop (${CONVERSATIONS} in flight), shown msgs/s | ${fmt(raw.closed.rate, 0)} | ${fmt(sdk.closed.rate, 0)} | ${fmt(sdk.closed.rate / raw.closed.rate, 2)}x | ${fmt(median(closedRatios), 2)}x |`)
    console.log(`| closed loop, send-to-display p50 / p99, ms | ${fmt(raw.closed.p50, 2)} / ${fmt(raw.closed.p99, 2)} | ${fmt(sdk.closed.p50, 2)} / ${fmt(sdk.closed.p99, 2)} | p99 ${signed(sdk.closed.p99 - raw.closed.p99)} | p99 ${signed(median(closedP99))} |`)
    console.log(`| fixed rate ${RATE} msgs/s, send-to-display p50 / p99, ms | ${fmt(raw.rate.p50, 2)} / ${fmt(raw.rate.p99, 2)} | ${fmt(sdk.rate.p50, 2)} / ${fmt(sdk.rate.p99, 2)} | p99 ${signed(sdk.rate.p99 - raw.rate.p99)} | p99 ${signed(median(rateP99))} |`)
    console.log(`| queued (every send() at once), shown msgs/s, against the raw closed loop | ${fmt(raw.closed.rate, 0)} | ${fmt(sdk.queued.rate, 0)} | ${fmt(sdk.queued.rate / raw.closed.rate, 2)}x | ${fmt(median(queuedRatios), 2)}x |`)
    console.log(`| clients' CPU per message (closed loop; fixed rate), µs | ${fmt(raw.closed.clientCpu, 0)}; ${fmt(raw.rate.clientCpu, 0)} | ${fmt(sdk.closed.clientCpu, 0)}; ${fmt(sdk.rate.clientCpu, 0)} | ${fmt(sdk.closed.clientCpu / raw.closed.clientCpu, 2)}x; ${fmt(sdk.rate.clientCpu / raw.rate.clientCpu, 2)}x | |`)
    console.log(`| server CPU per message (closed loop), µs | ${fmt(raw.closed.serverCpu, 0)} | ${fmt(sdk.closed.serverCpu, 0)} | ${fmt(sdk.closed.serverCpu / raw.closed.serverCpu, 2)}x | |`)
    console.log(`| messages shown (measured rounds) | ${results['raw closed'].delivered + results['raw rate'].delivered} | ${results['sdk closed'].delivered + results['sdk rate'].delivered + results['sdk queued'].delivered} | | |`)
    console.log(`| errors (failed or missing) | ${errors} | | | |`)
    console.log('')
    console.log(`paired rounds, closed-loop msgs/s SDK/raw: ${list(closedRatios, 2)}`)
    console.log(`paired rounds, queued SDK / closed-loop raw: ${list(queuedRatios, 2)}`)
    console.log(`paired rounds, p99 SDK - raw, ms: closed loop ${list(closedP99, 1)}; fixed rate ${list(rateP99, 1)}`)
    const ratio = median(closedRatios)
    console.log(`aim: SDK throughput >= 0.9x raw: ${ratio >= 0.9 ? 'met' : 'NOT met'} (median paired ${fmt(ratio, 2)}x, pooled ${fmt(sdk.closed.rate / raw.closed.rate, 2)}x)`)
    console.log(`aim: SDK p99 within 5 ms of raw (median paired): closed loop ${median(closedP99) <= 5 ? 'met' : 'NOT met'} (${signed(median(closedP99))}), fixed rate ${median(rateP99) <= 5 ? 'met' : 'NOT met'} (${signed(median(rateP99))})`)
  } finally {
    child.close()
    await app.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

if (process.argv.includes('--bench-client-child')) {
  childMain().catch(error => { console.error(error); process.exit(1) })
} else {
  main().catch(error => { console.error(error); process.exit(1) })
}
