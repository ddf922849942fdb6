/**
 * A small chat world for the admin tests: an admin (`root`, from ADMIN_*), alice, bob and carol, a direct
 * conversation alice-bob, a group of all three, and helpers to call the admin API.
 */
import type { FastifyInstance } from 'fastify'
import { buildChatApp, type TeardownHost } from '../../helpers/build-app.js'
import { openDirect, send } from '../../helpers/conversations.js'
import { api } from '../../helpers/rest.js'
import { login, signUp, type TestUser } from '../../helpers/users.js'

export const ADMIN_ENV = { ADMIN_USERNAME: 'root', ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'root password', RATE_LIMIT_MESSAGES: '0' }

export interface AdminWorld {
  app: FastifyInstance
  root: TestUser
  alice: TestUser
  bob: TestUser
  carol: TestUser
  directId: string
  groupId: string
  /** GET an admin route as root (or `as`), the query given as an object. */
  get: (path: string, query?: Record<string, string | number | boolean>, as?: { accessToken: string }) => Promise<{ statusCode: number, json: <T = any>() => T, headers: Record<string, unknown>, body: string }>
}

export async function adminWorld (t: TeardownHost, environment: NodeJS.ProcessEnv = {}): Promise<AdminWorld> {
  const app = await buildChatApp(t, { ...ADMIN_ENV, ...environment })
  const [alice, bob, carol] = [await signUp(app, 'alice'), await signUp(app, 'bob'), await signUp(app, 'carol')]
  const tokens = await login(app, 'root', 'root password')
  const me = await api(app, tokens)('GET', '/api/users/me')
  const root: TestUser = { ...tokens, id: me.json().id, username: 'root', email: 'root@example.com', password: 'root password' }
  const directId = await openDirect(app, alice, bob)
  const group = await api(app, alice)('POST', '/api/conversations', { type: 'group', name: 'Team Room', memberIds: [bob.id, carol.id] })
  if (group.statusCode !== 201) throw new Error(group.body)
  const get: AdminWorld['get'] = async (path, query = {}, as = root) => {
    const search = new URLSearchParams(Object.entries(query).map(([key, value]): [string, string] => [key, String(value)])).toString()
    return await app.inject({ method: 'GET', url: `/api/admin${path}${search !== '' ? `?${search}` : ''}`, headers: { authorization: `Bearer ${as.accessToken}` } })
  }
  return { app, root, alice, bob, carol, directId, groupId: group.json().id, get }
}

export { send }

/** Every page of a list, following nextCursor. */
export async function allPages<T> (fetch: (cursor?: string) => Promise<{ items: T[], nextCursor: string | null }>): Promise<T[]> {
  const items: T[] = []
  let cursor: string | undefined
  for (let guard = 0; guard < 1000; guard++) {
    const page = await fetch(cursor)
    items.push(...page.items)
    if (page.nextCursor === null) return items
    cursor = page.nextCursor
  }
  throw new Error('too many pages')
}
