import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../../shared/schemas.js'
import { AuthService } from './auth.service.js'
import {
  LoginBody, LogoutBody, RefreshBody, RegisterBody, RegisterResponse, TokenPairResponse, VerifyBody, VerifyResponse
} from './auth.schemas.js'

/** POST /api/auth/{register,login,refresh,verify,logout}. */
const authRoutes: FastifyPluginAsyncTypebox = async app => {
  const auth = new AuthService({
    Session: app.models.Session,
    users: app.users,
    passwords: app.passwords,
    tokens: app.tokens,
    revocation: app.revocation,
    limiter: app.loginLimiter,
    accessTokenTtlSeconds: app.config.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: app.config.refreshTokenTtlSeconds,
    sessionMaxAgeSeconds: app.config.sessionMaxAgeSeconds
  })
  // Bodies are checked strictly (no type coercion: `123` is not a username); see users.routes.ts.
  const tags = ['auth']

  app.post('/register', {
    schema: {
      tags, summary: 'Create an account', body: RegisterBody,
      description: 'Rate limited per IP, an IPv6 client by its /64 (RATE_LIMIT_REGISTER an hour): 429 with Retry-After. Reserved usernames (deleted-user, admin, system, ...) answer 409 USERNAME_RESERVED.',
      response: { 201: RegisterResponse, ...errorResponses(400, 409, 413, 415, 429) }
    }
  }, async (request, reply) => {
    return reply.status(201).send({ user: await auth.register(request.body, { ip: request.ip }) })
  })

  app.post('/login', {
    schema: {
      tags, summary: 'Sign in with a username or email', body: LoginBody,
      description: 'Rate limited per IP, an IPv6 client by its /64 (RATE_LIMIT_LOGIN attempts a minute), per account and IP (RATE_LIMIT_LOGIN_ACCOUNT password checks per 15 minutes; a success gives its own back and clears the count) and per account from all IPs (RATE_LIMIT_LOGIN_ACCOUNT_TOTAL checks per 15 minutes; places that signed in to the account within 21 days are exempt): 429 with Retry-After.',
      response: { 200: TokenPairResponse, ...errorResponses(400, 401, 403, 429) }
    }
  }, async request => {
    return await auth.login(request.body, { ip: request.ip, userAgent: request.headers['user-agent'] })
  })

  app.post('/refresh', {
    schema: {
      tags, summary: 'Trade a refresh token for a new pair (the old refresh token dies)', body: RefreshBody,
      description: 'A refresh token presented a second time revokes its whole session (theft detection). A session older than SESSION_MAX_AGE (from its login) answers 401 SESSION_ENDED.',
      response: { 200: TokenPairResponse, ...errorResponses(400, 401) }
    }
  }, async request => {
    return await auth.refresh(request.body.refreshToken)
  })

  app.post('/verify', {
    schema: {
      tags, summary: 'Check an access token', body: VerifyBody,
      response: { 200: VerifyResponse, ...errorResponses(400, 401) }
    }
  }, async request => {
    return auth.verify(request.body.token)
  })

  app.post('/logout', {
    onRequest: app.authenticate,
    // The body is optional: no body at all means `{}`.
    preValidation: async request => { request.body ??= {} },
    schema: {
      tags, summary: 'Revoke the session: its access and refresh tokens stop working at once', body: LogoutBody,
      security: [{ bearer: [] }],
      response: { 204: { type: 'null', description: 'Signed out' }, ...errorResponses(400, 401) }
    }
  }, async (request, reply) => {
    await auth.logout(request.auth, request.body.refreshToken)
    return reply.status(204).send(null)
  })
}

export default authRoutes
