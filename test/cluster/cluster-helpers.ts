/**
 * Several Parley instances in one process, as a cluster: one spawned Redis, one database (the first instance's
 * embedded engine, or MONGODB_URL), each instance listening on its own port. Real socket.io-client sockets.
 * Everything is closed in the test's teardown: sockets, then the instances, then Redis.
 */
import type { FastifyInstance } from 'fastify'
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client'
import { buildApp, type BuildOptions } from '../../src/app.js'
import { testConfig, type TeardownHost } from '../helpers/build-app.js'
import { FAST_ARGON2, emitAck, nextEvent } from '../helpers/realtime.js'
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js'

export type { ClientSocket }
export { emitAck, nextEvent }

export interface Instance {
  app: FastifyInstance
  /** `http://127.0.0.1:<port>` */
  url: string
}

export interface ClusterUser {
  id: string
  username: string
  password: string
  accessToken: string
  refreshToken: string
}

export interface TestCluster {
  redis: TestRedis
  instances: Instance[]
  /** Registers and logs in a fresh user through `via` (default: the first instance). */
  registerUser: (name?: string, via?: Instance) => Promise<ClusterUser>
  /** Another session of the user (another device), logged in through `via`. */
  login: (user: ClusterUser, via: Instance) => Promise<{ accessToken: string, refreshToken: string }>
  /** A connected socket on `instance` (rejects with the connect_error). */
  connect: (instance: Instance, accessToken: string) => Promise<ClientSocket>
  /** A REST call with the user's token. */
  api: (instance: Instance, accessToken: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => Promise<Awaited<ReturnType<FastifyInstance['inject']>>>
}

export interface ClusterOptions {
  /** Default 2. */
  instances?: number
  /** Environment overrides for every instance. */
  env?: NodeJS.ProcessEnv
  /** buildApp options for every instance. Default: revocation polling off, fast Redis reconnects. */
  build?: BuildOptions
}

let counter = 0

export async function startCluster (t: TeardownHost, options: ClusterOptions = {}): Promise<TestCluster> {
  const redis = await startTestRedis(t)
  const sockets = new Set<ClientSocket>()
  const instances: Instance[] = []
  // Tap runs teardowns last-added first: this one (sockets, instances) before Redis stops.
  t.teardown(async () => {
    for (const socket of sockets) socket.disconnect()
    for (const instance of [...instances].reverse()) await instance.app.close()
  })
  const env = { ...FAST_ARGON2, LOG_LEVEL: 'silent', ...options.env, REDIS_URL: redis.url }
  const build: BuildOptions = { revocationPollMs: 0, cluster: { maxRetryDelayMs: 200 }, ...options.build }
  const firstConfig = testConfig(env)
  let sharedUrl = firstConfig.mongodbUrl
  for (let i = 0; i < (options.instances ?? 2); i++) {
    const config = i === 0 ? firstConfig : testConfig({ ...env, MONGODB_URL: sharedUrl as string })
    const app = await buildApp(config, build)
    instances.push({ app, url: '' })
    await app.ready()
    if (sharedUrl === null) {
      const embedded = app.storage.embedded
      if (embedded === null) throw new Error('expected the embedded engine')
      const url = new URL(embedded.url)
      url.pathname = `/${app.storage.connection.name}`
      sharedUrl = url.toString()
    }
    await app.listen({ port: 0, host: '127.0.0.1' })
    const address = app.server.address()
    if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
    instances[i].url = `http://127.0.0.1:${address.port}`
  }

  const api: TestCluster['api'] = async (instance, accessToken, method, url, payload) =>
    await instance.app.inject({ method, url, headers: { authorization: `Bearer ${accessToken}` }, ...(payload !== undefined ? { payload } : {}) })

  const login: TestCluster['login'] = async (user, via) => {
    const res = await via.app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: user.username, password: user.password } })
    if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
    const body = res.json()
    return { accessToken: body.accessToken, refreshToken: body.refreshToken }
  }

  const registerUser: TestCluster['registerUser'] = async (name = 'user', via = instances[0]) => {
    const username = `${name}${++counter}_${process.pid}`.slice(0, 32)
    const password = 'correct horse battery'
    const res = await via.app.inject({
      method: 'POST', url: '/api/auth/register', payload: { username, email: `${username}@example.com`, password }
    })
    if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`)
    const user = { id: res.json().user.id as string, username, password, accessToken: '', refreshToken: '' }
    return Object.assign(user, await login(user, via))
  }

  const connect: TestCluster['connect'] = async (instance, accessToken) => {
    const socket = connectClient(instance.url, {
      path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: accessToken }
    })
    sockets.add(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => { socket.off('connect_error'); resolve() })
      socket.once('connect_error', error => { socket.off('connect'); socket.disconnect(); reject(error) })
    })
    return socket
  }

  return { redis, instances, registerUser, login, connect, api }
}

export async function arrives (socket: ClientSocket, event: string, ms: number): Promise<boolean> {
  return await nextEvent(socket, event, ms).then(() => true, () => false)
}

/** Polls `check` until it is true; rejects after timeoutMs. */
export async function waitFor (check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

export async function openDirect (cluster: TestCluster, instance: Instance, user: ClusterUser, otherId: string): Promise<string> {
  const res = await cluster.api(instance, user.accessToken, 'POST', '/api/conversations', { type: 'direct', userId: otherId })
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`open failed: ${res.statusCode} ${res.body}`)
  return res.json().id
}
