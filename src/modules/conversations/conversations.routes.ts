import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  Conversation, ConversationList, ConversationListQuery, CreateConversationBody, ReadBody, errorResponses
} from './conversations.schemas.js'
import { ConversationIdParams } from '../messages/messages.schemas.js'

/** /api/conversations: the caller's conversations. Authorization is the service's (non-members get 404). */
const conversationsRoutes: FastifyPluginAsyncTypebox = async app => {
  const { conversations } = app
  app.addHook('onRequest', app.authenticate)
  const tags = ['conversations']
  const security = [{ bearer: [] }]

  app.post('/', {
    schema: {
      tags,
      security,
      summary: 'Direct: open the conversation with a user (201 created, 200 the existing one: one per pair). Group: create one; the caller is its owner',
      body: CreateConversationBody,
      response: { 200: Conversation, 201: Conversation, ...errorResponses(400, 401, 404, 409, 429) }
    }
  }, async (request, reply) => {
    const { userId } = request.auth
    if (request.body.type === 'group') {
      return reply.status(201).send(await conversations.view(await app.groups.create(userId, request.body), userId))
    }
    const { conversation, created } = await conversations.openDirect(userId, request.body.userId, request.body.subject)
    return reply.status(created ? 201 : 200).send(await conversations.view(conversation, userId))
  })

  app.get('/', {
    schema: {
      tags, security, summary: 'The caller\'s conversations, latest activity first, with lastMessage and unreadCount',
      querystring: ConversationListQuery,
      response: { 200: ConversationList, ...errorResponses(400, 401) }
    }
  }, async request => await conversations.list(request.auth.userId, request.query))

  app.get('/:id', {
    schema: {
      tags, security, summary: 'One conversation (members only: 404 otherwise)', params: ConversationIdParams,
      response: { 200: Conversation, ...errorResponses(400, 401, 404) }
    }
  }, async request => await conversations.get(request.auth.userId, request.params.id))

  app.delete('/:id', {
    schema: {
      tags,
      security,
      summary: 'Direct: hide it from the caller\'s list until the next message arrives. Group: the owner deletes it for everyone',
      params: ConversationIdParams,
      response: { 204: { type: 'null', description: 'Hidden or deleted' }, ...errorResponses(400, 401, 403, 404) }
    }
  }, async (request, reply) => {
    const { userId } = request.auth
    const doc = await conversations.requireMember(userId, request.params.id)
    if (doc.type === 'group') await app.groups.deleteGroup(userId, request.params.id)
    else await conversations.hide(userId, request.params.id)
    return reply.status(204).send(null)
  })

  app.post('/:id/read', {
    schema: {
      tags, security, summary: 'Move the caller\'s read mark forward to seq (never backward; clamped to lastSeq)',
      params: ConversationIdParams, body: ReadBody,
      response: { 204: { type: 'null', description: 'Marked' }, ...errorResponses(400, 401, 404) }
    }
  }, async (request, reply) => {
    await conversations.mark(request.auth.userId, request.params.id, 'read', request.body.seq)
    return reply.status(204).send(null)
  })
}

export default conversationsRoutes
