import { Type, type Static } from 'typebox'
import { PublicUser } from '../users/users.schemas.js'
import { Message } from '../messages/messages.schemas.js'
import { IdString, IsoDate, PageQuery } from '../../shared/schemas.js'

export { errorResponses } from '../../shared/schemas.js'

export const ConversationMember = Type.Object({
  userId: Type.String(),
  role: Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member')]),
  joinedAt: IsoDate,
  /** The member's public profile (deleted accounts show deleted: true), so a client can name senders. */
  user: PublicUser
})

export const Conversation = Type.Object({
  id: Type.String(),
  type: Type.Union([Type.Literal('direct'), Type.Literal('group')]),
  name: Type.Union([Type.String(), Type.Null()]),
  subject: Type.Union([Type.String(), Type.Null()]),
  visibility: Type.Union([Type.Literal('private'), Type.Literal('public')]),
  members: Type.Array(ConversationMember),
  createdBy: Type.String(),
  createdAt: IsoDate,
  lastActivityAt: IsoDate,
  lastSeq: Type.Integer({ minimum: 0 }),
  lastMessage: Type.Union([Message, Type.Null()]),
  unreadCount: Type.Integer({ minimum: 0, description: 'the caller\'s: lastSeq - readSeq' }),
  readSeq: Type.Integer({ minimum: 0, description: 'the caller\'s read mark' }),
  deliveredSeq: Type.Integer({ minimum: 0, description: 'the caller\'s delivered mark' })
})
export type Conversation = Static<typeof Conversation>

export const ConversationList = Type.Object({
  items: Type.Array(Conversation),
  nextCursor: Type.Union([Type.String(), Type.Null()])
})

export const CreateConversationBody = Type.Object({
  type: Type.Literal('direct', { description: 'group conversations are not built yet (docs/api.md)' }),
  userId: IdString,
  subject: Type.Optional(Type.String({ maxLength: 200 }))
}, { additionalProperties: false })
export type CreateConversationBody = Static<typeof CreateConversationBody>

export const ConversationListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false })

export const ReadBody = Type.Object({ seq: Type.Integer({ minimum: 0 }) }, { additionalProperties: false })

// ---- Socket events ----

export const TypingPayload = Type.Object({ conversationId: IdString, isTyping: Type.Boolean() }, { additionalProperties: false })

/** `delivered` and `read`: the caller's mark moves forward only, clamped to the highest stored message. */
export const ReceiptPayload = Type.Object({
  conversationId: IdString,
  seq: Type.Integer({ minimum: 0 })
}, { additionalProperties: false })
