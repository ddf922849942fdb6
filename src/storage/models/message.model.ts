import { Schema, type Connection, type Model, type Types } from 'mongoose'

/** A file as a message carries it: a copy of the attachment's metadata, so history needs no join. */
export interface MessageAttachment {
  _id: Types.ObjectId
  name: string
  size: number
  mimeType: string
}

/**
 * A message. `seq` numbers a conversation's messages 1, 2, 3... with no gaps: the unique {conversationId, seq}
 * index makes concurrent senders (on any instance) retry with the next number instead of sharing one.
 */
export interface MessageDoc {
  _id: Types.ObjectId
  conversationId: Types.ObjectId
  seq: number
  senderId: Types.ObjectId
  body: string
  attachments: MessageAttachment[]
  /** The sender's idempotency key: a retried send with the same key returns the stored message. */
  clientMsgId?: string
  replyToId?: Types.ObjectId
  editedAt?: Date
  /** Soft delete: id and seq stay, body and attachments are emptied. */
  deletedAt?: Date
  /** A deleted message's text, kept for admins only when RETAIN_DELETED_TEXT is on; never shown to users. */
  retainedBody?: string
  createdAt: Date
}

export type MessageModel = Model<MessageDoc>

const messageSchema = new Schema<MessageDoc>({
  conversationId: { type: Schema.Types.ObjectId, required: true, ref: 'Conversation' },
  seq: { type: Number, required: true },
  senderId: { type: Schema.Types.ObjectId, required: true, ref: 'User' },
  body: { type: String, default: '' },
  attachments: {
    type: [new Schema<MessageAttachment>({ name: String, size: Number, mimeType: String }, { _id: true })],
    default: []
  },
  clientMsgId: { type: String },
  replyToId: { type: Schema.Types.ObjectId },
  editedAt: { type: Date },
  deletedAt: { type: Date },
  retainedBody: { type: String }
}, { timestamps: { createdAt: true, updatedAt: false }, versionKey: false })

messageSchema.index({ conversationId: 1, seq: 1 }, { unique: true })
// Partial: only messages that carry a clientMsgId take part, so messages without one never collide.
messageSchema.index(
  { conversationId: 1, senderId: 1, clientMsgId: 1 },
  { unique: true, partialFilterExpression: { clientMsgId: { $type: 'string' } } }
)
// Admin history (admin-messages.service.ts) pages every filter by (createdAt, _id): all messages, one sender's, one
// conversation's (a participant's: a merge over their conversations), each with an optional date range.
messageSchema.index({ createdAt: 1, _id: 1 })
messageSchema.index({ senderId: 1, createdAt: 1, _id: 1 })
messageSchema.index({ conversationId: 1, createdAt: 1, _id: 1 })
// "Which live messages carry this file": attachment downloads and the orphan sweep (attachments.service.ts).
messageSchema.index({ 'attachments._id': 1 })

export function messageModel (connection: Connection): MessageModel {
  return (connection.models.Message as MessageModel | undefined) ?? connection.model<MessageDoc>('Message', messageSchema, 'messages')
}
