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
      tags, security, summary: 'Open the direct conversation with a user: 201 created, 200 the existing one (one per pair)',
      body: CreateConversationBody,
      response: { 200: Conversation, 201: Conversation, ...errorResponses(400, 401, 404) }
    }
  }, async (request, reply) => {
    const { conversation, created } = await conversations.openDirect(request.auth.userId, request.body.userId, request.body.subject)
    return reply.status(created ? 201 : 200).send(await conversations.view(conversation, request.auth.userId))
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
      tags, security, summary: 'Direct: hide it from the caller\'s list until the next message arrives', params: ConversationIdParams,
      response: { 204: { type: 'null', description: 'Hidden' }, ...errorResponses(400, 401, 404) }
    }
  }, async (request, reply) => {
    await conversations.hide(request.auth.userId, request.params.id)
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
