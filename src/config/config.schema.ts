/**
 * Every environment variable Parley reads, in one TypeBox schema (the list in `.env.example` mirrors it).
 * Values arrive as strings; `loadConfig` converts them to these types and fails fast naming the variable.
 */
import { Type, type Static } from 'typebox'

const port = (fallback: number) => Type.Integer({ minimum: 0, maximum: 65535, default: fallback })
/** Seconds as a number, or a duration like `15m`, `12h`, `30d`. */
const duration = (fallback: string) => Type.String({ pattern: '^[0-9]+(s|m|h|d)?$', default: fallback })
const oneOf = <T extends string>(values: readonly T[], fallback: T) =>
  Type.Union(values.map(v => Type.Literal(v)), { default: fallback })

export const EnvSchema = Type.Object({
  NODE_ENV: oneOf(['development', 'production', 'test'] as const, 'development'),
  PORT: port(3000),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  /** Unset: Parley starts its embedded MongoDB-compatible engine in-process. */
  MONGODB_URL: Type.Optional(Type.String({ pattern: '^mongodb(\\+srv)?://' })),
  /** The embedded engine's directory. `:memory:` keeps nothing on disk (tests). */
  DATA_DIR: Type.String({ minLength: 1, default: './data' }),
  /**
   * `true`: the embedded engine runs on a worker thread of its own, as a separate mongod would, so its commands,
   * journal writes and garbage collection stay off the app's event loop. `false`: on the app's loop (tests).
   */
  DB_THREAD: oneOf(['true', 'false'] as const, 'true'),
  /** Port of `npm run db` (the embedded engine served alone). */
  DB_PORT: port(27017),
  /** Interface `npm run db` binds; loopback unless you mean to share it. */
  DB_HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  /** Unset: a single instance with no cluster. */
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  /**
   * The Socket.IO adapter over Redis. `sharded` (Redis 7+): sharded pub/sub, a channel per room, so only instances
   * with a member of a conversation hear its messages. `classic`: one channel every instance hears (any Redis).
   */
  REDIS_ADAPTER: oneOf(['sharded', 'classic'] as const, 'sharded'),
  /**
   * Required when NODE_ENV=production; in development a random one is generated (tokens die with the process).
   * Outside NODE_ENV=test, known example secrets and trivially weak ones are refused (see jwt-secret.ts).
   */
  JWT_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  ACCESS_TOKEN_TTL: duration('15m'),
  REFRESH_TOKEN_TTL: duration('30d'),
  /** Absolute session lifetime: no refresh beyond this age of the login (401 SESSION_ENDED). Default 90d. */
  SESSION_MAX_AGE: duration('90d'),
  UPLOAD_MAX_BYTES: Type.Integer({ minimum: 1, default: 26214400 }),
  /** Bytes of attachments one user may have stored (1 GiB); 0 disables the quota. */
  UPLOAD_QUOTA_BYTES: Type.Integer({ minimum: 0, default: 1073741824 }),
  /** Uploads per user per hour; 0 disables. */
  RATE_LIMIT_UPLOADS: Type.Integer({ minimum: 0, default: 100 }),
  /** Uploads never posted in a message (or whose every message was deleted) are removed after this. */
  UPLOAD_ORPHAN_TTL: duration('24h'),
  /** Longest an HTTP request may take to arrive, headers and body (uploads included); then 408 and the connection closes. 0 disables. */
  REQUEST_TIMEOUT: duration('120s'),
  /** Longest the request headers may take to arrive (at most REQUEST_TIMEOUT). 0 disables. */
  HEADERS_TIMEOUT: duration('20s'),
  MESSAGE_MAX_BYTES: Type.Integer({ minimum: 1, default: 16384 }),
  /** Messages per user per 10 s; 0 disables the limit (benchmarks). */
  RATE_LIMIT_MESSAGES: Type.Integer({ minimum: 0, default: 100 }),
  /**
   * Keep a deleted message's text for admins (GET /api/admin/messages?includeDeleted=true shows it); users never
   * see it. Default false: deleting removes the text for good.
   */
  RETAIN_DELETED_TEXT: oneOf(['true', 'false'] as const, 'false'),
  /** Members a group may have. */
  GROUP_MAX_MEMBERS: Type.Integer({ minimum: 2, maximum: 100000, default: 1000 }),
  /** Client events per user per 10 s on an instance, of any kind; 0 disables it and the handshake limit. */
  RATE_LIMIT_SOCKET_EVENTS: Type.Integer({ minimum: 0, default: 300 }),
  /** Login attempts per client (IPv4 address, IPv6 /64) per minute; 0 disables. */
  RATE_LIMIT_LOGIN: Type.Integer({ minimum: 0, default: 10 }),
  /** Password checks per account (username or email) and client per 15 minutes (a success gives its point back); 0 disables. */
  RATE_LIMIT_LOGIN_ACCOUNT: Type.Integer({ minimum: 0, default: 10 }),
  /**
   * Password checks per account from all clients together per 15 minutes; 0 disables. Loose on purpose, and places
   * the owner signed in from before are exempt: an attacker elsewhere must not lock the owner out (OWASP).
   */
  RATE_LIMIT_LOGIN_ACCOUNT_TOTAL: Type.Integer({ minimum: 0, default: 100 }),
  /** Registrations per client (IPv4 address, IPv6 /64) per hour; 0 disables. */
  RATE_LIMIT_REGISTER: Type.Integer({ minimum: 0, default: 20 }),
  /** argon2id memory in KiB. Default 19456 (19 MiB, OWASP's minimum with 2 iterations). */
  ARGON2_MEMORY_KIB: Type.Integer({ minimum: 8, maximum: 4194304, default: 19456 }),
  /** argon2id iterations. Default 2. */
  ARGON2_TIME_COST: Type.Integer({ minimum: 1, maximum: 100, default: 2 }),
  /** argon2id lanes. Default 1. */
  ARGON2_PARALLELISM: Type.Integer({ minimum: 1, maximum: 16, default: 1 }),
  /**
   * argon2 hashes/verifications run at once per instance; the rest wait in line. Default 2: they share libuv's
   * threadpool (4 threads unless UV_THREADPOOL_SIZE) with the embedded engine's file writes.
   */
  ARGON2_MAX_CONCURRENT: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
  /** Comma-separated allowed origins; `*` allows any. Empty: same-origin only. */
  CORS_ORIGINS: Type.String({ default: '' }),
  /** When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  /** Write concern `w` of every write on a real MongoDB (`majority` or a number of members, at least 1); always `j: true`. */
  MONGODB_WRITE_CONCERN: Type.String({ pattern: '^(majority|[1-9][0-9]?)$', default: 'majority' }),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  /**
   * `auto`: readable text (pino-pretty) when NODE_ENV=development and the output is a terminal, JSON lines otherwise
   * (production, pipes, log collectors). `json` or `pretty` to choose.
   */
  LOG_FORMAT: oneOf(['auto', 'json', 'pretty'] as const, 'auto'),
  /**
   * Trust X-Forwarded-* from a load balancer in front: false, or a comma-separated list of its addresses/CIDRs.
   * `true` (trust any peer, so any client can pick its IP) is refused when NODE_ENV=production.
   */
  TRUST_PROXY: Type.String({ default: 'false' }),
  ADMIN_USERNAME: Type.Optional(Type.String({ minLength: 3 })),
  ADMIN_EMAIL: Type.Optional(Type.String({ minLength: 3 })),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8 }))
})

export type Env = Static<typeof EnvSchema>

/** The subset `npm run db` reads. */
export const DbServerEnvSchema = Type.Pick(EnvSchema, ['NODE_ENV', 'DB_HOST', 'DB_PORT', 'DATA_DIR', 'LOG_LEVEL', 'LOG_FORMAT'])
