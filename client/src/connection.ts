/**
 * The live socket and its lifecycle: `auth.token` is read from the session at every (re)connect; a new access
 * token goes to the live socket as `auth_refresh`; refusals and server-side disconnects are told apart:
 * an expired token is refreshed and the socket reconnected, a revoked session or `session_expired` ends the
 * session (and reconnecting stops), an unavailable server is retried with a backoff.
 */
import { io as defaultIo, type ManagerOptions, type SocketOptions } from 'socket.io-client'
import type { Session } from './session.js'
import type { ParleySocket } from './types.js'

export type IoFactory = (url: string, options: Partial<ManagerOptions & SocketOptions>) => ParleySocket

export interface ConnectionHooks {
  /** Every (re)connect: resync and resend. */
  connected: () => void
  disconnected: (reason: string) => void
}

/** Refusals that no new token fixes: the session is over. */
const FINAL_REFUSALS = new Set(['UNAUTHORIZED', 'INVALID_TOKEN', 'TOKEN_REVOKED', 'ACCOUNT_UNAVAILABLE'])

export class Connection {
  readonly socket: ParleySocket
  private expired = false
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private retryMs = 500
  private stopped = false

  constructor (url: string, private readonly session: Session, private readonly hooks: ConnectionHooks,
    io: IoFactory = defaultIo as unknown as IoFactory, socketOptions: Partial<ManagerOptions & SocketOptions> = {}) {
    this.socket = io(url, {
      autoConnect: false,
      ...socketOptions,
      auth: (callback: (data: object) => void) => { callback({ token: session.accessToken ?? '' }) }
    })
    this.socket.on('connect', () => {
      this.retryMs = 500
      this.hooks.connected()
    })
    this.socket.on('disconnect', reason => { this.onDisconnect(reason) })
    this.socket.on('connect_error', error => { this.onConnectError(error as Error & { data?: { code?: string } }) })
    this.socket.on('session_expired', () => { this.expired = true })
    session.on('token', token => { this.sendToken(token) })
  }

  get connected (): boolean { return this.socket.connected }

  open (): void {
    this.stopped = false
    this.socket.connect()
  }

  close (): void {
    this.stopped = true
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.socket.disconnect()
  }

  private sendToken (token: string): void {
    if (!this.socket.connected) return
    // A refused token leaves the socket on its old one; it then ends with session_expired, which ends the session.
    this.socket.timeout(10_000).emit('auth_refresh', { token }, () => {})
  }

  private onDisconnect (reason: string): void {
    this.hooks.disconnected(reason)
    if (this.stopped || reason !== 'io server disconnect') return
    // socket.io-client does not come back by itself after a server-side disconnect.
    if (this.expired) {
      this.session.end({ reason: 'token_expired', message: 'The socket\'s access token expired before it was refreshed' })
      return
    }
    // A revoked session is disconnected by the server: the refresh then answers 401, which ends the session.
    void this.session.refresh().then(ok => {
      if (ok) this.reopen()
      else if (this.session.endedWith === null) this.retryLater()
    })
  }

  private onConnectError (error: Error & { data?: { code?: string } }): void {
    if (this.stopped || this.socket.active) return // a transport error: socket.io-client retries by itself
    const code = error.data?.code ?? 'UNAUTHORIZED'
    if (code === 'TOKEN_EXPIRED') {
      void this.session.refresh().then(ok => {
        if (ok) this.reopen()
        else if (this.session.endedWith === null) this.retryLater()
      })
    } else if (error.message === 'unauthorized' && FINAL_REFUSALS.has(code)) {
      this.session.end({ reason: code, message: `The server refused the socket: ${code}` })
    } else {
      this.retryLater()
    }
  }

  private reopen (): void {
    if (!this.stopped && this.session.endedWith === null) this.socket.connect()
  }

  private retryLater (): void {
    if (this.stopped || this.retryTimer !== null) return
    const wait = this.retryMs * (0.5 + Math.random())
    this.retryMs = Math.min(this.retryMs * 2, 30_000)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.reopen()
    }, wait)
  }
}
