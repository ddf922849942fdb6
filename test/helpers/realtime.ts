/**
 * Realtime test kit: real socket.io-client sockets typed by the maps a client app imports (`parley/events`), all
 * disconnected in the test's teardown, and promise forms of the callback API (emitAck, nextEvent, ...).
 * `startRealtimeApp` adds a listening app (port 0, cheap argon2) to connect them to.
 */
import type { FastifyInstance } from 'fastify'
import { io as connectClient, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client'
import type { Ack, ClientToServerEvents, ServerToClientEvents } from 'parley/events'
import { buildAuthApp, listen, type TeardownHost } from './build-app.js'

/** A client socket as a client app has it: emits and listeners checked against the event maps. */
export type ParleyClient = Socket<ServerToClientEvents, ClientToServerEvents>

declare const outsideTheMaps: unique symbol
/** The same socket outside the typed maps (see `untyped`). */
export type UntypedSocket = Socket & { readonly [outsideTheMaps]: true }

/**
 * The socket, untyped: for a test that sends malformed payloads or unknown events on purpose, or listens to events
 * the maps do not name. Say why where you use it.
 */
export const untyped = (socket: ParleyClient): UntypedSocket => socket as unknown as UntypedSocket

type ClientEvent = keyof ClientToServerEvents
type ServerEvent = keyof ServerToClientEvents
export type PayloadOf<E extends ClientEvent> = Parameters<ClientToServerEvents[E]>[0]
export type AckOf<E extends ClientEvent> = Parameters<Parameters<ClientToServerEvents[E]>[1]>[0]
export type DataOf<E extends ClientEvent> = Extract<AckOf<E>, { ok: true }>['data']
export type EventOf<E extends ServerEvent> = Parameters<ServerToClientEvents[E]>[0]

export type ConnectOptions = Partial<ManagerOptions & SocketOptions> & {
  /** Put the token in `?token=` instead of `auth.token`. Default false. */
  tokenInQuery?: boolean
}

/** Connects a socket to `url` with the token (null: none); rejects with the connect_error. */
export type Connect = (url: string, accessToken: string | null, options?: ConnectOptions) => Promise<ParleyClient>

/** A `Connect` whose sockets are all disconnected in the test's teardown. */
export function socketConnector (t: TeardownHost): Connect {
  const sockets = new Set<ParleyClient>()
  // Safe in either order with closing the servers: a client disconnect after the server closed is a no-op.
  t.teardown(() => { for (const socket of sockets) socket.disconnect() })
  return async (url, accessToken, options = {}) => {
    const { tokenInQuery = false, ...rest } = options
    const socket: ParleyClient = connectClient(url, {
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
}

export interface RealtimeKit {
  app: FastifyInstance
  /** `http://127.0.0.1:<port>` */
  url: string
  /** A connected socket on the app (rejects with the connect_error); disconnected in teardown. */
  connect: (accessToken: string | null, options?: ConnectOptions) => Promise<ParleyClient>
}

export async function startRealtimeApp (t: TeardownHost, environment: NodeJS.ProcessEnv = {}): Promise<RealtimeKit> {
  const connect = socketConnector(t)
  const app = await buildAuthApp(t, environment)
  const url = await listen(app)
  return { app, url, connect: async (accessToken, options) => await connect(url, accessToken, options) }
}

/** An emit whose ack comes back as a promise (rejects after timeoutMs, default 5000, without one). */
export async function emitAck<E extends ClientEvent> (socket: ParleyClient, event: E, payload: PayloadOf<E>, timeoutMs = 5000): Promise<AckOf<E>> {
  return await withAck(untyped(socket), timeoutMs, event, [payload]) as AckOf<E>
}

/** emitAck outside the typed maps: any event name, any payloads (none, several, garbage). */
export async function emitRaw (socket: UntypedSocket, event: string, ...payload: unknown[]): Promise<Ack<any>> {
  return await withAck(socket, 5000, event, payload)
}

async function withAck (socket: UntypedSocket, timeoutMs: number, event: string, payload: unknown[]): Promise<Ack<any>> {
  return await socket.timeout(timeoutMs).emitWithAck(event, ...payload) as Ack<any>
}

/** The ack's data; rejects with the ack's code and message when it is an error. */
export async function emitOk<E extends ClientEvent> (socket: ParleyClient, event: E, payload: PayloadOf<E>, timeoutMs = 5000): Promise<DataOf<E>> {
  const ack = await emitAck(socket, event, payload, timeoutMs) as Ack<DataOf<E>>
  if (!ack.ok) throw new Error(`${event} failed: ${ack.error.code} ${ack.error.message}`)
  return ack.data
}

/** The next payload of `event` on the socket; rejects after timeoutMs (default 5000). */
export async function nextEvent<E extends ServerEvent> (socket: ParleyClient, event: E, timeoutMs?: number): Promise<EventOf<E>>
export async function nextEvent<T = any> (socket: UntypedSocket, event: string, timeoutMs?: number): Promise<T>
export async function nextEvent (socket: ParleyClient | UntypedSocket, event: string, timeoutMs = 5000): Promise<unknown> {
  const raw = socket as Socket
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      raw.off(event, onEvent)
      reject(new Error(`no ${event} within ${timeoutMs} ms`))
    }, timeoutMs)
    const onEvent = (payload: unknown): void => { clearTimeout(timer); resolve(payload) }
    raw.once(event, onEvent)
  })
}

/** Whether `event` arrives on the socket within `ms`. */
export async function arrives (socket: ParleyClient, event: ServerEvent, ms: number): Promise<boolean> {
  return await nextEvent(socket, event, ms).then(() => true, () => false)
}

/** Every payload of `event` the socket receives from now on, in order. */
export function collect<E extends ServerEvent> (socket: ParleyClient, event: E): Array<EventOf<E>>
export function collect<T = unknown> (socket: UntypedSocket, event: string): T[]
export function collect (socket: ParleyClient | UntypedSocket, event: string): unknown[] {
  const seen: unknown[] = []
  ;(socket as Socket).on(event, (payload: unknown) => { seen.push(payload) })
  return seen
}

/** Resolves with the reason of the socket's next disconnect; rejects after timeoutMs (default 20 000). */
export async function disconnected (socket: ParleyClient, timeoutMs = 20_000): Promise<string> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`no disconnect within ${timeoutMs} ms`)) }, timeoutMs)
    socket.once('disconnect', reason => { clearTimeout(timer); resolve(reason) })
  })
}
