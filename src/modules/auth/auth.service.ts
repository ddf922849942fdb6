/**
 * Registration, login, refresh-token rotation with theft detection, token verification and logout.
 * Sessions live in MongoDB; access tokens are checked per request against the in-memory revocation list (and,
 * by the auth guard, the account's state).
 */
import { Types } from 'mongoose'
import { badRequest, forbidden, unauthorized } from '../../shared/errors.js'
import type { SessionModel } from '../../storage/models/session.model.js'
import type { UserDoc } from '../../storage/models/user.model.js'
import type { UsersService, NewUser } from '../users/users.service.js'
import { accountKey, normalizeKey } from '../users/users.service.js'
import { toOwnUser } from '../users/users.view.js'
import type { OwnUser } from '../users/users.schemas.js'
import type { PasswordService } from './password.service.js'
import type { RevocationService } from './revocation.service.js'
import type { AuthContext, TokenService } from './token.service.js'
import type { LoginLimiter } from './login-limiter.js'

export interface AuthServiceOptions {
  Session: SessionModel
  users: UsersService
  passwords: PasswordService
  tokens: TokenService
  revocation: RevocationService
  limiter: LoginLimiter
  accessTokenTtlSeconds: number
  refreshTokenTtlSeconds: number
  /** Absolute session lifetime: no refresh once the login is this old. Default: no limit. */
  sessionMaxAgeSeconds?: number
  /** Used refresh-token hashes kept per session for reuse detection. Default 1000 (older reuse: a plain 401). */
  maxUsedRefreshHashes?: number
}

export interface TokenPair {
  accessToken: string
  refreshToken: string
  tokenType: 'Bearer'
  /** Seconds until the access token expires. */
  expiresIn: number
  user: OwnUser
}

/** Where a request came from, kept on the session for the user's own review. */
export interface ClientInfo { ip: string, userAgent?: string }

export interface LoginInput { login?: string, username?: string, email?: string, password: string }

// The documents of a session stay until its last access token has expired, plus clock-skew slack.
const PURGE_SLACK_MS = 60_000
const WRONG_CREDENTIALS = 'Wrong username/email or password'

export class AuthService {
  private readonly options: AuthServiceOptions
  private readonly maxUsed: number

  constructor (options: AuthServiceOptions) {
    this.options = options
    this.maxUsed = options.maxUsedRefreshHashes ?? 1000
  }

  /** Counted against the client's IP first (429): each registration costs an argon2 hash. */
  async register (input: NewUser, client: ClientInfo): Promise<OwnUser> {
    await this.options.limiter.registration(client.ip)
    const user = await this.options.users.create({ ...input, role: 'user' })
    return toOwnUser(user, this.options.users.isOnline)
  }

  /**
   * Same 401 and about the same time whether the account is unknown or the password wrong: an unknown account is
   * verified against a dummy hash. Rate limited per IP, per account+IP and per account (login-limiter.ts), each
   * attempt counted before the password is verified.
   */
  async login (input: LoginInput, client: ClientInfo): Promise<TokenPair> {
    const { users, passwords, limiter } = this.options
    const login = input.login ?? input.username ?? input.email
    if (login === undefined) {
      throw badRequest('VALIDATION_ERROR', 'login (a username or an email) is required',
        [{ field: 'body.login', message: 'must have required property \'login\'' }])
    }
    const user = await users.findByLogin(login)
    const key = user !== null ? accountKey(String(user._id)) : `l:${normalizeKey(login)}`
    const check = await limiter.login(client.ip, key)
    let ok: boolean
    try {
      ok = user?.passwordHash !== undefined
        ? await passwords.verify(user.passwordHash, input.password)
        : await passwords.verifyDummy(input.password)
    } catch (error) {
      // Refused by the hashing queue (429, password.service.ts): nothing was checked, so nothing is counted.
      await check.notChecked()
      throw error
    }
    if (!ok || user?.passwordHash === undefined) throw unauthorized(WRONG_CREDENTIALS, 'INVALID_CREDENTIALS')
    if (user.disabled) throw forbidden('This account is disabled', 'ACCOUNT_DISABLED')
    await check.succeeded()
    let verifiedHash = user.passwordHash
    if (passwords.needsRehash(verifiedHash)) {
      const rehash = await passwords.hash(input.password)
      // Only over the hash just verified: a password changed meanwhile must not be overwritten with the old one.
      if (await users.setPasswordHash(String(user._id), rehash, verifiedHash)) verifiedHash = rehash
    }
    const { sid, pair } = await this.openSession(user, client)
    await this.recheck(String(user._id), sid, verifiedHash)
    return pair
  }

  /**
   * A password change or deletion that ran between the password check and the new session would have revoked
   * the user's sessions before this one existed, so it would survive both. Read the account again now that the
   * session exists: if the password or the account changed, the session is revoked here (the change itself
   * revokes every session that existed before it, so one of the two always catches it).
   */
  private async recheck (userId: string, sid: string, verifiedHash: string): Promise<void> {
    const now = await this.options.users.getById(userId).catch(() => null)
    if (now !== null && now.deletedAt == null && !now.disabled && now.passwordHash === verifiedHash) return
    const reason = now === null || now.deletedAt != null ? 'account-deleted' : now.disabled ? 'disabled' : 'password-change'
    await this.options.revocation.revoke(sid, reason)
    if (reason === 'disabled') throw forbidden('This account is disabled', 'ACCOUNT_DISABLED')
    throw unauthorized(WRONG_CREDENTIALS, 'INVALID_CREDENTIALS')
  }

  /**
   * Rotates the refresh token: the presented one dies and its hash joins the session's used list. A used one
   * presented again means it was stolen (or replayed): the whole session is revoked. Unknown tokens are a plain 401.
   * A session older than SESSION_MAX_AGE (counted from the login) is not refreshed: 401 SESSION_ENDED.
   */
  async refresh (refreshToken: string): Promise<TokenPair> {
    const { Session, tokens, revocation, users } = this.options
    const parsed = tokens.parseRefreshToken(refreshToken)
    if (parsed === null) throw unauthorized('The refresh token is invalid', 'INVALID_REFRESH_TOKEN')
    const now = new Date()
    const next = tokens.newRefreshToken(parsed.sid)
    const session = await Session.findOneAndUpdate(
      { _id: parsed.sid, refreshHash: parsed.hash, revokedAt: { $exists: false }, expiresAt: { $gt: now }, createdAt: { $gt: this.oldestLogin(now) } },
      {
        $set: { refreshHash: next.hash, lastUsedAt: now, ...this.lifetimes(now) },
        $push: { usedRefreshHashes: { $each: [parsed.hash], $slice: -this.maxUsed } }
      },
      { returnDocument: 'after', lean: true }
    )
    if (session === null) {
      const known = await Session.findById(parsed.sid, { usedRefreshHashes: 1, refreshHash: 1, revokedAt: 1, createdAt: 1 }).lean()
      if (known !== null && known.usedRefreshHashes.includes(parsed.hash)) {
        await revocation.revoke(parsed.sid, 'refresh-reuse')
        throw unauthorized('This refresh token was already used: the session has been revoked', 'REFRESH_TOKEN_REUSED')
      }
      if (known !== null && known.refreshHash === parsed.hash) {
        const ended = known.revokedAt !== undefined
          ? 'The session was revoked'
          : known.createdAt <= this.oldestLogin(now) ? 'The session reached its maximum age: sign in again' : 'The refresh token has expired'
        throw unauthorized(ended, 'SESSION_ENDED')
      }
      throw unauthorized('The refresh token is invalid', 'INVALID_REFRESH_TOKEN')
    }
    const user = await users.getById(String(session.userId)).catch(() => null)
    if (user === null || user.deletedAt != null || user.disabled) {
      await revocation.revoke(parsed.sid, user?.disabled === true ? 'disabled' : 'account-deleted')
      throw unauthorized('The session has ended', 'SESSION_ENDED')
    }
    return this.pair(user, parsed.sid, next.token)
  }

  /** For any token: 200 when it is a valid, unexpired, unrevoked access token; 401 otherwise. */
  verify (token: string): { valid: true, userId: string, expiresAt: string } {
    const context = this.options.tokens.verifyAccess(token)
    return { valid: true, userId: context.userId, expiresAt: context.expiresAt.toISOString() }
  }

  /**
   * Revokes the caller's session (its access and refresh tokens die at once) and, when a refresh token of
   * another session of the same user is given, that one too. Idempotent.
   */
  async logout (auth: AuthContext, refreshToken?: string): Promise<void> {
    const { Session, tokens, revocation } = this.options
    await revocation.revoke(auth.sid, 'logout')
    const parsed = refreshToken !== undefined ? tokens.parseRefreshToken(refreshToken) : null
    if (parsed === null || parsed.sid === auth.sid) return
    const other = await Session.exists({ _id: parsed.sid, userId: auth.userId, refreshHash: parsed.hash })
    if (other !== null) await revocation.revoke(parsed.sid, 'logout')
  }

  private async openSession (user: UserDoc, client: ClientInfo): Promise<{ sid: string, pair: TokenPair }> {
    const now = new Date()
    const sid = new Types.ObjectId()
    const refresh = this.options.tokens.newRefreshToken(String(sid))
    await this.options.Session.create({
      _id: sid,
      userId: user._id,
      refreshHash: refresh.hash,
      usedRefreshHashes: [],
      lastUsedAt: now,
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 256),
      ...this.lifetimes(now)
    })
    return { sid: String(sid), pair: this.pair(user, String(sid), refresh.token) }
  }

  /** Sessions that logged in at or before this may no longer be refreshed. */
  private oldestLogin (now: Date): Date {
    const maxAge = this.options.sessionMaxAgeSeconds
    return new Date(maxAge === undefined ? 0 : now.getTime() - maxAge * 1000)
  }

  private lifetimes (now: Date): { expiresAt: Date, purgeAt: Date } {
    const ttl = Math.min(this.options.refreshTokenTtlSeconds, this.options.sessionMaxAgeSeconds ?? Infinity)
    const expiresAt = new Date(now.getTime() + ttl * 1000)
    const purgeAt = new Date(expiresAt.getTime() + this.options.accessTokenTtlSeconds * 1000 + PURGE_SLACK_MS)
    return { expiresAt, purgeAt }
  }

  private pair (user: UserDoc, sid: string, refreshToken: string): TokenPair {
    const { tokens, users } = this.options
    return {
      accessToken: tokens.signAccess({ userId: String(user._id), sid, role: user.role }),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: tokens.accessTokenTtlSeconds,
      user: toOwnUser(user, users.isOnline)
    }
  }
}
