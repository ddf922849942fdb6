/** Helpers for the conversation and message tests: users, a direct conversation, and short REST calls. */
import type { FastifyInstance } from 'fastify'
import { bearer, buildAuthApp, signUp, type SignedIn } from '../auth/auth-helpers.js'
import type { TeardownHost } from '../../helpers/build-app.js'

export { bearer, signUp, type SignedIn }

export async function buildChatApp (t: TeardownHost, environment: NodeJS.ProcessEnv = {}): Promise<FastifyInstance> {
  return await buildAuthApp(t, { RATE_LIMIT_MESSAGES: '0', ...environment })
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

export function api (app: FastifyInstance, user: SignedIn) {
  return async (method: Method, url: string, payload?: unknown) =>
    await app.inject({ method, url, headers: bearer(user.accessToken), ...(payload !== undefined ? { payload: payload as object } : {}) })
}

export async function openDirect (app: FastifyInstance, user: SignedIn, other: { id: string }): Promise<string> {
  const res = await api(app, user)('POST', '/api/conversations', { type: 'direct', userId: other.id })
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`open failed: ${res.statusCode} ${res.body}`)
  return res.json().id
}

export async function send (app: FastifyInstance, user: SignedIn, conversationId: string, body: string, extra: Record<string, unknown> = {}) {
  const res = await api(app, user)('POST', `/api/conversations/${conversationId}/messages`, { body, ...extra })
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`send failed: ${res.statusCode} ${res.body}`)
  return res.json()
}
