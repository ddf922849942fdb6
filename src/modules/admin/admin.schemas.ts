/** The admin API's shapes: query filters, the admin views of messages, users and audit entries, stats. */
import { Type, type Static } from 'typebox'
import { IsoDate, Nullable, ObjectIdString, PageQuery, SearchText } from '../../shared/schemas.js'
import { Message } from '../messages/messages.schemas.js'
import { OwnUser, PublicUser } from '../users/users.schemas.js'
import { Conversation } from '../conversations/conversations.schemas.js'
import { AUDIT_ACTIONS, AUDIT_STATUSES, type AuditAction, type AuditStatus } from '../../storage/models/audit-entry.model.js'

/** One of the given strings (an enum keeps the literal type, which a union built from a mapped array loses). */
const literals = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] })

const AuditActionSchema = literals<AuditAction>(AUDIT_ACTIONS)
const AuditStatusSchema = literals<AuditStatus>(AUDIT_STATUSES)

export { errorResponses } from '../../shared/schemas.js'

const Order = Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc', description: 'by (createdAt, id); default asc' })

/** The history filters, shared by the list and the export; every one optional, all combined with AND. */
export const MessageFilters = {
  conversationId: Type.Optional(ObjectIdString),
  senderId: Type.Optional(ObjectIdString),
  participantId: Type.Optional(ObjectIdString),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'createdAt >= from (inclusive)' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'createdAt < to (exclusive)' })),
  q: Type.Optional(SearchText(200, 'text the message contains, case-insensitive, literal (no patterns)')),
  hasAttachment: Type.Optional(Type.Boolean()),
  includeDeleted: Type.Optional(Type.Boolean({ default: false })),
  order: Type.Optional(Order)
}

export const MessageSearchQuery = Type.Object({ ...MessageFilters, ...PageQuery }, { additionalProperties: false })
export type MessageSearchQuery = Static<typeof MessageSearchQuery>
export const MessageExportQuery = Type.Object(MessageFilters, { additionalProperties: false })
export type MessageExportQuery = Static<typeof MessageExportQuery>

export const AdminMessage = Type.Object({
  ...Message.properties,
  /** A deleted message's text, only with RETAIN_DELETED_TEXT (null otherwise, and for live messages). */
  retainedBody: Nullable(Type.String()),
  conversation: Type.Object({
    id: Type.String(),
    type: Type.Union([Type.Literal('direct'), Type.Literal('group')]),
    name: Nullable(Type.String())
  }),
  sender: PublicUser
})
export type AdminMessage = Static<typeof AdminMessage>

export const AdminMessagePage = Type.Object({ items: Type.Array(AdminMessage), nextCursor: Nullable(Type.String()) })

export const AdminConversationsQuery = Type.Object({
  userId: Type.Optional(ObjectIdString),
  type: Type.Optional(Type.Union([Type.Literal('direct'), Type.Literal('group')])),
  search: Type.Optional(SearchText(100, 'prefix of a group name (case-insensitive)')),
  ...PageQuery
}, { additionalProperties: false })
export type AdminConversationsQuery = Static<typeof AdminConversationsQuery>
export const AdminConversationPage = Type.Object({ items: Type.Array(Conversation), nextCursor: Nullable(Type.String()) })

export const AdminUser = Type.Object({ ...OwnUser.properties, disabled: Type.Boolean() })
export type AdminUser = Static<typeof AdminUser>
export const AdminUsersQuery = Type.Object({
  search: Type.Optional(SearchText(64, 'prefix of a username, email, first or last name (case-insensitive)')),
  role: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('admin')])),
  disabled: Type.Optional(Type.Boolean()),
  ...PageQuery
}, { additionalProperties: false })
export type AdminUsersQuery = Static<typeof AdminUsersQuery>
export const AdminUserPage = Type.Object({ items: Type.Array(AdminUser), nextCursor: Nullable(Type.String()) })
export const AdminUserPatch = Type.Object({
  role: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('admin')])),
  disabled: Type.Optional(Type.Boolean())
}, { additionalProperties: false, minProperties: 1 })
export type AdminUserPatch = Static<typeof AdminUserPatch>

export const AuditQuery = Type.Object({
  actorId: Type.Optional(ObjectIdString),
  action: Type.Optional(AuditActionSchema),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  ...PageQuery
}, { additionalProperties: false })
export type AuditQuery = Static<typeof AuditQuery>

export const AuditEntry = Type.Object({
  id: Type.String(),
  actorId: Type.String(),
  action: AuditActionSchema,
  at: IsoDate,
  ip: Type.String(),
  route: Type.String(),
  params: Type.Record(Type.String(), Type.Unknown()),
  targetId: Nullable(Type.String()),
  resultCount: Nullable(Type.Integer()),
  status: AuditStatusSchema,
  completedAt: Nullable(IsoDate)
})
export type AuditEntry = Static<typeof AuditEntry>
export const AuditPage = Type.Object({ items: Type.Array(AuditEntry), nextCursor: Nullable(Type.String()) })

export const Stats = Type.Object({
  users: Type.Object({ total: Type.Integer(), admins: Type.Integer(), disabled: Type.Integer() }),
  conversations: Type.Object({ direct: Type.Integer(), group: Type.Integer() }),
  messages: Type.Object({ total: Type.Integer(), last24h: Type.Integer() }),
  onlineUsers: Type.Integer({ description: 'across the cluster' }),
  instances: Type.Array(Type.Object({ instanceId: Type.String(), sockets: Type.Integer() }), {
    description: 'connected sockets per instance that answered (fetchSockets through the adapter)'
  })
})
export type Stats = Static<typeof Stats>
