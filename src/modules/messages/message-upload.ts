/**
 * The multipart form of POST /api/conversations/:id/messages: one `file` plus the text fields `body`,
 * `clientMsgId`, `replyToId`. The file is uploaded scoped to the conversation (membership is checked before a
 * byte is stored), then sent as the message's attachment; if the message is not stored, the upload goes too.
 */
import type { FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'
import { badRequest } from '../../shared/errors.js'
import { IdString } from '../../shared/schemas.js'
import { compileSchema } from '../../shared/validation.js'
import type { AttachmentDoc } from '../../storage/models/attachment.model.js'
import { ClientMsgId, MessageBody, type Message } from './messages.schemas.js'
import type { MessagesService } from './messages.service.js'
import type { AttachmentsService } from '../attachments/attachments.service.js'
import { readMultipart } from '../attachments/multipart-upload.js'

const MessageFields = Type.Object({
  body: Type.Optional(MessageBody),
  clientMsgId: Type.Optional(ClientMsgId),
  replyToId: Type.Optional(IdString)
})
const messageFields = compileSchema(MessageFields)

export interface MessageUploadDeps {
  attachments: AttachmentsService
  messages: MessagesService
}

/** Reads the multipart body, stores the file and sends the message with it (`created` as `messages.send` says). */
export async function sendWithFile (
  deps: MessageUploadDeps, request: FastifyRequest, userId: string, conversationId: string
): Promise<{ message: Message, created: boolean }> {
  const { attachments, messages } = deps
  const { fields, stored } = await readMultipart<AttachmentDoc>(request, {
    fields: Object.keys(MessageFields.properties),
    onFile: async part => await attachments.upload(userId, { stream: part.file, filename: part.filename, conversationId }),
    discard: async doc => { await attachments.remove(doc._id) }
  })
  const id = String(stored._id)
  let result: { message: Message, created: boolean }
  try {
    if (!messageFields.check(fields)) {
      const problems = messageFields.errors(fields)
        .map(error => ({ field: `body${error.instancePath.replaceAll('/', '.')}`, message: error.message }))
      throw badRequest('VALIDATION_ERROR', 'Invalid message fields', problems)
    }
    const decoded = messageFields.decode(fields) as Static<typeof MessageFields>
    result = await messages.send(userId, { ...decoded, conversationId, attachmentIds: [id] })
  } catch (error) {
    await attachments.remove(stored._id).catch(() => {})
    throw error
  }
  // A retry with a used clientMsgId answers the original message, which does not carry this new upload.
  if (!result.created && !result.message.attachments.some(attachment => attachment.id === id)) {
    await attachments.remove(stored._id).catch(() => {})
  }
  return result
}
