import { randomBytes } from 'node:crypto'
import path from 'node:path'
import type { Static, TObject } from 'typebox'
import { Value } from 'typebox/value'
import { EnvSchema, DbServerEnvSchema, type Env } from './config.schema.js'
import { weakSecretReason } from './jwt-secret.js'

/** The typed configuration the app is built from. */
export interface AppConfig {
  env: Env['NODE_ENV']
  port: number
  host: string
  /** null: use the embedded engine. */
  mongodbUrl: string | null
  /** Absolute directory of the embedded engine's data, or null for in-memory (`DATA_DIR=:memory:`). */
  dataDir: string | null
  /** The embedded engine on a worker thread of its own (DB_THREAD). */
  dbThread: boolean
  dbPort: number
  dbHost: string
  redisUrl: string | null
  /** The Socket.IO adapter's kind over Redis (REDIS_ADAPTER). */
  redisAdapter: Env['REDIS_ADAPTER']
  jwtSecret: string
  /** True when JWT_SECRET was not given and a random one was made for this process. */
  jwtSecretGenerated: boolean
  accessTokenTtlSeconds: number
  refreshTokenTtlSeconds: number
  /** Absolute session lifetime (seconds since the login): refreshing beyond it is refused. */
  sessionMaxAgeSeconds: number
  uploadMaxBytes: number
  /** Stored attachment bytes per user; 0: no quota. */
  uploadQuotaBytes: number
  /** Uploads per user per hour; 0: no limit. */
  rateLimitUploads: number
  /** Age after which an unposted (or released) upload is removed. */
  uploadOrphanTtlSeconds: number
  /** HTTP timeouts: whole request, and headers (at most the request timeout). */
  requestTimeoutSeconds: number
  headersTimeoutSeconds: number
  messageMaxBytes: number
  rateLimitMessages: number
  groupMaxMembers: number
  /** Whether a deleted message's text is kept for admins (RETAIN_DELETED_TEXT). */
  retainDeletedText: boolean
  /** Client events per socket per 10 s; 0: no limit. */
  rateLimitSocketEvents: number
  /** Bearer token /metrics requires, or null (public). */
  metricsToken: string | null
  /** `w` of the write concern on a real MongoDB (with `j: true`). */
  mongodbWriteConcern: 'majority' | number
  rateLimitLogin: number
  /** Failed password checks per account and IP per 15 minutes; 0: no limit. */
  rateLimitLoginAccount: number
  /** Failed password checks per account from all IPs per 15 minutes; 0: no limit. */
  rateLimitLoginAccountTotal: number
  /** Registrations per IP per hour; 0: no limit. */
  rateLimitRegister: number
  /** argon2id cost parameters for new password hashes, and how many hashes run at once. */
  argon2: { memoryKib: number; timeCost: number; parallelism: number; maxConcurrent: number }
  corsOrigins: string[] | '*'
  logLevel: Env['LOG_LEVEL']
  logFormat: Env['LOG_FORMAT']
  trustProxy: boolean | string[]
  admin: { username: string; email: string; password: string } | null
}

export class ConfigError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }

/** `900`, `15m`, `12h`, `30d` -> seconds. */
export function parseDuration (value: string): number {
  const match = /^([0-9]+)(s|m|h|d)?$/.exec(value)
  if (match === null) throw new ConfigError(`not a duration: ${value}`)
  return Number(match[1]) * UNIT_SECONDS[match[2] ?? 's']
}

/** Node refuses a headers timeout longer than the request timeout; 0 disables either. */
function headersTimeout (headers: number, request: number): number {
  return request > 0 && (headers === 0 || headers > request) ? request : headers
}

function parseTrustProxy (value: string): boolean | string[] {
  if (value === 'true') return true
  if (value === 'false' || value === '') return false
  return value.split(',').map(v => v.trim()).filter(v => v !== '')
}

/** Unions of literals read better as their list of allowed values. */
function describe (schema: TObject, name: string, message: string): string {
  const property = (schema.properties as Record<string, { anyOf?: Array<{ const?: unknown }> }>)[name]
  const allowed = property?.anyOf?.map(option => option.const).filter(v => v !== undefined)
  return allowed !== undefined && allowed.length > 0 ? `must be one of ${allowed.join(', ')}` : message
}

/**
 * Reads the schema's variables from the environment: converts, applies defaults, validates, and throws a
 * ConfigError naming every bad variable. Unknown variables are ignored; an empty value counts as unset.
 */
export function parseEnv<T extends TObject> (schema: T, environment: NodeJS.ProcessEnv): Static<T> {
  const raw: Record<string, unknown> = {}
  for (const key of Object.keys(schema.properties)) {
    const value = environment[key]
    if (value !== undefined && value !== '') raw[key] = value
  }
  // Convert works in place; keep `raw` as the operator wrote it for the checks and messages below.
  const env = Value.Default(schema, Value.Convert(schema, { ...raw }))
  const problems = new Map<string, string>()
  // TypeBox's conversion truncates "1.5" to 1 for integers; an operator who wrote 1.5 meant something else.
  for (const [name, value] of Object.entries(raw)) {
    const property = (schema.properties as Record<string, { type?: string }>)[name]
    if (property?.type === 'integer' && !/^-?[0-9]+$/.test(String(value).trim())) {
      problems.set(name, `${name}: must be a whole number (got ${JSON.stringify(value)})`)
    }
  }
  for (const error of Value.Errors(schema, env)) {
    const name = error.instancePath.replace(/^\//, '') || 'environment'
    if (!problems.has(name)) problems.set(name, `${name}: ${describe(schema, name, error.message)} (got ${JSON.stringify(raw[name] ?? null)})`)
  }
  if (problems.size > 0) throw new ConfigError(`Invalid configuration: ${[...problems.values()].join('; ')}`)
  return env as Static<T>
}

/** Reads the environment once into the app's typed configuration. */
export function loadConfig (environment: NodeJS.ProcessEnv = process.env): AppConfig {
  const env: Env = parseEnv(EnvSchema, environment)
  if (env.NODE_ENV === 'production' && env.JWT_SECRET === undefined) {
    throw new ConfigError('JWT_SECRET: required when NODE_ENV=production (at least 32 characters)')
  }
  // The test kit's fixed secrets are fine in tests; anywhere else a published or patterned secret is no secret.
  const weakness = env.JWT_SECRET !== undefined && env.NODE_ENV !== 'test' ? weakSecretReason(env.JWT_SECRET) : null
  if (weakness !== null) {
    throw new ConfigError(`JWT_SECRET: refused, it ${weakness}; generate one with: openssl rand -base64 48`)
  }
  if (env.NODE_ENV === 'production' && env.TRUST_PROXY.trim() === 'true') {
    throw new ConfigError('TRUST_PROXY: `true` lets any client set its own IP (X-Forwarded-For) and so bypass the ' +
      'per-IP limits; when NODE_ENV=production give the load balancer\'s addresses/CIDRs instead')
  }
  const adminVars = [env.ADMIN_USERNAME, env.ADMIN_EMAIL, env.ADMIN_PASSWORD]
  const adminSet = adminVars.filter(v => v !== undefined).length
  if (adminSet !== 0 && adminSet !== 3) {
    throw new ConfigError('ADMIN_USERNAME, ADMIN_EMAIL, ADMIN_PASSWORD: set all three or none')
  }

  const cors = env.CORS_ORIGINS.trim()
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    mongodbUrl: env.MONGODB_URL ?? null,
    dataDir: env.DATA_DIR === ':memory:' ? null : path.resolve(env.DATA_DIR),
    dbThread: env.DB_THREAD === 'true',
    dbPort: env.DB_PORT,
    dbHost: env.DB_HOST,
    redisUrl: env.REDIS_URL ?? null,
    redisAdapter: env.REDIS_ADAPTER,
    jwtSecret: env.JWT_SECRET ?? randomBytes(48).toString('base64url'),
    jwtSecretGenerated: env.JWT_SECRET === undefined,
    accessTokenTtlSeconds: parseDuration(env.ACCESS_TOKEN_TTL),
    refreshTokenTtlSeconds: parseDuration(env.REFRESH_TOKEN_TTL),
    sessionMaxAgeSeconds: parseDuration(env.SESSION_MAX_AGE),
    uploadMaxBytes: env.UPLOAD_MAX_BYTES,
    uploadQuotaBytes: env.UPLOAD_QUOTA_BYTES,
    rateLimitUploads: env.RATE_LIMIT_UPLOADS,
    uploadOrphanTtlSeconds: parseDuration(env.UPLOAD_ORPHAN_TTL),
    requestTimeoutSeconds: parseDuration(env.REQUEST_TIMEOUT),
    headersTimeoutSeconds: headersTimeout(parseDuration(env.HEADERS_TIMEOUT), parseDuration(env.REQUEST_TIMEOUT)),
    messageMaxBytes: env.MESSAGE_MAX_BYTES,
    rateLimitMessages: env.RATE_LIMIT_MESSAGES,
    groupMaxMembers: env.GROUP_MAX_MEMBERS,
    retainDeletedText: env.RETAIN_DELETED_TEXT === 'true',
    rateLimitSocketEvents: env.RATE_LIMIT_SOCKET_EVENTS,
    metricsToken: env.METRICS_TOKEN ?? null,
    mongodbWriteConcern: env.MONGODB_WRITE_CONCERN === 'majority' ? 'majority' : Number(env.MONGODB_WRITE_CONCERN),
    rateLimitLogin: env.RATE_LIMIT_LOGIN,
    rateLimitLoginAccount: env.RATE_LIMIT_LOGIN_ACCOUNT,
    rateLimitLoginAccountTotal: env.RATE_LIMIT_LOGIN_ACCOUNT_TOTAL,
    rateLimitRegister: env.RATE_LIMIT_REGISTER,
    argon2: {
      memoryKib: env.ARGON2_MEMORY_KIB,
      timeCost: env.ARGON2_TIME_COST,
      parallelism: env.ARGON2_PARALLELISM,
      maxConcurrent: env.ARGON2_MAX_CONCURRENT
    },
    corsOrigins: cors === '*' ? '*' : cors.split(',').map(o => o.trim()).filter(o => o !== ''),
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    admin: adminSet === 3
      ? { username: env.ADMIN_USERNAME as string, email: env.ADMIN_EMAIL as string, password: env.ADMIN_PASSWORD as string }
      : null
  }
}

/** What `npm run db` (the embedded engine served alone) reads. */
export function loadDbServerConfig (environment: NodeJS.ProcessEnv = process.env): {
  host: string
  port: number
  dataDir: string | null
  env: Env['NODE_ENV']
  logLevel: Env['LOG_LEVEL']
  logFormat: Env['LOG_FORMAT']
} {
  const env = parseEnv(DbServerEnvSchema, environment)
  return {
    env: env.NODE_ENV,
    logFormat: env.LOG_FORMAT,
    host: env.DB_HOST,
    port: env.DB_PORT,
    dataDir: env.DATA_DIR === ':memory:' ? null : path.resolve(env.DATA_DIR),
    logLevel: env.LOG_LEVEL
  }
}
