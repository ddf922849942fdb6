import { Type, type Static } from 'typebox'
import { IdString, IsoDate, Nullable } from '../../shared/schemas.js'

export { errorResponses, IdString } from '../../shared/schemas.js'

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

// ---- Socket events (the gateway validates them; realtime/events.ts derives the wire types) ----

/** Exactly one of the two is needed (the service says which is missing): `receiverId` uses or creates the direct conversation. */
const Target = {
  conversationId: Type.Optional(IdString),
  receiverId: Type.Optional(IdString)
}

export const ChatMessagePayload = Type.Object({
  ...Target,
  body: MessageBody,
  clientMsgId: Type.Optional(ClientMsgId),
  replyToId: Type.Optional(IdString)
}, { additionalProperties: false })

export const ChatMessageFilePayload = Type.Object({
  ...Target,
  attachmentIds: Type.Array(IdString, { minItems: 1, maxItems: 10 }),
  body: Type.Optional(MessageBody),
  clientMsgId: Type.Optional(ClientMsgId),
  replyToId: Type.Optional(IdString)
}, { additionalProperties: false })

/** Offline catch-up: per conversation, what came after `afterSeq`; omitted conversations mean all of the caller's. */
export const SyncPayload = Type.Object({
  cursors: Type.Optional(Type.Array(Type.Object({
    conversationId: IdString,
    afterSeq: Type.Integer({ minimum: 0 })
  }, { additionalProperties: false }), { maxItems: 1000 }))
}, { additionalProperties: false })

export const MessageEditPayload = Type.Object({ messageId: IdString, body: MessageBody }, { additionalProperties: false })
export const MessageDeletePayload = Type.Object({ messageId: IdString }, { additionalProperties: false })
export const MessageDeleteResult = Type.Object({ messageId: Type.String() })

export const SyncResult = Type.Object({
  conversations: Type.Array(Type.Object({
    conversationId: Type.String(),
    messages: Type.Array(Message),
    /** More messages of this conversation: ask again from the last seq received. */
    hasMore: Type.Boolean()
  })),
  /** Something was left for the next call (a conversation's rest, or conversations over the per-ack caps). */
  hasMore: Type.Boolean()
})
