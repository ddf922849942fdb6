/** Pieces the realtime and cluster benchmarks share: options, the clients' child process, other processes' CPU. */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { LatencyResult, LoadSpec, ThroughputResult } from './bench-realtime-clients.js'

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

export function childClients (settings: { seconds: number, window: number, rate: number }): Clients {
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
