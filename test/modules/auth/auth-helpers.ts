/**
 * Helpers for the account tests: an app with cheap argon2 parameters (tests need speed, not hash strength),
 * registering and signing in users, and crafting JWTs by hand (forged, expired, alg:none) with node:crypto.
 */
import { createHmac } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, type TeardownHost } from '../../helpers/build-app.js'

/** The JWT_SECRET test/helpers/build-app.ts configures. */
export const TEST_SECRET = 'test-secret-that-is-long-enough-0123456789'

export const FAST_ARGON2 = { ARGON2_MEMORY_KIB: '64', ARGON2_TIME_COST: '1', ARGON2_PARALLELISM: '1' }

export async function buildAuthApp (t: TeardownHost, environment: NodeJS.ProcessEnv = {}): Promise<FastifyInstance> {
  return await buildTestApp(t, { ...FAST_ARGON2, ...environment })
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

export interface SignedIn {
  id: string
  username: string
  email: string
  password: string
  accessToken: string
  refreshToken: string
}

let counter = 0

export async function register (app: FastifyInstance, fields: Record<string, unknown> = {}): Promise<{ id: string, username: string, email: string, password: string }> {
  const n = ++counter
  const body = { username: `user${n}_${process.pid}`, email: `user${n}.${process.pid}@example.com`, password: 'correct horse battery', ...fields }
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: body })
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`)
  return { id: res.json().user.id, username: body.username as string, email: body.email as string, password: body.password as string }
}

export async function login (app: FastifyInstance, login: string, password: string): Promise<{ accessToken: string, refreshToken: string }> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login, password } })
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
  return res.json()
}

export async function signUp (app: FastifyInstance, fields: Record<string, unknown> = {}): Promise<SignedIn> {
  const user = await register(app, fields)
  return { ...user, ...await login(app, user.username, user.password) }
}

/** An HS256 JWT signed with `secret` (or any header, e.g. alg none with an empty signature). */
export function craftJwt (payload: Record<string, unknown>, options: { secret?: string, header?: Record<string, unknown>, signature?: string } = {}): string {
  const header = options.header ?? { alg: 'HS256', typ: 'JWT' }
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const unsigned = `${encode(header)}.${encode(payload)}`
  const signature = options.signature ?? createHmac('sha256', options.secret ?? TEST_SECRET).update(unsigned).digest('base64url')
  return `${unsigned}.${signature}`
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)
