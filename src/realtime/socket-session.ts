/**
 * Keeps a live socket's authentication in step with its access token. The handshake token's expiry becomes the
 * socket's deadline; the client may send `auth_refresh { token }` with a fresh access token (same user) before
 * then, which moves the deadline and rebinds the socket to the token's session (so revoking that session is what
 * disconnects it). A socket whose deadline passes gets `session_expired` and is disconnected by the server, so
 * socket.io-client does not reconnect on its own: the client reconnects with a new token, when it wants to.
 */
import type { FastifyInstance } from 'fastify'
import { forbidden, unauthorized } from '../shared/errors.js'
import type { SocketContext, SocketHandler } from './contracts.js'
import type { AuthRefreshResult, ConnectRefusalCode } from './events.js'
import { authenticateToken, isRefusal, normalizeToken, type SocketAuth } from './socket-auth.js'

/**
 * How long a socket outlives its token's expiry: 5 s. Covers clock skew between instances and a refresh that is
 * in flight when the token runs out, so a client that refreshes on time is never cut off.
 */
export const TOKEN_EXPIRY_GRACE_MS = 5_000

/** setTimeout's largest delay (2^31-1 ms, about 24.8 days); a longer wait is re-armed in steps. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1

/** Calls `onExpired` once its deadline has passed. One pending timer at a time, unref'd (never keeps a process alive). */
export class ExpiryTimer {
  private timer: NodeJS.Timeout | null = null

  constructor (private readonly onExpired: () => void) {}

  /** (Re)arms for `deadlineMs` (epoch ms), replacing any pending timer. */
  arm (deadlineMs: number): void {
    this.clear()
    const delay = Math.min(Math.max(deadlineMs - Date.now(), 0), MAX_TIMER_DELAY_MS)
    this.timer = setTimeout(() => {
      this.timer = null
      // A capped wait ends before the deadline: wait again for the rest.
      if (Date.now() < deadlineMs) this.arm(deadlineMs)
      else this.onExpired()
    }, delay)
    this.timer.unref()
  }

  clear (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  get armed (): boolean { return this.timer !== null }
}

/** The deadline (epoch ms) of a token that expires at `expiresAt`. */
export function deadlineOf (expiresAt: Date | string): number {
  return new Date(expiresAt).getTime() + TOKEN_EXPIRY_GRACE_MS
}

const REFUSALS: Record<ConnectRefusalCode, string> = {
  UNAUTHORIZED: 'An access token is required',
  INVALID_TOKEN: 'The access token is invalid',
  TOKEN_EXPIRED: 'The access token has expired',
  TOKEN_REVOKED: 'The session was revoked',
  ACCOUNT_UNAVAILABLE: 'The account is disabled or deleted'
}

/**
 * Moves the sending socket to a verified token (session, role, deadline); throws an AppError when the socket can
 * no longer take it (closed meanwhile, or the new session revoked meanwhile). Implemented by the gateway.
 */
export type SocketRebinder = (context: SocketContext, auth: SocketAuth) => AuthRefreshResult

/** The `auth_refresh` client event. Any refused token answers UNAUTHORIZED (the message says why) and changes nothing. */
export function authRefreshHandler (app: FastifyInstance, rebind: SocketRebinder): SocketHandler<'auth_refresh'> {
  return async (context, payload) => {
    let auth: SocketAuth
    try {
      auth = await authenticateToken(app, normalizeToken(payload.token))
    } catch (error) {
      if (isRefusal(error)) throw unauthorized(REFUSALS[error.data.code] ?? REFUSALS.INVALID_TOKEN)
      throw error
    }
    if (auth.userId !== context.userId) throw forbidden('The token belongs to another user', 'USER_MISMATCH')
    return rebind(context, auth)
  }
}
