/**
 * Access tokens (short-lived HS256 JWTs from @fastify/jwt carrying `sub`, `sid`, `jti`, `role`) and refresh tokens
 * (opaque `<sid>.<256 random bits>`, stored only as a sha256 hash: a fast hash is right for high-entropy secrets).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { JWT } from '@fastify/jwt'
import { unauthorized } from '../../shared/errors.js'
import type { UserRole } from '../../storage/models/user.model.js'
import type { RevocationService } from './revocation.service.js'

/** Who is calling, as `request.auth` and the socket gateway see it. */
export interface AuthContext {
  userId: string
  sid: string
  role: UserRole
  /** When the access token expires. */
  expiresAt: Date
}

export interface AccessClaims {
  sub: string
  sid: string
  jti: string
  role: UserRole
  iat: number
  exp: number
}

export interface TokenServiceOptions {
  jwt: JWT
  revocation: RevocationService
  accessTokenTtlSeconds: number
}

const OBJECT_ID = /^[0-9a-f]{24}$/
const REFRESH_TOKEN = /^([0-9a-f]{24})\.([A-Za-z0-9_-]{43})$/
const ROLES = new Set<string>(['user', 'admin'])

export class TokenService {
  readonly accessTokenTtlSeconds: number
  private readonly jwt: JWT
  private readonly revocation: RevocationService

  constructor (options: TokenServiceOptions) {
    this.jwt = options.jwt
    this.revocation = options.revocation
    this.accessTokenTtlSeconds = options.accessTokenTtlSeconds
  }

  signAccess (subject: { userId: string, sid: string, role: UserRole }): string {
    return this.jwt.sign({ sub: subject.userId, sid: subject.sid, jti: randomUUID(), role: subject.role })
  }

  /**
   * Verifies signature (HS256 only), expiry and claims, then the revocation list: the whole per-request check,
   * with no database round trip. Throws 401 AppErrors: TOKEN_EXPIRED, INVALID_TOKEN, TOKEN_REVOKED.
   */
  verifyAccess (token: string): AuthContext {
    const context = this.verifySignature(token)
    if (this.revocation.isRevoked(context.sid)) throw unauthorized('The session was revoked', 'TOKEN_REVOKED')
    return context
  }

  /** Signature, expiry and claim checks only (no revocation list). */
  verifySignature (token: string): AuthContext {
    let claims: Partial<AccessClaims>
    try {
      claims = this.jwt.verify<Partial<AccessClaims>>(token)
    } catch (error) {
      if ((error as { code?: string }).code === 'FAST_JWT_EXPIRED') throw unauthorized('The access token has expired', 'TOKEN_EXPIRED')
      throw unauthorized('The access token is invalid', 'INVALID_TOKEN')
    }
    // Only tokens this service minted have these; anything else signed with the secret is still refused.
    if (typeof claims.sub !== 'string' || !OBJECT_ID.test(claims.sub) || typeof claims.sid !== 'string' ||
      !OBJECT_ID.test(claims.sid) || typeof claims.jti !== 'string' || typeof claims.exp !== 'number' ||
      typeof claims.role !== 'string' || !ROLES.has(claims.role)) {
      throw unauthorized('The access token is invalid', 'INVALID_TOKEN')
    }
    return { userId: claims.sub, sid: claims.sid, role: claims.role as UserRole, expiresAt: new Date(claims.exp * 1000) }
  }

  /** A new refresh token for a session, and the hash to store. */
  newRefreshToken (sid: string): { token: string, hash: string } {
    const token = `${sid}.${randomBytes(32).toString('base64url')}`
    return { token, hash: hashRefreshToken(token) }
  }

  /** The session id and hash of a well-formed refresh token; null for anything else. */
  parseRefreshToken (token: string): { sid: string, hash: string } | null {
    const match = REFRESH_TOKEN.exec(token)
    return match === null ? null : { sid: match[1], hash: hashRefreshToken(token) }
  }
}

export function hashRefreshToken (token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}
