/**
 * Users for tests: register, log in, both at once (`signUp`), another session of the same user (another device).
 * Through an app or a listening process (see rest.ts). Run the app with FAST_ARGON2 (build-app.ts) to keep it cheap.
 */
import { request, type Target } from './rest.js'

export const PASSWORD = 'correct horse battery'

export interface Registered {
  id: string
  username: string
  email: string
  password: string
}

export interface Tokens {
  accessToken: string
  refreshToken: string
}

export type TestUser = Registered & Tokens

let counter = 0

/**
 * Registers a user. A string names it (`alice` gives `alice<n>_<pid>`); fields override the generated ones
 * (username `user<n>_<pid>`, email `<name><n>.<pid>@example.com`, password PASSWORD). Throws unless 201.
 */
export async function register (target: Target, nameOrFields: string | Record<string, unknown> = {}): Promise<Registered> {
  const name = typeof nameOrFields === 'string' ? nameOrFields : 'user'
  const fields = typeof nameOrFields === 'string' ? {} : nameOrFields
  const n = ++counter
  const body = {
    username: `${name}${n}_${process.pid}`.slice(0, 32),
    email: `${name}${n}.${process.pid}@example.com`,
    password: PASSWORD,
    ...fields
  }
  const res = await request(target, { method: 'POST', url: '/api/auth/register', payload: body })
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`)
  return { id: res.json().user.id, username: body.username as string, email: body.email as string, password: body.password as string }
}

/** Logs in (a new session); throws unless 200. */
export async function login (target: Target, loginName: string, password: string): Promise<Tokens> {
  const res = await request(target, { method: 'POST', url: '/api/auth/login', payload: { login: loginName, password } })
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
  const { accessToken, refreshToken } = res.json()
  return { accessToken, refreshToken }
}

/** Registers and logs in. */
export async function signUp (target: Target, nameOrFields: string | Record<string, unknown> = {}): Promise<TestUser> {
  const user = await register(target, nameOrFields)
  return { ...user, ...await login(target, user.username, user.password) }
}

/** Another session of the user (another device), through `target` (any instance of a cluster). */
export async function newSession (target: Target, user: Registered): Promise<Tokens> {
  return await login(target, user.username, user.password)
}
