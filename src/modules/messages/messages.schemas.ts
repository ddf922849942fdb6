import { Type, type Static } from 'typebox'

export { errorResponses } from '../users/users.schemas.js'

const IsoDate = Type.String({ format: 'date-time' })
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()])

/**
 * Ids in params and bodies are plain bounded strings: the service answers 404 for anything that is not a
 * conversation/message the caller may see, malformed ids included (they name nothing). Objects such as
 * `{"$gt": ""}` are not strings, so validation refuses them before they reach a query.
 */
export const IdString = Type.String({ minLength: 1, maxLength: 64 })
export const ClientMsgId = Type.String({ minLength: 1, maxLength: 128, description: 'the sender\'s idempotency key' })
/** The byte limit (MESSAGE_MAX_BYTES) is checked by the service; this only bounds what is parsed. */
export const MessageBody = Type.String({ maxLength: 1024 * 1024 })

export const Attachment = Type.Object({
  id: Type.String(),
  name: Type.String(),
  size: Type.Integer(),
  sizeLabel: Type.String(),
  mimeType: Type.String(),
  url: Type.String()
})
export type Attachment = Static<typeof Attachment>

export const Message = Type.Object({
  id: Type.String(),
  conversationId: Type.String(),
  seq: Type.Integer({ minimum: 1 }),
  senderId: Type.String(),
  body: Type.String(),
  attachments: Type.Array(Attachment),
  clientMsgId: Nullable(Type.String()),
  replyToId: Nullable(Type.String()),
  createdAt: IsoDate,
  editedAt: Nullable(IsoDate),
  deletedAt: Nullable(IsoDate)
})
export type Message = Static<typeof Message>

export const MessagePage = Type.Object({
  items: Type.Array(Message, { description: 'ascending seq' }),
  hasMore: Type.Boolean({ description: 'more messages exist in the paging direction (older by default and with beforeSeq, newer with afterSeq)' })
})

export const ConversationIdParams = Type.Object({ id: IdString })
export const MessageIdParams = Type.Object({ id: IdString })

export const MessageListQuery = Type.Object({
  beforeSeq: Type.Optional(Type.Integer({ minimum: 1 })),
  afterSeq: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 }))
}, { additionalProperties: false })
export type MessageListQuery = Static<typeof MessageListQuery>

export const SendMessageBody = Type.Object({
  body: Type.Optional(MessageBody),
  attachmentIds: Type.Optional(Type.Array(IdString, { maxItems: 10 })),
  clientMsgId: Type.Optional(ClientMsgId),
  replyToId: Type.Optional(IdString)
}, { additionalProperties: false })
export type SendMessageBody = Static<typeof SendMessageBody>

export const EditMessageBody = Type.Object({ body: MessageBody }, { additionalProperties: false })
