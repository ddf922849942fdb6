import { Schema, type Connection, type Model, type Types } from 'mongoose'

/**
 * One member's marks in one conversation. Both only move forward (`$max`) and are clamped to the conversation's
 * lastSeq, so unreadCount = conversation.lastSeq - readSeq needs no message count.
 */
export interface ConversationMemberDoc {
  _id: Types.ObjectId
  conversationId: Types.ObjectId
  userId: Types.ObjectId
  /** Highest seq the user has read (their own messages count as read). */
  readSeq: number
  /** Highest seq one of the user's devices confirmed receiving. */
  deliveredSeq: number
  readAt?: Date
  deliveredAt?: Date
}

export type ConversationMemberModel = Model<ConversationMemberDoc>

const conversationMemberSchema = new Schema<ConversationMemberDoc>({
  conversationId: { type: Schema.Types.ObjectId, required: true, ref: 'Conversation' },
  userId: { type: Schema.Types.ObjectId, required: true, ref: 'User' },
  readSeq: { type: Number, default: 0 },
  deliveredSeq: { type: Number, default: 0 },
  readAt: { type: Date },
  deliveredAt: { type: Date }
}, { versionKey: false })

conversationMemberSchema.index({ conversationId: 1, userId: 1 }, { unique: true })
conversationMemberSchema.index({ userId: 1 })

export function conversationMemberModel (connection: Connection): ConversationMemberModel {
  return (connection.models.ConversationMember as ConversationMemberModel | undefined) ??
    connection.model<ConversationMemberDoc>('ConversationMember', conversationMemberSchema, 'conversation_members')
}
