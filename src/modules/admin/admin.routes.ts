import { Readable } from 'node:stream'
import fastJson from 'fast-json-stringify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import {
  AdminConversationPage, AdminConversationsQuery, AdminMessage, AdminMessagePage, AdminUser, AdminUserPage, AdminUserPatch, AdminUsersQuery,
  AuditPage, AuditQuery, MessageExportQuery, MessageSearchQuery, Stats, errorResponses
} from './admin.schemas.js'
import { Conversation } from '../conversations/conversations.schemas.js'
import { ConversationIdParams } from '../messages/messages.schemas.js'
import { UserIdParams } from '../users/users.schemas.js'
import type { Actor, ExportRun } from './admin.service.js'
import { dateOf } from './admin-dates.js'
import type { MessageExportQuery as ExportQuery } from './admin.schemas.js'

/** The export's file name: the time range it covers (`start` / the export time when open-ended). */
function exportFileName (query: ExportQuery, now: Date): string {
  const stamp = (iso: string): string => dateOf(iso, 'from/to').toISOString().replace(/[:.]/g, '-')
  return `parley-messages_${query.from !== undefined ? stamp(query.from) : 'start'}_${stamp(query.to ?? now.toISOString())}.ndjson`
}

/** One AdminMessage as JSON, by a serialiser compiled from its schema (several times JSON.stringify's speed). */
const messageLine = fastJson(AdminMessage as object)

/** The pages as NDJSON, read only as fast as the client takes them; the audit entry is completed at the end. */
function ndjson (run: ExportRun, log: FastifyBaseLogger): Readable {
  let count = 0
  let completed = false
  async function * lines (): AsyncGenerator<string> {
    try {
      for await (const page of run.pages) {
        count += page.length
        let chunk = ''
        for (const message of page) chunk += messageLine(message) + '\n'
        yield chunk
      }
      completed = true
    } finally {
      await run.finish(count, completed).catch(error => { log.error({ err: error }, 'admin export: completing the audit entry failed') })
    }
  }
  // Byte mode with a small buffer: a slow client holds back the next page instead of making the server queue pages.
  return Readable.from(lines(), { objectMode: false, highWaterMark: 64 * 1024 })
}

/** A streamed body: piped as it is, never serialised. */
const NdjsonStream = Type.Unsafe<Readable>({ type: 'string', description: 'one AdminMessage (JSON) a line' })

/** /api/admin: history, export, conversations, users, audit and stats. Admin role checked by the admin service. */
const adminRoutes: FastifyPluginAsyncTypebox = async app => {
  const { admin } = app
  app.addHook('onRequest', app.authenticate)
  const tags = ['admin']
  const security = [{ bearer: [] }]
  const actorOf = (request: FastifyRequest): Actor => ({ userId: request.auth.userId, role: request.auth.role, ip: request.ip })
  const routeOf = (request: FastifyRequest): string => `${request.method} ${request.routeOptions.url ?? request.url}`

  app.get('/messages', {
    schema: {
      tags, security, summary: 'Messages across all conversations, filtered, by (createdAt, id)', querystring: MessageSearchQuery,
      response: { 200: AdminMessagePage, ...errorResponses(400, 401, 403) }
    }
  }, async request => await admin.searchMessages(actorOf(request), routeOf(request), request.query))

  app.get('/messages/export', {
    // A HEAD would run the whole export into a drain: no.
    exposeHeadRoute: false,
    schema: {
      tags, security, summary: 'The same filters, every match as NDJSON (application/x-ndjson), streamed', querystring: MessageExportQuery,
      produces: ['application/x-ndjson'], response: { 200: NdjsonStream, ...errorResponses(400, 401, 403) }
    }
  }, async (request, reply) => {
    const fileName = exportFileName(request.query, new Date())
    const run = await admin.exportMessages(actorOf(request), routeOf(request), request.query)
    return reply
      .type('application/x-ndjson')
      .header('content-disposition', `attachment; filename="${fileName}"`)
      .header('cache-control', 'no-store')
      .send(ndjson(run, request.log))
  })

  app.get('/conversations', {
    schema: {
      tags, security, summary: 'Conversations by creation, with all members; by member, type, group-name prefix', querystring: AdminConversationsQuery,
      response: { 200: AdminConversationPage, ...errorResponses(400, 401, 403) }
    }
  }, async request => await admin.listConversations(actorOf(request), routeOf(request), request.query))

  app.get('/conversations/:id', {
    schema: {
      tags, security, summary: 'One conversation with all its members', params: ConversationIdParams,
      response: { 200: Conversation, ...errorResponses(400, 401, 403, 404) }
    }
  }, async request => await admin.getConversation(actorOf(request), routeOf(request), request.params.id))

  app.get('/users', {
    schema: {
      tags, security, summary: 'Every account (deleted ones too), by creation; search, role, disabled', querystring: AdminUsersQuery,
      response: { 200: AdminUserPage, ...errorResponses(400, 401, 403) }
    }
  }, async request => await admin.listUsers(actorOf(request), routeOf(request), request.query))

  app.patch('/users/:id', {
    schema: {
      tags, security, summary: 'Promote, demote, disable (revokes every session, closes every socket) or enable', params: UserIdParams,
      body: AdminUserPatch, response: { 200: AdminUser, ...errorResponses(400, 401, 403, 404, 409) }
    }
  }, async request => await admin.updateUser(actorOf(request), routeOf(request), request.params.id, request.body))

  app.get('/audit', {
    schema: {
      tags, security, summary: 'The audit log, newest first: who read, exported or changed what, when, from where', querystring: AuditQuery,
      response: { 200: AuditPage, ...errorResponses(400, 401, 403) }
    }
  }, async request => await admin.listAudit(actorOf(request), routeOf(request), request.query))

  app.get('/stats', {
    schema: { tags, security, summary: 'Users, conversations, messages, online users, sockets per instance', response: { 200: Stats, ...errorResponses(401, 403) } }
  }, async request => await admin.stats(actorOf(request), routeOf(request)))
}

export default adminRoutes
