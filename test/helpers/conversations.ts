/** Conversation shortcuts over REST: open a direct conversation, send a message. Both throw unless it worked. */
import type { FastifyInstance } from 'fastify'
import { api } from './rest.js'

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
