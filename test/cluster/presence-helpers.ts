/**
 * Presence across instances: N in-process apps sharing one database (the first one's embedded engine, or the
 * MONGODB_URL server) and one real Redis, each listening on port 0, with real socket.io-client sockets. The Redis
 * presence stores run with short timings so a crashed instance is reaped within seconds.
 */
import type { FastifyInstance } from 'fastify'
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client'
import { buildApp } from '../../src/app.js'
import { RedisPresenceStore, type RedisPresenceTiming } from '../../src/modules/presence/redis-presence.store.js'
import { testConfig } from '../helpers/build-app.js'
import { FAST_ARGON2, emitAck } from '../helpers/realtime.js'
import { bearer } from '../modules/auth/auth-helpers.js'
import { waitFor } from './cluster-helpers.js'
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js'

export type { ClientSocket }

/** Short but tolerant: five heartbeats per TTL, so a loaded machine does not get a live instance reaped. */
export const TEST_TIMING: Required<RedisPresenceTiming> = { ttlMs: 3000, heartbeatMs: 400, reapMs: 400, mirrorResyncMs: 2000 }
/** ttlMs + 1.2 × reapMs, the documented bound, plus room for a loaded machine. */
export const CRASH_BOUND_MS = TEST_TIMING.ttlMs + 1.2 * TEST_TIMING.reapMs + 6000

export interface Instance {
  app: FastifyInstance
  url: string
  store: RedisPresenceStore
  /** Set once the test closed it (teardown skips it). */
  closed: boolean
}

export interface User { id: string, username: string, password: string, accessToken: string }

export interface PresenceCluster {
  redis: TestRedis
  instances: Instance[]
  /** Registers (on the first instance: the database is shared) and logs in. */
  register: (name: string) => Promise<User>
  /** Another session of the user (another device). */
  login: (user: User) => Promise<string>
  connect: (instance: Instance, accessToken: string) => Promise<ClientSocket>
  /**
   * Stops an instance like a crashed process as far as presence goes: no leave, no heartbeat, nothing more
   * written to Redis; its sockets drop. Never the first instance (it hosts the embedded database).
   */
  crash: (instance: Instance) => Promise<void>
}

interface Teardown { teardown: (fn: () => unknown) => void }

let counter = 0
const external = process.env.MONGODB_URL !== undefined && process.env.MONGODB_URL !== ''

export async function startPresenceCluster (t: Teardown, count: number): Promise<PresenceCluster> {
  const redis = await startTestRedis(t)
  const sockets = new Set<ClientSocket>()
  const instances: Instance[] = []
  // One teardown, in order: sockets, then the instances last-first (the first one hosts the embedded database).
  t.teardown(async () => {
    for (const socket of sockets) socket.disconnect()
    if (external) await instances[0]?.app.storage.connection.dropDatabase().catch(() => {})
    for (const instance of [...instances].reverse()) if (!instance.closed) await instance.app.close()
  })
  const env = { ...FAST_ARGON2, REDIS_URL: redis.url }
  let databaseUrl: string | undefined
  for (let i = 0; i < count; i++) {
    const app = await buildApp(testConfig({ ...env, ...(databaseUrl !== undefined ? { MONGODB_URL: databaseUrl } : {}) }))
    await app.ready()
    await app.listen({ port: 0, host: '127.0.0.1' })
    const store = app.presence.presenceStore
    if (!(store instanceof RedisPresenceStore)) throw new Error('expected the Redis presence store with REDIS_URL set')
    store.retime(TEST_TIMING)
    const address = app.server.address()
    if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
    instances.push({ app, url: `http://127.0.0.1:${address.port}`, store, closed: false })
    if (i === 0) {
      if (external) {
        databaseUrl = process.env.MONGODB_URL
        const url = new URL(databaseUrl ?? '')
        url.pathname = `/${app.storage.connection.name}`
        databaseUrl = url.toString()
      } else {
        const embedded = app.storage.embedded
        if (embedded === null) throw new Error('expected the embedded engine')
        const url = new URL(embedded.url)
        url.pathname = `/${app.storage.connection.name}`
        databaseUrl = url.toString()
      }
    }
  }
  const first = instances[0].app

  const loginWith = async (username: string, password: string): Promise<string> => {
    const res = await first.inject({ method: 'POST', url: '/api/auth/login', payload: { login: username, password } })
    if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
    return res.json().accessToken
  }

  const register = async (name: string): Promise<User> => {
    const username = `${name}${++counter}_${process.pid}`.slice(0, 32)
    const password = 'correct horse battery'
    const res = await first.inject({
      method: 'POST', url: '/api/auth/register', payload: { username, email: `${username}@example.com`, password }
    })
    if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`)
    return { id: res.json().user.id, username, password, accessToken: await loginWith(username, password) }
  }

  const connect = async (instance: Instance, accessToken: string): Promise<ClientSocket> => {
    const socket = connectClient(instance.url, {
      path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: accessToken }
    })
    sockets.add(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => { resolve() })
      socket.once('connect_error', reject)
    })
    return socket
  }

  const crash = async (instance: Instance): Promise<void> => {
    if (instance === instances[0]) throw new Error('the first instance hosts the database')
    instance.store.simulateCrash()
    instance.closed = true
    await instance.app.close()
  }

  return { redis, instances, register, login: async user => await loginWith(user.username, user.password), connect, crash }
}

export { bearer, emitAck }

export interface PresenceSeen { userId: string, online: boolean, lastSeenAt: string | null }

/** Every `presence` event the socket receives, in order. */
export function record (socket: ClientSocket): PresenceSeen[] {
  const seen: PresenceSeen[] = []
  socket.on('presence', (payload: PresenceSeen) => { seen.push(payload) })
  return seen
}

/** presence_query for one user, through a socket. */
export async function queried (socket: ClientSocket, userId: string): Promise<{ online: boolean, lastSeenAt: string | null }> {
  const ack = await emitAck<Record<string, { online: boolean, lastSeenAt: string | null }>>(socket, 'presence_query', { userIds: [userId] })
  if (!ack.ok) throw new Error(ack.error.message)
  return ack.data[userId]
}

/** Polls until the condition holds (no timing assertion: a loaded machine only makes it slower); default 15 s. */
export async function until (condition: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  await waitFor(condition, timeoutMs, what)
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
