/** Pieces the benchmarks share: options, the clients' child process, other processes' CPU, the bare relay, the real app; and for the scale benchmark, IPC workers, event-loop lag and the open-files limit. */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createServer } from 'node:http'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Server } from 'socket.io'
import type { GroupPhaseResult, GroupSpec, LatencyResult, LoadSpec, ThroughputResult } from './bench-realtime-clients.js'

/** `--name value` or `--name=value` from the command line. */
export function option (name: string, fallback: string): string {
  const args = process.argv.slice(2)
  const inline = args.find(arg => arg.startsWith(`--${name}=`))
  if (inline !== undefined) return inline.slice(name.length + 3)
  const at = args.indexOf(`--${name}`)
  return at >= 0 && args[at + 1] !== undefined && !args[at + 1].startsWith('--') ? args[at + 1] : fallback
}

export const fmt = (value: number, digits = 1): string => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** Runs client commands in the child (IPC) or in this process. */
export interface Clients {
  throughput: (spec: LoadSpec) => Promise<ThroughputResult>
  latency: (spec: LoadSpec) => Promise<LatencyResult>
  openIdle: (url: string, tokens: string[], count: number) => Promise<number>
  closeIdle: () => Promise<void>
  close: () => void
}

/** The group commands (`npm run bench:groups`), and the child's pid for its CPU time. */
export interface GroupClients {
  openGroup: (spec: GroupSpec) => Promise<number>
  groupThroughput: () => Promise<GroupPhaseResult>
  groupLatency: () => Promise<GroupPhaseResult>
  closeGroup: () => Promise<void>
  pid: number | undefined
}

export function childClients (settings: { seconds: number, window: number, rate: number }): Clients & GroupClients {
  const script = fileURLToPath(new URL('./bench-realtime-clients.ts', import.meta.url))
  const child: ChildProcess = fork(script, ['--bench-clients'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' })
  let nextId = 0
  const pending = new Map<number, { resolve: (value: any) => void, reject: (error: Error) => void }>()
  child.on('message', (reply: { id: number, result?: unknown, error?: string }) => {
    const waiter = pending.get(reply.id)
    pending.delete(reply.id)
    if (reply.error !== undefined) waiter?.reject(new Error(reply.error))
    else waiter?.resolve(reply.result)
  })
  child.on('exit', code => { for (const waiter of pending.values()) waiter.reject(new Error(`client process exited (${code})`)) })
  const call = async (command: Record<string, unknown>): Promise<any> => await new Promise((resolve, reject) => {
    const id = ++nextId
    pending.set(id, { resolve, reject })
    child.send({ ...command, id })
  })
  return {
    throughput: async spec => await call({ kind: 'throughput', spec, seconds: settings.seconds, window: settings.window }),
    latency: async spec => await call({ kind: 'latency', spec, seconds: settings.seconds, rate: settings.rate }),
    openIdle: async (url, tokens, count) => await call({ kind: 'openIdle', url, tokens, count }),
    closeIdle: async () => { await call({ kind: 'closeIdle' }) },
    openGroup: async spec => await call({ kind: 'openGroup', spec }),
    groupThroughput: async () => await call({ kind: 'groupPhase', load: { window: settings.window }, seconds: settings.seconds }),
    groupLatency: async () => await call({ kind: 'groupPhase', load: { rate: settings.rate }, seconds: settings.seconds }),
    closeGroup: async () => { await call({ kind: 'closeGroup' }) },
    pid: child.pid,
    close: () => { child.disconnect() }
  }
}

/** user + system CPU time of another process, in µs (Linux /proc; clock ticks are 10 ms here). */
export function processCpu (pid: number | undefined): number {
  if (pid === undefined) return 0
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10_000
  } catch {
    return 0
  }
}

/** `npm run db` as a child process on a free port; resolves with its MONGODB_URL. */
export async function startDbProcess (dataDir: string): Promise<{ url: string, child: ChildProcess }> {
  const script = fileURLToPath(new URL('./db.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, DB_PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit']
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const found = /MONGODB_URL=(\S+)/.exec(out)
      if (found !== null) resolve(found[1])
    })
    child.once('exit', code => { reject(new Error(`db process exited (${code})`)) })
  })
  return { url, child }
}

/**
 * The bare baseline: a plain socket.io Server that puts each socket in the room named by its handshake's
 * `conversationId` and forwards each `chat_message` to that room except the sender, then acks (no auth, no
 * validation, no storage). A pair's room has one receiver; a group's has every member.
 */
export async function startRelayServer (): Promise<{ url: string, io: Server, close: () => Promise<void> }> {
  const server = createServer()
  const io = new Server(server, { path: '/socket.io', serveClient: false })
  io.on('connection', socket => {
    const room = `conversation:${String(socket.handshake.auth.conversationId)}`
    void socket.join(room)
    socket.on('chat_message', (payload: { conversationId: string, body: string, clientMsgId?: string }, ack?: (response: unknown) => void) => {
      const message = { ...payload, senderId: 'relay', createdAt: new Date().toISOString() }
      socket.to(room).emit('re_message', { action: 're_message', message })
      ack?.({ ok: true, data: message })
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  return {
    url: `http://127.0.0.1:${address.port}`,
    io,
    close: async () => { await new Promise<void>(resolve => { void io.close(() => { resolve() }) }) }
  }
}

type App = Awaited<ReturnType<typeof import('../src/app.js')['buildApp']>>

/**
 * The real app (buildApp + loadConfig) on `dataDir`, listening on 127.0.0.1:0, with the limits off and a cheap
 * argon2 (the benchmarks measure the message path, not the limits or the password hash); `env` adds or overrides.
 * `user` registers and logs in one account over REST (app.inject).
 */
export async function startBenchApp (dataDir: string, env: Record<string, string> = {}): Promise<{
  app: App
  url: string
  user: (name: string) => Promise<{ id: string, token: string }>
}> {
  const [{ buildApp }, { loadConfig }] = await Promise.all([import('../src/app.js'), import('../src/config/load-config.js')])
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'bench-secret-that-is-long-enough-0123456789',
    RATE_LIMIT_MESSAGES: '0',
    RATE_LIMIT_SOCKET_EVENTS: '0',
    RATE_LIMIT_LOGIN: '0',
    RATE_LIMIT_LOGIN_ACCOUNT: '0',
    RATE_LIMIT_REGISTER: '0',
    ARGON2_MEMORY_KIB: '64',
    ARGON2_TIME_COST: '1',
    ARGON2_PARALLELISM: '1',
    ...env
  })
  const app = await buildApp(config)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  const password = 'correct horse battery'
  const user = async (name: string): Promise<{ id: string, token: string }> => {
    const registered = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: name, email: `${name}@example.com`, password } })
    if (registered.statusCode !== 201) throw new Error(`register failed: ${registered.body}`)
    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: name, password } })
    if (login.statusCode !== 200) throw new Error(`login failed: ${login.body}`)
    return { id: registered.json().user.id, token: login.json().accessToken }
  }
  return { app, url: `http://127.0.0.1:${address.port}`, user }
}

/** A child process that answers `{ id, ...command }` messages (see `serveParent`); `pid` for its CPU time. */
export interface Worker {
  call: <T = unknown>(command: Record<string, unknown>) => Promise<T>
  pid: number | undefined
  /** Disconnects the IPC channel (the child exits on it) and waits for the exit. */
  close: () => Promise<void>
}

/**
 * Forks `script` with tsx (plus `execArgv`, e.g. `--expose-gc`), stdio inherited. Replies settle `call`; any other
 * message from the child (a notice, e.g. progress) goes to `onNotice`.
 */
export function forkWorker (script: string, args: string[] = [], options: { execArgv?: string[], onNotice?: (notice: any) => void } = {}): Worker {
  const child: ChildProcess = fork(script, args, { execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])], stdio: 'inherit' })
  let nextId = 0
  const pending = new Map<number, { resolve: (value: any) => void, reject: (error: Error) => void }>()
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  child.on('message', (message: { id?: number, result?: unknown, error?: string }) => {
    if (message.id === undefined) return options.onNotice?.(message)
    const waiter = pending.get(message.id)
    pending.delete(message.id)
    if (message.error !== undefined) waiter?.reject(new Error(message.error))
    else waiter?.resolve(message.result)
  })
  child.on('exit', code => { for (const waiter of pending.values()) waiter.reject(new Error(`${script} exited (${code})`)) })
  return {
    call: async command => await new Promise((resolve, reject) => {
      const id = ++nextId
      pending.set(id, { resolve, reject })
      child.send({ ...command, id })
    }),
    pid: child.pid,
    close: async () => {
      if (child.connected) child.disconnect()
      await exited
    }
  }
}

/**
 * The child side of `forkWorker`: runs `handle` for each command (one at a time is up to the parent) and replies;
 * `notify` sends a notice. On disconnect, `cleanup` runs and the process exits.
 */
export function serveParent (handle: (command: any, notify: (notice: Record<string, unknown>) => void) => Promise<unknown>, cleanup: () => Promise<void> | void = () => {}): void {
  const notify = (notice: Record<string, unknown>): void => { process.send?.(notice) }
  process.on('message', (command: { id: number }) => {
    handle(command, notify).then(
      result => process.send?.({ id: command.id, result: result ?? null }),
      (error: Error) => process.send?.({ id: command.id, error: error.stack ?? error.message })
    )
  })
  process.on('disconnect', () => {
    Promise.resolve(cleanup()).finally(() => process.exit(0))
  })
}

/** Event-loop lag (perf_hooks.monitorEventLoopDelay), ms beyond the timer's own `resolutionMs`. */
export interface LoopLag { p50: number, p99: number, max: number, samples: number }

export function loopLagMonitor (resolutionMs = 10): { reset: () => void, read: () => LoopLag } {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs })
  histogram.enable()
  // The histogram holds each timer's whole interval (ns): the resolution itself is not lag.
  const lag = (ns: number): number => Math.max(0, ns / 1e6 - resolutionMs)
  return {
    reset: () => { histogram.reset() },
    read: () => ({ p50: lag(histogram.percentile(50)), p99: lag(histogram.percentile(99)), max: lag(histogram.max), samples: histogram.count })
  }
}

/** This process's soft limit on open files (Linux /proc), or Infinity when it cannot be read or is unlimited. */
export function openFilesLimit (): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find(l => l.startsWith('Max open files'))
    const soft = line?.split(/\s{2,}/)[1]
    return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft)
  } catch {
    return Infinity
  }
}
