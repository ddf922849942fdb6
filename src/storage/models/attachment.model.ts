import { Schema, type Connection, type Model, type Types } from 'mongoose'

/**
 * An uploaded file's metadata. The bytes live in the GridFS bucket `attachments` under the same `_id`, so
 * every instance can serve every file; this document is what access checks read (a GridFS file without one is
 * invisible).
 */
export interface AttachmentDoc {
  _id: Types.ObjectId
  uploaderId: Types.ObjectId
  /** The sanitised file name (never a path). */
  name: string
  size: number
  /** Detected from the content, never taken from the client. */
  mimeType: string
  /** Conversations it was posted in or uploaded for: their members may download it. */
  conversationIds: Types.ObjectId[]
  /** Last claimed for a message. Unset: never posted, so removed once older than UPLOAD_ORPHAN_TTL. */
  postedAt?: Date
  /** When no live message carried it any more (all deleted): only admins read it, removed UPLOAD_ORPHAN_TTL later. */
  releasedAt?: Date
  createdAt: Date
}

export type AttachmentModel = Model<AttachmentDoc>

const attachmentSchema = new Schema<AttachmentDoc>({
  uploaderId: { type: Schema.Types.ObjectId, required: true, ref: 'User' },
  name: { type: String, required: true },
  size: { type: Number, required: true },
  mimeType: { type: String, required: true },
  conversationIds: { type: [Schema.Types.ObjectId], default: [] },
  postedAt: { type: Date },
  releasedAt: { type: Date }
}, { timestamps: { createdAt: true, updatedAt: false }, versionKey: false })

// Reads and claims go by _id; this one serves "a user's uploads, newest first" (quota, cleanup of unposted files).
attachmentSchema.index({ uploaderId: 1, createdAt: -1 })
// The orphan sweep: unposted uploads by age, released ones by release time.
attachmentSchema.index({ postedAt: 1, createdAt: 1 })
attachmentSchema.index({ releasedAt: 1 })

/** The Attachment model on the given connection (registered once per connection). */
export function attachmentModel (connection: Connection): AttachmentModel {
  return (connection.models.Attachment as AttachmentModel | undefined) ??
    connection.model<AttachmentDoc>('Attachment', attachmentSchema, 'attachments')
}
