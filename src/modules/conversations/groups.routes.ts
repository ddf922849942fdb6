import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  AddMembersBody, Conversation, ConversationList, MemberParams, PublicGroupsQuery, Receipts, ReceiptsQuery, SetRoleBody,
  UpdateGroupBody, errorResponses
} from './conversations.schemas.js'
import { ConversationIdParams } from '../messages/messages.schemas.js'

/**
 * /api/conversations: the group calls (settings, members, roles, join/leave, public discovery, receipts). Creation and
 * deletion share the direct conversations' routes. Authorization is the groups service's.
 */
const groupsRoutes: FastifyPluginAsyncTypebox = async app => {
  const { groups, conversations } = app
  app.addHook('onRequest', app.authenticate)
  const tags = ['groups']
  const security = [{ bearer: [] }]
  const noContent = (description: string) => ({ type: 'null', description })

  app.get('/public', {
    schema: {
      tags, security, summary: 'Public groups whose name starts with `search` (case-insensitive), by name', querystring: PublicGroupsQuery,
      response: { 200: ConversationList, ...errorResponses(400, 401) }
    }
  }, async request => await groups.listPublic(request.auth.userId, request.query))

  app.patch('/:id', {
    schema: {
      tags, security, summary: 'Rename, change the subject or the visibility (owner and admins)', params: ConversationIdParams, body: UpdateGroupBody,
      response: { 200: Conversation, ...errorResponses(400, 401, 403, 404) }
    }
  }, async request => await conversations.view(await groups.update(request.auth.userId, request.params.id, request.body), request.auth.userId))

  app.post('/:id/members', {
    schema: {
      tags, security, summary: 'Add members (owner and admins; at most 100 ids a call, GROUP_MAX_MEMBERS in all)', params: ConversationIdParams,
      body: AddMembersBody, response: { 200: Conversation, ...errorResponses(400, 401, 403, 404, 409) }
    }
  }, async request => await conversations.view(await groups.addMembers(request.auth.userId, request.params.id, request.body.userIds), request.auth.userId))

  app.patch('/:id/members/:userId', {
    schema: {
      tags, security, summary: 'The owner makes a member admin or member again; `owner` hands the group over', params: MemberParams, body: SetRoleBody,
      response: { 200: Conversation, ...errorResponses(400, 401, 403, 404) }
    }
  }, async request => await conversations.view(await groups.setRole(request.auth.userId, request.params.id, request.params.userId, request.body.role), request.auth.userId))

  app.delete('/:id/members/:userId', {
    schema: {
      tags, security, summary: 'Remove a member of a lower role (owner and admins); your own id: leave', params: MemberParams,
      response: { 204: noContent('Removed'), ...errorResponses(400, 401, 403, 404) }
    }
  }, async (request, reply) => {
    await groups.removeMember(request.auth.userId, request.params.id, request.params.userId)
    return reply.status(204).send(null)
  })

  app.post('/:id/join', {
    schema: {
      tags, security, summary: 'Join a public group (403 for a private one)', params: ConversationIdParams,
      response: { 200: Conversation, ...errorResponses(400, 401, 403, 404) }
    }
  }, async request => await conversations.view(await groups.join(request.auth.userId, request.params.id), request.auth.userId))

  app.post('/:id/leave', {
    schema: {
      tags, security, summary: 'Leave the group (an owner hands it to the longest-standing admin, else member; the last one deletes it)',
      params: ConversationIdParams, response: { 204: noContent('Left'), ...errorResponses(400, 401, 404) }
    }
  }, async (request, reply) => {
    await groups.leave(request.auth.userId, request.params.id)
    return reply.status(204).send(null)
  })

  app.get('/:id/receipts', {
    schema: {
      tags, security, summary: 'Who has delivered and read up to seq (members only; from the marks)', params: ConversationIdParams,
      querystring: ReceiptsQuery, response: { 200: Receipts, ...errorResponses(400, 401, 404) }
    }
  }, async request => await groups.receipts(request.auth.userId, request.params.id, request.query.seq))
}

export default groupsRoutes
