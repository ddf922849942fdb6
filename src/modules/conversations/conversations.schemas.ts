import { Type, type Static } from 'typebox'
import { PublicUser } from '../users/users.schemas.js'
import { Message } from '../messages/messages.schemas.js'
import { IdString, IsoDate, ObjectIdString, PageQuery, SearchText } from '../../shared/schemas.js'

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

export const GroupName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' })
export const Subject = Type.String({ maxLength: 200 })
export const Visibility = Type.Union([Type.Literal('private'), Type.Literal('public')])
/** Most user ids one create or add call takes (a group grows past it with several calls). */
export const MAX_IDS_PER_CALL = 100

export const CreateDirectBody = Type.Object({
  type: Type.Literal('direct'),
  userId: IdString,
  subject: Type.Optional(Subject)
}, { additionalProperties: false })

export const CreateGroupBody = Type.Object({
  type: Type.Literal('group'),
  name: GroupName,
  subject: Type.Optional(Subject),
  memberIds: Type.Array(ObjectIdString, { maxItems: MAX_IDS_PER_CALL }),
  visibility: Type.Optional(Visibility)
}, { additionalProperties: false })

export const CreateConversationBody = Type.Union([CreateDirectBody, CreateGroupBody])
export type CreateConversationBody = Static<typeof CreateConversationBody>

export const UpdateGroupBody = Type.Object({
  name: Type.Optional(GroupName),
  subject: Type.Optional(Subject),
  visibility: Type.Optional(Visibility)
}, { additionalProperties: false, minProperties: 1 })

export const AddMembersBody = Type.Object({
  userIds: Type.Array(ObjectIdString, { minItems: 1, maxItems: MAX_IDS_PER_CALL })
}, { additionalProperties: false })

export const MemberParams = Type.Object({ id: IdString, userId: ObjectIdString })

export const SetRoleBody = Type.Object({
  role: Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member')])
}, { additionalProperties: false })

export const PublicGroupsQuery = Type.Object({
  search: Type.Optional(SearchText(100, 'prefix of the group name (case-insensitive)')),
  ...PageQuery
}, { additionalProperties: false })

export const ReceiptsQuery = Type.Object({ seq: Type.Integer({ minimum: 1 }) }, { additionalProperties: false })

export const Receipts = Type.Object({
  seq: Type.Integer(),
  delivered: Type.Array(Type.String(), { description: 'members whose delivered mark is at or past seq' }),
  read: Type.Array(Type.String(), { description: 'members whose read mark is at or past seq' })
})

export const ConversationListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false })

export const ReadBody = Type.Object({ seq: Type.Integer({ minimum: 0 }) }, { additionalProperties: false })

// ---- Socket events ----

export const TypingPayload = Type.Object({ conversationId: IdString, isTyping: Type.Boolean() }, { additionalProperties: false })

/** `delivered` and `read`: the caller's mark moves forward only, clamped to the highest stored message. */
export const ReceiptPayload = Type.Object({
  conversationId: IdString,
  seq: Type.Integer({ minimum: 0 })
}, { additionalProperties: false })
