/**
 * Authentication infrastructure: password hashing, token signing (@fastify/jwt, HS256 only), the session
 * revocation list, login rate limits, and the guards routes use: `app.authenticate` (one `onRequest` hook for a
 * protected scope, setting `request.auth`) and `app.requireRole(role)` (a `preHandler`).
 */
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler, preHandlerAsyncHookHandler } from 'fastify'
import { forbidden, unauthorized } from '../shared/errors.js'
import { PasswordService } from '../modules/auth/password.service.js'
import { RevocationService } from '../modules/auth/revocation.service.js'
import { TokenService, type AuthContext } from '../modules/auth/token.service.js'
import { LoginLimiter } from '../modules/auth/login-limiter.js'
import { AccountGate } from '../modules/auth/account-gate.js'
import { clusterLimiterFactory } from '../cluster/rate-limiters.js'
import { relayRevocations } from '../cluster/revocation-relay.js'
import type { UserRole } from '../storage/models/user.model.js'

declare module 'fastify' {
  interface FastifyInstance {
    passwords: PasswordService
    tokens: TokenService
    revocation: RevocationService
    loginLimiter: LoginLimiter
    /**
     * `onRequest` guard: 401 unless a valid, unrevoked access token is sent and its account still exists and is
     * enabled; sets `request.auth`.
     */
    authenticate: onRequestAsyncHookHandler
    /** `preHandler` guard (after `authenticate`): 403 unless the caller has the role. */
    requireRole: (role: UserRole) => preHandlerAsyncHookHandler
  }
  interface FastifyRequest {
    /** The caller; set by `app.authenticate`, so only meaningful in protected scopes. */
    auth: AuthContext
  }
}

export interface AuthPluginOptions {
  /** How often each instance polls MongoDB for sessions revoked elsewhere. Default 2000 ms. */
  revocationPollMs?: number
  /**
   * How long the guard reuses an account's state (exists, not disabled); a revocation of the user's sessions drops
   * it at once. Default 2000 ms; 0 reads it on every request.
   */
  accountCacheMs?: number
}

// `Bearer` per RFC 6750; `JWT` for older clients; either case. Anything else (a bare token too) is refused.
const AUTHORIZATION = /^(?:bearer|jwt)[ \t]+([^\s]+)[ \t]*$/i

/** The token of an `Authorization: Bearer <token>` (or `JWT <token>`) header; throws 401 otherwise. */
export function tokenFromHeader (header: string | undefined): string {
  if (header === undefined || header === '') {
    throw unauthorized('Authentication required: send Authorization: Bearer <accessToken>')
  }
  const match = AUTHORIZATION.exec(header)
  if (match === null) {
    throw unauthorized('The Authorization header must be "Bearer <accessToken>"', 'INVALID_AUTHORIZATION')
  }
  return match[1]
}

async function authPlugin (app: FastifyInstance, options: AuthPluginOptions): Promise<void> {
  const { config } = app
  await app.register(fastifyJwt, {
    secret: config.jwtSecret,
    sign: { algorithm: 'HS256', expiresIn: config.accessTokenTtlSeconds },
    // Pinning the algorithm refuses `alg: none` and every other algorithm (no key confusion).
    verify: { algorithms: ['HS256'] }
  })

  const revocation = new RevocationService({
    Session: app.models.Session,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    pollIntervalMs: options.revocationPollMs,
    onPollError: error => app.log.warn({ err: error }, 'revocation list: poll failed, retrying')
  })
  const tokens = new TokenService({ jwt: app.jwt, revocation, accessTokenTtlSeconds: config.accessTokenTtlSeconds })
  const passwords = new PasswordService(config.argon2)
  const loginLimiter = new LoginLimiter({
    perIp: config.rateLimitLogin,
    perAccountIp: config.rateLimitLoginAccount,
    perAccount: config.rateLimitLoginAccountTotal,
    perRegisterIp: config.rateLimitRegister,
    createLimiter: clusterLimiterFactory(app)
  })
  // With a cluster, revocations reach the other instances at once (polling stays as the fallback).
  const stopRelay = app.cluster != null ? relayRevocations(app.cluster, revocation, app.log) : () => {}

  app.decorate('passwords', passwords)
  app.decorate('tokens', tokens)
  app.decorate('revocation', revocation)
  app.decorate('loginLimiter', loginLimiter)
  app.decorateRequest('auth', null as unknown as AuthContext)

  // A token must not outlive its account, whatever removed or disabled it (account-gate.ts).
  const accounts = new AccountGate({ User: app.models.User, revocation, cacheMs: options.accountCacheMs })
  app.decorate('authenticate', async function authenticate (request: FastifyRequest) {
    const context = tokens.verifyAccess(tokenFromHeader(request.headers.authorization))
    await accounts.assertUsable(context.userId)
    request.auth = context
  })
  app.decorate('requireRole', (role: UserRole) => async function requireRole (request: FastifyRequest) {
    if (request.auth === null) throw unauthorized()
    if (request.auth.role !== role) throw forbidden(`This needs the ${role} role`)
  })

  await revocation.start()
  // The dummy hash makes the first unknown-user login as slow as the others.
  await passwords.verifyDummy('warm-up')
  app.addHook('onClose', async () => {
    stopRelay()
    accounts.stop()
    revocation.stop()
  })
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['models', 'cluster'] })
