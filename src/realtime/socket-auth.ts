/**
 * The socket token check, shared by the handshake and `auth_refresh`: an access token from `auth.token` (what
 * `io(url, { auth: { token } })` sends) or the `?token=` query, optionally prefixed `Bearer `/`JWT ` like the REST
 * header. Verified exactly like a REST call (signature, expiry, claims, revocation list), then the account must
 * still be live and enabled. Every handshake refusal is a `connect_error` whose message is "unauthorized";
 * `data.code` says why, for clients that care.
 */
import type { Socket } from 'socket.io'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../shared/errors.js'
import type { ConnectRefusalData, SocketData } from './events.js'

export const UNAUTHORIZED = 'unauthorized'

// Same schemes as the REST header; a bare token is accepted too (the common socket client habit).
const PREFIX = /^(?:bearer|jwt)[ \t]+/i

/** A raw token without its optional scheme prefix, or null when nothing is left. */
export function normalizeToken (raw: string): string | null {
  const token = raw.trim().replace(PREFIX, '')
  return token === '' ? null : token
}

/** The token a handshake carries, or null. */
export function handshakeToken (handshake: Socket['handshake']): string | null {
  const fromAuth = (handshake.auth as Record<string, unknown> | undefined)?.token
  const fromQuery = handshake.query.token
  const raw = typeof fromAuth === 'string' && fromAuth !== '' ? fromAuth : typeof fromQuery === 'string' ? fromQuery : null
  return raw === null ? null : normalizeToken(raw)
}

/** The handshake's `auth` once its token is checked: the other fields the client sent, or this shared empty object. */
const NO_AUTH: Record<string, unknown> = Object.freeze({})

/**
 * Drops the bearer token from `handshake.auth` (Socket.IO keeps the handshake for the socket's life: a few hundred
 * bytes per socket, and a credential in every heap dump). A token sent as `?token=` stays in the query and URL,
 * which belong to the HTTP request Socket.IO keeps anyway.
 */
export function forgetHandshakeToken (handshake: Socket['handshake']): void {
  const auth = handshake.auth as Record<string, unknown> | undefined
  if (auth === undefined || !('token' in auth)) return
  const rest = Object.entries(auth).filter(([key]) => key !== 'token')
  handshake.auth = rest.length === 0 ? NO_AUTH : Object.fromEntries(rest)
}

export type SocketRefusal = Error & { data: ConnectRefusalData }

function refusal (code: ConnectRefusalData['code']): SocketRefusal {
  return Object.assign(new Error(UNAUTHORIZED), { data: { code } })
}

/** A refusal from `authenticateToken` (anything else it throws is an infrastructure failure). */
export function isRefusal (error: unknown): error is SocketRefusal {
  return error instanceof Error && error.message === UNAUTHORIZED && (error as { data?: unknown }).data !== undefined
}

/** What a verified token gives a socket: its data and when the token expires. */
export type SocketAuth = Omit<SocketData, 'tokenExpiresAt'> & { expiresAt: Date }

/**
 * Verifies an access token for a socket, or throws a refusal error (message "unauthorized", `data.code`).
 * Only the account lookup touches the database (the token check is in memory).
 */
export async function authenticateToken (app: FastifyInstance, token: string | null): Promise<SocketAuth> {
  if (token === null) throw refusal('UNAUTHORIZED')
  let context
  try {
    context = app.tokens.verifyAccess(token)
  } catch (error) {
    const code = error instanceof AppError ? error.code : 'INVALID_TOKEN'
    throw refusal(code === 'TOKEN_EXPIRED' || code === 'TOKEN_REVOKED' ? code : 'INVALID_TOKEN')
  }
  const user = await app.models.User.findById(context.userId, { disabled: 1, deletedAt: 1, lastSeenAt: 1 }).lean()
  if (user === null || user.disabled || user.deletedAt != null) throw refusal('ACCOUNT_UNAVAILABLE')
  return {
    userId: context.userId,
    sid: context.sid,
    role: context.role,
    lastSeenAt: user.lastSeenAt instanceof Date ? user.lastSeenAt.toISOString() : null,
    expiresAt: context.expiresAt
  }
}

/** Authenticates a handshake: see `authenticateToken`. */
export async function authenticateHandshake (app: FastifyInstance, handshake: Socket['handshake']): Promise<SocketAuth> {
  return await authenticateToken(app, handshakeToken(handshake))
}
