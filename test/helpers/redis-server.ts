/**
 * A real Redis for one test: `redis-server` spawned on a free loopback port, no persistence, killed in the test's
 * teardown (and when this process exits, should the teardown never run). `stop()` and `start()` again on the same
 * port simulate an outage.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import net from 'node:net'
import type { TeardownHost } from './build-app.js'

export const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server'

export interface TestRedis {
  /** `redis://127.0.0.1:<port>` */
  url: string
  port: number
  /** Kills the server (SIGKILL: an outage, not a shutdown) and waits for it to exit. Idempotent. */
  stop: () => Promise<void>
  /** Starts it again on the same port (empty: nothing is persisted) and waits until it answers PING. */
  start: () => Promise<void>
  /** Sends one command (inline protocol) and resolves with the raw reply. */
  command: (line: string) => Promise<string>
}

const running = new Set<ChildProcess>()
process.once('exit', () => { for (const child of running) child.kill('SIGKILL') })

/** A port nothing listens on right now (bound on port 0, then released). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => { resolve(port) })
    })
  })
}

async function send (port: number, line: string, timeoutMs = 1000): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let reply = ''
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`redis: no answer to ${line}`)) }, timeoutMs)
    socket.once('error', error => { clearTimeout(timer); reject(error) })
    socket.on('data', chunk => {
      reply += chunk.toString()
      if (reply.endsWith('\r\n')) { clearTimeout(timer); socket.end(); resolve(reply.trim()) }
    })
    socket.write(`${line}\r\n`)
  })
}

export async function startTestRedis (t: TeardownHost): Promise<TestRedis> {
  if (!existsSync(REDIS_SERVER_BIN)) {
    throw new Error(`redis-server not found at ${REDIS_SERVER_BIN}: install Redis (apt-get install redis-server) or set REDIS_SERVER_BIN`)
  }
  const port = await freePort()
  let child: ChildProcess | null = null
  let output = ''

  const stop = async (): Promise<void> => {
    const current = child
    child = null
    if (current === null || current.exitCode !== null || current.signalCode !== null) return
    await new Promise<void>(resolve => {
      current.once('exit', () => { resolve() })
      current.kill('SIGKILL')
    })
  }

  const start = async (): Promise<void> => {
    if (child !== null) throw new Error('redis-server is already running')
    output = ''
    const spawned = spawn(REDIS_SERVER_BIN, [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'
    ], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = spawned
    running.add(spawned)
    spawned.once('exit', () => { running.delete(spawned) })
    spawned.stdout?.on('data', (chunk: Buffer) => { output = (output + chunk.toString()).slice(-4000) })
    spawned.stderr?.on('data', (chunk: Buffer) => { output = (output + chunk.toString()).slice(-4000) })
    const deadline = Date.now() + 10_000
    for (;;) {
      if (spawned.exitCode !== null) throw new Error(`redis-server exited (${spawned.exitCode}): ${output}`)
      try {
        if (await send(port, 'PING', 500) === '+PONG') return
      } catch {}
      if (Date.now() > deadline) {
        await stop()
        throw new Error(`redis-server did not answer PING on port ${port} within 10 s: ${output}`)
      }
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }

  t.teardown(stop)
  await start()
  return { url: `redis://127.0.0.1:${port}`, port, stop, start, command: async line => await send(port, line) }
}
