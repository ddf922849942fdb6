/**
 * Attachments: uploads streamed into GridFS with their metadata in `attachments`, the access rule for
 * downloads, and `claim`, through which the messages service attaches uploads to a message. Throws AppErrors.
 */
import type { Readable } from 'node:stream'
import { Types } from 'mongoose'
import { AppError, badRequest, notFound } from '../../shared/errors.js'
import type { AttachmentDoc, AttachmentModel } from '../../storage/models/attachment.model.js'
import type { ConversationModel } from '../../storage/models/conversation.model.js'
import type { MessageAttachment } from '../../storage/models/message.model.js'
import type { UserRole } from '../../storage/models/user.model.js'
import type { ConversationsService } from '../conversations/conversations.service.js'
import { objectId } from '../../shared/ids.js'
import { sanitizeFileName } from './file-name.js'
import type { GridFsStore } from './gridfs-store.js'

export interface AttachmentsServiceOptions {
  Attachment: AttachmentModel
  Conversation: ConversationModel
  conversations: ConversationsService
  store: GridFsStore
  /** Largest file accepted, in bytes (UPLOAD_MAX_BYTES, default 26214400). */
  maxBytes: number
}

export interface UploadInput {
  /** The bytes, read once as they arrive. */
  stream: Readable
  /** The client's name for the file; sanitised before it is stored. */
  filename?: string
  /** Scope the upload to this conversation (the uploader must be a member: 404 otherwise). */
  conversationId?: string
}

export const attachmentNotFound = (): AppError => notFound('No such attachment', 'ATTACHMENT_NOT_FOUND')

export class AttachmentsService {
  private readonly Attachment: AttachmentModel
  private readonly Conversation: ConversationModel
  private readonly conversations: ConversationsService
  private readonly store: GridFsStore
  readonly maxBytes: number

  constructor (options: AttachmentsServiceOptions) {
    this.Attachment = options.Attachment
    this.Conversation = options.Conversation
    this.conversations = options.conversations
    this.store = options.store
    this.maxBytes = options.maxBytes
  }

  /**
   * Stores an upload: membership first (so a stranger's bytes are never written), then the bytes, then the
   * metadata. 413 over the limit and 400 EMPTY_FILE for no bytes, with nothing left behind either way.
   */
  async upload (userId: string, input: UploadInput): Promise<AttachmentDoc> {
    const conversation = input.conversationId !== undefined
      ? await this.conversations.requireMember(userId, input.conversationId)
      : null
    const uploaderId = objectId(userId)
    if (uploaderId === null) throw notFound('No such user', 'USER_NOT_FOUND')
    const id = new Types.ObjectId()
    const name = sanitizeFileName(input.filename)
    const stored = await this.store.write(id, name, input.stream, this.maxBytes)
    try {
      if (stored.size === 0) throw badRequest('EMPTY_FILE', 'The file is empty')
      const doc = await this.Attachment.create({
        _id: id, uploaderId, name, size: stored.size, mimeType: stored.mimeType,
        conversationIds: conversation !== null ? [conversation._id] : []
      })
      return doc.toObject()
    } catch (error) {
      await this.store.delete(id)
      throw error
    }
  }

  /** Scopes an upload to a conversation the uploader is a member of (404 CONVERSATION_NOT_FOUND otherwise). */
  async scope (userId: string, attachmentId: Types.ObjectId, conversationId: string): Promise<AttachmentDoc> {
    const conversation = await this.conversations.requireMember(userId, conversationId)
    const doc = await this.Attachment.findOneAndUpdate(
      { _id: attachmentId }, { $addToSet: { conversationIds: conversation._id } }, { new: true }
    ).lean()
    if (doc === null) throw attachmentNotFound()
    return doc
  }

  /** Deletes an attachment's metadata and bytes (used to undo an upload whose message was not stored). */
  async remove (attachmentId: Types.ObjectId): Promise<void> {
    await this.Attachment.deleteOne({ _id: attachmentId })
    await this.store.delete(attachmentId)
  }

  /**
   * Checks that every id names an upload of `userId` that is unscoped or already scoped to `conversationId`
   * (404 ATTACHMENT_NOT_FOUND otherwise), scopes them to the conversation so its members can download them,
   * and returns their metadata in the given order, duplicates dropped. The caller has checked membership.
   */
  async claim (userId: string, conversationId: Types.ObjectId, attachmentIds: string[]): Promise<MessageAttachment[]> {
    const uploaderId = objectId(userId)
    const unique = [...new Set(attachmentIds)]
    const ids = unique.map(id => typeof id === 'string' ? objectId(id) : null)
    if (uploaderId === null || ids.some(id => id === null)) throw attachmentNotFound()
    const docs = await this.Attachment.find({ _id: { $in: ids }, uploaderId }).lean()
    const byId = new Map(docs.map(doc => [String(doc._id), doc]))
    const claimed = ids.map(id => {
      const doc = byId.get(String(id))
      const scopedElsewhere = doc !== undefined && doc.conversationIds.length > 0 &&
        !doc.conversationIds.some(c => c.equals(conversationId))
      if (doc === undefined || scopedElsewhere) throw attachmentNotFound()
      return { _id: doc._id, name: doc.name, size: doc.size, mimeType: doc.mimeType }
    })
    if (claimed.length > 0) {
      await this.Attachment.updateMany({ _id: { $in: ids } }, { $addToSet: { conversationIds: conversationId } })
    }
    return claimed
  }

  /**
   * The attachment if the caller may download it: its uploader, a member of a conversation it is scoped to, or
   * an admin. Everyone else, and malformed ids, get 404 ATTACHMENT_NOT_FOUND (nothing says it exists).
   */
  async findReadable (userId: string, role: UserRole, attachmentId: string): Promise<AttachmentDoc> {
    const id = objectId(attachmentId)
    const uid = objectId(userId)
    const doc = id !== null && uid !== null ? await this.Attachment.findById(id).lean() : null
    if (doc === null || uid === null) throw attachmentNotFound()
    if (role === 'admin' || doc.uploaderId.equals(uid)) return doc
    if (doc.conversationIds.length > 0 &&
      await this.Conversation.exists({ _id: { $in: doc.conversationIds }, memberIds: uid }) !== null) return doc
    throw attachmentNotFound()
  }

  /** The stored bytes, all or an inclusive range. */
  read (attachmentId: Types.ObjectId, range?: { start: number, end: number }): Readable {
    return this.store.read(attachmentId, range)
  }
}
