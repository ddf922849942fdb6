/**
 * The handshake check: an access token from `auth.token` (what `io(url, { auth: { token } })` sends) or the
 * `?token=` query, optionally prefixed `Bearer `/`JWT ` like the REST header. Verified exactly like a REST call
 * (signature, expiry, claims, revocation list), then the account must still be live and enabled. Every refusal is
 * a `connect_error` whose message is "unauthorized"; `data.code` says why, for clients that care.
 */
import type { Socket } from 'socket.io'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../errors/app-error.js'
import type { ConnectErrorData, SocketData } from './events.js'

export const UNAUTHORIZED = 'unauthorized'

// Same schemes as the REST header; a bare token is accepted too (the common socket client habit).
const PREFIX = /^(?:bearer|jwt)[ \t]+/i

/** The token a handshake carries, or null. */
export function handshakeToken (handshake: Socket['handshake']): string | null {
  const fromAuth = (handshake.auth as Record<string, unknown> | undefined)?.token
  const fromQuery = handshake.query.token
  const raw = typeof fromAuth === 'string' && fromAuth !== '' ? fromAuth : typeof fromQuery === 'string' ? fromQuery : null
  if (raw === null) return null
  const token = raw.trim().replace(PREFIX, '')
  return token === '' ? null : token
}

function refusal (code: ConnectErrorData['code']): Error & { data: ConnectErrorData } {
  return Object.assign(new Error(UNAUTHORIZED), { data: { code } })
}

/**
 * Authenticates a handshake: the socket's data (without conversationIds), or throws the refusal error.
 * Only the account lookup touches the database (the token check is in memory).
 */
export async function authenticateHandshake (app: FastifyInstance, handshake: Socket['handshake']): Promise<Omit<SocketData, 'conversationIds'>> {
  const token = handshakeToken(handshake)
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
    lastSeenAt: user.lastSeenAt instanceof Date ? user.lastSeenAt.toISOString() : null
  }
}
