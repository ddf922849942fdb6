import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { registerMultipart } from '../attachments/multipart-upload.js'
import { sendWithFile } from './message-upload.js'
import {
  ConversationIdParams, EditMessageBody, Message, MessageIdParams, MessageListQuery, MessagePage, SendMessageBody, errorResponses
} from './messages.schemas.js'

/** Messages under /api: a conversation's messages, and edits/deletes by message id. */
const messagesRoutes: FastifyPluginAsyncTypebox = async app => {
  const { messages } = app
  app.addHook('onRequest', app.authenticate)
  const tags = ['messages']
  const security = [{ bearer: [] }]

  app.get('/conversations/:id/messages', {
    schema: {
      tags, security, summary: 'A page of messages in ascending seq: the latest by default, or before/after a seq',
      params: ConversationIdParams, querystring: MessageListQuery,
      response: { 200: MessagePage, ...errorResponses(400, 401, 404) }
    }
  }, async request => await messages.list(request.auth.userId, request.params.id, request.query))

  // Its own scope, so multipart parsing exists for this route only.
  await app.register(async plain => {
    await registerMultipart(plain, app.config.uploadMaxBytes)
    const scope = plain.withTypeProvider<TypeBoxTypeProvider>()
    scope.post('/conversations/:id/messages', {
      schema: {
        tags, security, consumes: ['application/json', 'multipart/form-data'],
        summary: 'Send a message (delivered in realtime like a socket send); the same clientMsgId again answers 200 with the original',
        description: 'JSON `{body?, attachmentIds?, clientMsgId?, replyToId?}`, or multipart/form-data with one `file` ' +
          'and the text fields `body`, `clientMsgId`, `replyToId`: the file is uploaded (as POST /api/attachments ' +
          'with this conversationId) and sent as the message\'s attachment.',
        params: ConversationIdParams, body: SendMessageBody,
        response: { 200: Message, 201: Message, ...errorResponses(400, 401, 404, 413, 415, 429, 501) }
      },
      // A multipart body is a stream the handler reads; the validator sees `{}` (the reader checks the fields).
      preValidation: async request => {
        if (request.isMultipart()) request.body = {}
      }
    }, async (request, reply) => {
      const { userId } = request.auth
      const conversationId = request.params.id
      const { message, created } = request.isMultipart()
        ? await sendWithFile(app, request, userId, conversationId)
        : await messages.send(userId, { ...request.body, conversationId })
      return reply.status(created ? 201 : 200).send(message)
    })
  })

  app.patch('/messages/:id', {
    schema: {
      tags, security, summary: 'Edit a message (sender only)', params: MessageIdParams, body: EditMessageBody,
      response: { 200: Message, ...errorResponses(400, 401, 403, 404, 409, 413) }
    }
  }, async request => await messages.edit(request.auth.userId, request.params.id, request.body.body))

  app.delete('/messages/:id', {
    schema: {
      tags, security, summary: 'Delete a message (sender or platform admin): id and seq stay, body and attachments go',
      params: MessageIdParams,
      response: { 204: { type: 'null', description: 'Deleted' }, ...errorResponses(400, 401, 403, 404) }
    }
  }, async (request, reply) => {
    await messages.remove(request.auth.userId, request.auth.role, request.params.id)
    return reply.status(204).send(null)
  })
}

export default messagesRoutes
