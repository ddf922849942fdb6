/** Conversation shortcuts over REST: open a direct conversation, send a message (both throw unless it worked). */
import type { FastifyInstance } from 'fastify'
import { buildChatApp, type TeardownHost } from './build-app.js'
import { api } from './rest.js'
import { signUp, type TestUser } from './users.js'

export async function openDirect (app: FastifyInstance, user: { accessToken: string }, other: { id: string }): Promise<string> {
  const res = await api(app, user)('POST', '/api/conversations', { type: 'direct', userId: other.id })
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`open failed: ${res.statusCode} ${res.body}`)
  return res.json().id
}

export async function send (app: FastifyInstance, user: { accessToken: string }, conversationId: string, body: string, extra: Record<string, unknown> = {}) {
  const res = await api(app, user)('POST', `/api/conversations/${conversationId}/messages`, { body, ...extra })
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`send failed: ${res.statusCode} ${res.body}`)
  return res.json()
}

/** A chat app (buildChatApp) with alice and bob in a direct conversation `id`. */
export async function directChat (t: TeardownHost, environment: NodeJS.ProcessEnv = {}): Promise<{ app: FastifyInstance, alice: TestUser, bob: TestUser, id: string }> {
  const app = await buildChatApp(t, environment)
  const alice = await signUp(app, 'alice')
  const bob = await signUp(app, 'bob')
  return { app, alice, bob, id: await openDirect(app, alice, bob) }
}
