/**
 * What the cluster benchmarks share (bench-cluster.ts, bench-scale-out.ts): a spawned redis-server, Parley instances
 * as processes running src/server.ts on one store, and users paired in direct conversations across them.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import type { PairSpec } from './bench-realtime-clients.js'

const REDIS_BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server'
const SECRET = 'bench-cluster-secret-that-is-long-enough-0123456789'

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => { resolve(port) })
    })
  })
}

export async function until (what: string, probe: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await probe().catch(() => false)) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`${what} not ready after ${ms} ms`)
}

export async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

export async function startRedis (): Promise<{ url: string, child: ChildProcess }> {
  const port = await freePort()
  const child = spawn(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  child.once('error', error => { console.error(`cannot start ${REDIS_BIN}: ${error.message}`); process.exit(1) })
  await until('redis-server', async () => await new Promise<boolean>(resolve => {
    const socket = net.connect(port, '127.0.0.1', () => { socket.end(); resolve(true) })
    socket.once('error', () => { resolve(false) })
  }))
  return { url: `redis://127.0.0.1:${port}`, child }
}

export interface Instance { url: string, child: ChildProcess }

export async function startInstance (env: NodeJS.ProcessEnv): Promise<Instance> {
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

export async function post (url: string, body: object, token?: string): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body)
  })
  if (res.status >= 300) throw new Error(`${url}: ${res.status} ${await res.text()}`)
  return await res.json()
}

/**
 * Users and one direct conversation per pair, created through the first instance; `place(i)` says on which instances
 * pair i's sender and receiver connect.
 */
export async function makePairs (instances: Instance[], tag: string, count: number, place: (i: number) => [number, number]): Promise<PairSpec[]> {
  const user = async (name: string): Promise<{ id: string, token: string }> => {
    const registered = await post(`${instances[0].url}/api/auth/register`, { username: name, email: `${name}@example.com`, password: 'correct horse battery' })
    const login = await post(`${instances[0].url}/api/auth/login`, { login: name, password: 'correct horse battery' })
    return { id: registered.user.id, token: login.accessToken }
  }
  const pairs: PairSpec[] = []
  for (let i = 0; i < count; i++) {
    const sender = await user(`s${tag}_${i}`)
    const receiver = await user(`r${tag}_${i}`)
    const conversation = await post(`${instances[0].url}/api/conversations`, { type: 'direct', userId: receiver.id }, sender.token)
    pairs.push({
      senderToken: sender.token,
      receiverToken: receiver.token,
      conversationId: conversation.id,
      senderUrl: instances[place(i)[0]].url,
      receiverUrl: instances[place(i)[1]].url
    })
  }
  return pairs
}


/** Redis's own count of commands served and the CPU they took (INFO commandstats), summed over every command. */
export async function redisCommandStats (url: string): Promise<{ calls: number, usec: number, byCommand: Record<string, number> }> {
  const { hostname, port } = new URL(url)
  const reply = await new Promise<string>((resolve, reject) => {
    let data = ''
    const socket = net.connect(Number(port), hostname, () => { socket.write('INFO commandstats\r\n') })
    socket.on('data', chunk => {
      data += chunk.toString()
      const header = /^\$(\d+)\r\n/.exec(data)
      if (header !== null && Buffer.byteLength(data) >= header[0].length + Number(header[1])) { socket.end(); resolve(data) }
    })
    socket.once('error', reject)
  })
  const byCommand: Record<string, number> = {}
  let calls = 0
  let usec = 0
  for (const match of reply.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    byCommand[match[1]] = Number(match[2])
    calls += Number(match[2])
    usec += Number(match[3])
  }
  return { calls, usec, byCommand }
}
