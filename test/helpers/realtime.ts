/**
 * Realtime test kit: a listening app (port 0, cheap argon2) and real socket.io-client sockets, all closed in the
 * test's teardown. `emitAck` and `nextEvent` turn the callback API into promises.
 */
import type { FastifyInstance } from 'fastify'
import { io as connectClient, type Socket as ClientSocket, type ManagerOptions, type SocketOptions } from 'socket.io-client'
import type { Ack, ClientToServerEvents, ServerToClientEvents } from '../../src/realtime/events.js'
import { buildTestApp, type TeardownHost } from './build-app.js'

export type { ClientSocket }
export type ParleyClient = ClientSocket<ServerToClientEvents, ClientToServerEvents>

/** argon2 parameters that make registering and logging in cheap (tests need speed, not hash strength). */
export const FAST_ARGON2 = { ARGON2_MEMORY_KIB: '64', ARGON2_TIME_COST: '1', ARGON2_PARALLELISM: '1' }

export interface RegisteredUser {
  user: { id: string, username: string, email: string, [key: string]: unknown }
  password: string
  accessToken: string
  refreshToken: string
}

export type ConnectOptions = Partial<ManagerOptions & SocketOptions> & {
  /** Put the token in `?token=` instead of `auth.token`. Default false. */
  tokenInQuery?: boolean
}

export interface RealtimeKit {
  app: FastifyInstance
  /** `http://127.0.0.1:<port>` */
  url: string
  /** Registers and logs in a fresh user (a new session each call). */
  registerUser: (name?: string) => Promise<RegisteredUser>
  /** Logs in again as an existing user: a second session (another device). */
  login: (login: string, password: string) => Promise<{ accessToken: string, refreshToken: string }>
  /**
   * A connected socket (rejects with the connect_error); disconnected in teardown. Untyped so tests can send
   * anything (garbage included); cast to ParleyClient for the typed maps.
   */
  connect: (accessToken: string | null, options?: ConnectOptions) => Promise<ClientSocket>
  /** Emits with an ack callback and resolves with the ack (rejects after timeoutMs, default 5000). */
  emitAck: <T = unknown>(socket: ClientSocket, event: string, ...payload: unknown[]) => Promise<Ack<T>>
  /** The next payload of `event` on the socket (rejects after timeoutMs, default 5000). */
  nextEvent: <T = any>(socket: ClientSocket, event: string, timeoutMs?: number) => Promise<T>
}

let counter = 0

export async function startRealtimeApp (t: TeardownHost, environment: NodeJS.ProcessEnv = {}): Promise<RealtimeKit> {
  const sockets = new Set<ClientSocket>()
  // Whichever teardown runs first, closing is safe: the app's preClose disconnects sockets, and a client
  // disconnect after that is a no-op.
  t.teardown(() => { for (const socket of sockets) socket.disconnect() })
  const app = await buildTestApp(t, { ...FAST_ARGON2, ...environment })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  const url = `http://127.0.0.1:${address.port}`

  const login = async (loginName: string, password: string): Promise<{ accessToken: string, refreshToken: string }> => {
    const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: loginName, password } })
    if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
    const body = res.json()
    return { accessToken: body.accessToken, refreshToken: body.refreshToken }
  }

  const registerUser = async (name?: string): Promise<RegisteredUser> => {
    const n = ++counter
    const username = `${name ?? 'user'}${n}_${process.pid}`.slice(0, 32)
    const password = 'correct horse battery'
    const res = await app.inject({
      method: 'POST', url: '/api/auth/register', payload: { username, email: `${username}@example.com`, password }
    })
    if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`)
    return { user: res.json().user, password, ...await login(username, password) }
  }

  const connect = async (accessToken: string | null, options: ConnectOptions = {}): Promise<ClientSocket> => {
    const { tokenInQuery = false, ...rest } = options
    const socket: ClientSocket = connectClient(url, {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      ...(accessToken === null ? {} : tokenInQuery ? { query: { token: accessToken } } : { auth: { token: accessToken } }),
      ...rest
    })
    sockets.add(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => { socket.off('connect_error'); resolve() })
      socket.once('connect_error', error => { socket.off('connect'); socket.disconnect(); reject(error) })
      // A transport that dies before the handshake ends (never the case when healthy) must not hang the test.
      socket.once('disconnect', reason => { reject(new Error(`disconnected before connecting: ${reason}`)) })
    })
    return socket
  }

  return { app, url, registerUser, login, connect, emitAck, nextEvent }
}

/** An emit whose ack comes back as a promise (rejects after 5 s without one). */
export async function emitAck<T = any> (socket: ClientSocket, event: string, ...payload: unknown[]): Promise<Ack<T>> {
  return await socket.timeout(5000).emitWithAck(event, ...payload) as Ack<T>
}

/** The next payload of `event` on the socket; rejects after timeoutMs (default 5000). */
export async function nextEvent<T = any> (socket: ClientSocket, event: string, timeoutMs = 5000): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, onEvent)
      reject(new Error(`no ${event} within ${timeoutMs} ms`))
    }, timeoutMs)
    const onEvent = (payload: T): void => { clearTimeout(timer); resolve(payload) }
    socket.once(event, onEvent)
  })
}
