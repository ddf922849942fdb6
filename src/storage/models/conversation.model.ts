import { Schema, type Connection, type Model, type Types } from 'mongoose'
import type { MessageDoc } from './message.model.js'

export const CONVERSATION_TYPES = ['direct', 'group'] as const
export type ConversationType = typeof CONVERSATION_TYPES[number]
export const MEMBER_ROLES = ['owner', 'admin', 'member'] as const
export type MemberRole = typeof MEMBER_ROLES[number]

export interface ConversationMemberEntry {
  userId: Types.ObjectId
  role: MemberRole
  joinedAt: Date
}

/**
 * A direct (1:1) or group conversation. Per-member mutable state (read/delivered marks) lives in
 * conversation_members so marking read never rewrites this document; `members` here is the roster.
 */
export interface ConversationDoc {
  _id: Types.ObjectId
  type: ConversationType
  name: string
  /** Groups: the name's case-insensitive key, for public discovery by prefix. */
  nameKey?: string
  subject: string
  visibility: 'private' | 'public'
  members: ConversationMemberEntry[]
  /** The members' ids, flat, for the multikey index the conversation list walks. */
  memberIds: Types.ObjectId[]
  /** Direct only: the two user ids sorted and joined with ':' — unique, so one direct conversation per pair. */
  directKey?: string
  /** Members who hid (deleted) a direct conversation; cleared by the next message. */
  hiddenFor: Types.ObjectId[]
  createdBy: Types.ObjectId
  /** Highest stored seq (may briefly lag the messages after a crash; senders repair it, see messages.service). */
  lastSeq: number
  /** A copy of the newest message, so the conversation list needs no message query. */
  lastMessage?: MessageDoc | null
  /** Sort key of the conversation list: the last message's time, or the creation time. */
  lastActivityAt: Date
  createdAt: Date
  updatedAt: Date
}

export type ConversationModel = Model<ConversationDoc>

const memberSchema = new Schema<ConversationMemberEntry>({
  userId: { type: Schema.Types.ObjectId, required: true, ref: 'User' },
  role: { type: String, enum: MEMBER_ROLES, default: 'member' },
  joinedAt: { type: Date, required: true }
}, { _id: false })

const conversationSchema = new Schema<ConversationDoc>({
  type: { type: String, enum: CONVERSATION_TYPES, required: true },
  name: { type: String, default: '' },
  nameKey: { type: String },
  subject: { type: String, default: '' },
  visibility: { type: String, enum: ['private', 'public'], default: 'private' },
  members: { type: [memberSchema], default: [] },
  memberIds: { type: [Schema.Types.ObjectId], default: [] },
  directKey: { type: String },
  hiddenFor: { type: [Schema.Types.ObjectId], default: [] },
  createdBy: { type: Schema.Types.ObjectId, required: true, ref: 'User' },
  lastSeq: { type: Number, default: 0 },
  lastMessage: { type: Schema.Types.Mixed, default: null },
  lastActivityAt: { type: Date, required: true }
}, { timestamps: true, versionKey: false, minimize: false })

// The database decides "one direct conversation per pair" (no check-then-insert race); sparse: groups have none.
conversationSchema.index({ directKey: 1 }, { unique: true, sparse: true })
// The conversation list: a user's conversations, latest activity first, paged by (lastActivityAt, _id).
conversationSchema.index({ memberIds: 1, lastActivityAt: -1, _id: -1 })
// Public group discovery: by name prefix, paged by (nameKey, _id).
conversationSchema.index({ visibility: 1, nameKey: 1, _id: 1 }, { partialFilterExpression: { type: 'group' } })

/** The Conversation model on the given connection (registered once per connection). */
export function conversationModel (connection: Connection): ConversationModel {
  return (connection.models.Conversation as ConversationModel | undefined) ??
    connection.model<ConversationDoc>('Conversation', conversationSchema, 'conversations')
}
