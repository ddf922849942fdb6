import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { toOwnUser } from './users.view.js'
import {
  ChangePasswordBody, DeleteMeBody, OwnUser, PublicUser, SearchQuery, UpdateMeBody, UserIdParams, UserList, errorResponses
} from './users.schemas.js'

/** /api/users: search, public profiles, and the caller's own account. Every route needs a valid access token. */
const usersRoutes: FastifyPluginAsyncTypebox = async app => {
  const { users } = app
  // TypeBox validation: bodies strictly typed (a number is not a string), query strings converted.
  app.addHook('onRequest', app.authenticate)
  const tags = ['users']
  const security = [{ bearer: [] }]

  app.get('/', {
    schema: {
      tags, security, summary: 'Find users by username or name prefix (to start a conversation)', querystring: SearchQuery,
      response: { 200: UserList, ...errorResponses(400, 401) }
    }
  }, async request => {
    return await users.search(request.auth.userId, request.query)
  })

  app.get('/me', {
    schema: { tags, security, summary: 'The caller, with email and role', response: { 200: OwnUser, ...errorResponses(401, 404) } }
  }, async request => {
    return toOwnUser(await users.getActive(request.auth.userId), users.isOnline)
  })

  app.patch('/me', {
    schema: {
      tags, security, summary: 'Change profile fields', body: UpdateMeBody,
      description: 'A reserved username (deleted-user, admin, system, ...) answers 409 USERNAME_RESERVED.',
      response: { 200: OwnUser, ...errorResponses(400, 401, 404, 409) }
    }
  }, async request => {
    return toOwnUser(await users.update(request.auth.userId, request.body), users.isOnline)
  })

  app.put('/me/password', {
    schema: {
      tags, security, summary: 'Change the password; every other session is revoked', body: ChangePasswordBody,
      response: { 204: { type: 'null', description: 'Changed' }, ...errorResponses(400, 401, 403, 429) }
    }
  }, async (request, reply) => {
    await users.changePassword(request.auth.userId, request.auth.sid, request.body.currentPassword, request.body.newPassword, request.ip)
    return reply.status(204).send(null)
  })

  app.delete('/me', {
    schema: {
      tags, security, summary: 'Delete the account: deactivated, signed out everywhere; messages stay, shown as from a deleted user',
      body: DeleteMeBody,
      response: { 204: { type: 'null', description: 'Deleted' }, ...errorResponses(400, 401, 403, 429) }
    }
  }, async (request, reply) => {
    await users.deleteAccount(request.auth.userId, request.body.password, request.ip)
    return reply.status(204).send(null)
  })

  app.get('/:id', {
    schema: {
      tags, security, summary: 'A public profile (deleted accounts answer with deleted: true)', params: UserIdParams,
      response: { 200: PublicUser, ...errorResponses(400, 401, 404) }
    }
  }, async request => {
    return await users.getPublic(request.params.id, request.auth.userId)
  })
}

export default usersRoutes
