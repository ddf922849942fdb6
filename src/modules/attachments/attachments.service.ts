/**
 * Attachments: uploads streamed into GridFS with their metadata in `attachments` (within a per-user quota and
 * upload rate), the access rule for downloads, `claim`, through which the messages service attaches uploads to a
 * message, `released` for a deleted message's files, and `sweep`, which removes what no message carries.
 * Throws AppErrors.
 */
import type { Readable } from 'node:stream'
import { Types } from 'mongoose'
import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible'
import { AppError, badRequest, notFound } from '../../shared/errors.js'
import type { LimiterFactory } from '../../cluster/rate-limiters.js'
import type { AttachmentDoc, AttachmentModel } from '../../storage/models/attachment.model.js'
import type { ConversationModel } from '../../storage/models/conversation.model.js'
import type { MessageAttachment, MessageModel } from '../../storage/models/message.model.js'
import type { UserRole } from '../../storage/models/user.model.js'
import type { ConversationsService } from '../conversations/conversations.service.js'
import { objectId } from '../../shared/ids.js'
import { sanitizeFileName } from './file-name.js'
import type { GridFsStore } from './gridfs-store.js'
import { consumePoint } from '../../cluster/rate-limiters.js'

export interface AttachmentsServiceOptions {
  Attachment: AttachmentModel
  Conversation: ConversationModel
  conversations: ConversationsService
  Message: MessageModel
  store: GridFsStore
  /** Largest file accepted, in bytes (UPLOAD_MAX_BYTES, default 26214400). */
  maxBytes: number
  /** Stored bytes per user (UPLOAD_QUOTA_BYTES, default 1073741824); 0: no quota. */
  quotaBytes?: number
  /** Uploads per user per hour (RATE_LIMIT_UPLOADS, default 100); 0 or unset: no limit. */
  uploadsPerHour?: number
  /** Makes the upload limiter (the cluster's Redis-backed one); default in memory. */
  createLimiter?: LimiterFactory
  /** Age in seconds after which an upload never posted is swept (UPLOAD_ORPHAN_TTL, default 86400). */
  orphanTtlSeconds?: number
  /**
   * How long a file whose last message was deleted waits before the sweep removes it; default 30000 ms. Longer than
   * a send takes from claiming a file to storing its message, so a claim racing the release is seen by the sweep.
   */
  releaseGraceMs?: number
  /** Told when files were released, so the sweeper can run once the grace has passed. */
  onReleased?: (graceMs: number) => void
}

export const RELEASE_GRACE_MS = 30_000

/** Most uploads one sweep removes; the sweeper runs again at once while batches come back full. */
export const SWEEP_BATCH = 100

const HOUR_SECONDS = 3600

export interface UploadInput {
  /** The bytes, read once as they arrive. */
  stream: Readable
  /** The client's name for the file; sanitised before it is stored. */
  filename?: string
  /** Scope the upload to this conversation (the uploader must be a member: 404 otherwise). */
  conversationId?: string
}

export const attachmentNotFound = (): AppError => notFound('No such attachment', 'ATTACHMENT_NOT_FOUND')

const quotaExceeded = (quotaBytes: number): AppError =>
  new AppError('QUOTA_EXCEEDED', `The upload would take your stored files over the quota of ${quotaBytes} bytes`)

/** Not deleted and still carrying the file (a soft delete empties `attachments`; the deletedAt test is belt and braces). */
const carrying = (id: Types.ObjectId) => ({ 'attachments._id': id, deletedAt: { $exists: false } })

export class AttachmentsService {
  private readonly Attachment: AttachmentModel
  private readonly Conversation: ConversationModel
  private readonly conversations: ConversationsService
  private readonly Message: MessageModel
  private readonly store: GridFsStore
  readonly maxBytes: number
  private readonly quotaBytes: number
  private readonly limiter: RateLimiterAbstract | null
  private readonly orphanTtlMs: number
  private readonly releaseGraceMs: number
  private readonly onReleased: (graceMs: number) => void

  constructor (options: AttachmentsServiceOptions) {
    this.Attachment = options.Attachment
    this.Conversation = options.Conversation
    this.conversations = options.conversations
    this.Message = options.Message
    this.store = options.store
    this.maxBytes = options.maxBytes
    this.quotaBytes = options.quotaBytes ?? 0
    const perHour = options.uploadsPerHour ?? 0
    const create = options.createLimiter ?? (spec => new RateLimiterMemory(spec))
    this.limiter = perHour > 0 ? create({ keyPrefix: 'uploads', points: perHour, duration: HOUR_SECONDS }) : null
    this.orphanTtlMs = (options.orphanTtlSeconds ?? 86400) * 1000
    this.releaseGraceMs = options.releaseGraceMs ?? RELEASE_GRACE_MS
    this.onReleased = options.onReleased ?? (() => {})
  }

  /**
   * Stores an upload: membership and the upload rate first (so a refused client's bytes are never written), then
   * the bytes (cut at the smaller of the size limit and what is left of the quota), then the metadata, then the
   * quota again with every stored upload counted, so concurrent uploads cannot pass it together (the last to
   * finish sees the others and goes). 413 PAYLOAD_TOO_LARGE / QUOTA_EXCEEDED, 400 EMPTY_FILE, 429 RATE_LIMITED,
   * with nothing left behind.
   */
  async upload (userId: string, input: UploadInput): Promise<AttachmentDoc> {
    const conversation = input.conversationId !== undefined
      ? await this.conversations.requireMember(userId, input.conversationId)
      : null
    const uploaderId = objectId(userId)
    if (uploaderId === null) throw notFound('No such user', 'USER_NOT_FOUND')
    await this.consumeRate(userId)
    const left = this.quotaBytes > 0 ? this.quotaBytes - await this.storedBytes(uploaderId) : Infinity
    if (left <= 0) throw quotaExceeded(this.quotaBytes)
    const id = new Types.ObjectId()
    const name = sanitizeFileName(input.filename)
    const stored = left < this.maxBytes
      ? await this.store.write(id, name, input.stream, left, () => quotaExceeded(this.quotaBytes))
      : await this.store.write(id, name, input.stream, this.maxBytes)
    try {
      if (stored.size === 0) throw badRequest('EMPTY_FILE', 'The file is empty')
      const doc = await this.Attachment.create({
        _id: id, uploaderId, name, size: stored.size, mimeType: stored.mimeType,
        conversationIds: conversation !== null ? [conversation._id] : []
      })
      if (this.quotaBytes > 0 && await this.storedBytes(uploaderId) > this.quotaBytes) throw quotaExceeded(this.quotaBytes)
      return doc.toObject()
    } catch (error) {
      await this.Attachment.deleteOne({ _id: id })
      await this.store.delete(id)
      throw error
    }
  }

  /** The bytes of every attachment `uploaderId` has stored. */
  private async storedBytes (uploaderId: Types.ObjectId): Promise<number> {
    const [total] = await this.Attachment.aggregate<{ bytes: number }>([
      { $match: { uploaderId } }, { $group: { _id: null, bytes: { $sum: '$size' } } }
    ])
    return total?.bytes ?? 0
  }

  private async consumeRate (userId: string): Promise<void> {
    await consumePoint(this.limiter, userId, 'uploads')
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
   * (404 ATTACHMENT_NOT_FOUND otherwise), scopes them to the conversation and marks them posted (a released one
   * too: its uploader posts it again), and returns their metadata in the given order, duplicates dropped. Members
   * read a posted file once the message carrying it is stored. The caller has checked membership.
   */
  async claim (userId: string, conversationId: Types.ObjectId, attachmentIds: string[]): Promise<MessageAttachment[]> {
    const uploaderId = objectId(userId)
    const unique = [...new Set(attachmentIds)]
    const ids = unique.map(id => typeof id === 'string' ? objectId(id) : null)
    if (uploaderId === null || ids.some(id => id === null)) throw attachmentNotFound()
    const filter = { _id: { $in: ids }, uploaderId }
    const docs = await this.Attachment.find(filter).lean()
    const byId = new Map(docs.map(doc => [String(doc._id), doc]))
    const claimed = ids.map(id => {
      const doc = byId.get(String(id))
      const scopedElsewhere = doc !== undefined && doc.conversationIds.length > 0 &&
        !doc.conversationIds.some(c => c.equals(conversationId))
      if (doc === undefined || scopedElsewhere) throw attachmentNotFound()
      return { _id: doc._id, name: doc.name, size: doc.size, mimeType: doc.mimeType }
    })
    if (claimed.length > 0) {
      // Matched again in the update: one the sweep removed after the read above is not claimed.
      const result = await this.Attachment.updateMany(filter, {
        $addToSet: { conversationIds: conversationId }, $set: { postedAt: new Date() }, $unset: { releasedAt: 1 }
      })
      if (result.matchedCount < claimed.length) throw attachmentNotFound()
    }
    return claimed
  }

  /**
   * The attachment if the caller may download it. Admins always. A file posted in a message: its uploader and the
   * members of a conversation where a message still carries it; once no live message does (all deleted), nobody
   * else. A file never posted: its uploader and the members of the conversation it was uploaded for. Everyone
   * else, and malformed ids, get 404 ATTACHMENT_NOT_FOUND (nothing says it exists).
   */
  async findReadable (userId: string, role: UserRole, attachmentId: string): Promise<AttachmentDoc> {
    const id = objectId(attachmentId)
    const uid = objectId(userId)
    const doc = id !== null && uid !== null ? await this.Attachment.findById(id).lean() : null
    if (doc === null || uid === null) throw attachmentNotFound()
    if (role === 'admin') return doc
    if (doc.postedAt == null && doc.releasedAt == null) {
      if (doc.uploaderId.equals(uid)) return doc
      if (doc.conversationIds.length > 0 &&
        await this.Conversation.exists({ _id: { $in: doc.conversationIds }, memberIds: uid }) !== null) return doc
      throw attachmentNotFound()
    }
    const carriers = await this.Message.find(carrying(doc._id), { conversationId: 1 }).limit(SWEEP_BATCH).lean()
    if (carriers.length === 0) {
      // Every message carrying it was deleted (or its message was never stored): mark it for the sweep, in case
      // released() was not told. A message stored after this (a claim still in flight) clears the mark below.
      if (doc.releasedAt == null) await this.markReleased([doc._id])
      throw attachmentNotFound()
    }
    // A message carries it again (a claim that raced a release): no longer released.
    if (doc.releasedAt != null) await this.Attachment.updateOne({ _id: doc._id }, { $unset: { releasedAt: 1 } })
    if (doc.uploaderId.equals(uid)) return doc
    const conversationIds = carriers.map(message => message.conversationId)
    if (await this.Conversation.exists({ _id: { $in: conversationIds }, memberIds: uid }) !== null) return doc
    throw attachmentNotFound()
  }

  /**
   * Called by the messages service after it deleted a message, with the files the message carried: those that no
   * live message carries any more are released, and the sweep removes their bytes once the release grace passed.
   */
  async released (attachments: ReadonlyArray<{ _id: Types.ObjectId }>): Promise<void> {
    const free: Types.ObjectId[] = []
    for (const { _id: id } of attachments) {
      if (await this.Message.exists(carrying(id)) === null) free.push(id)
    }
    await this.markReleased(free)
    if (free.length > 0) this.onReleased(this.releaseGraceMs)
  }

  private async markReleased (ids: Types.ObjectId[]): Promise<void> {
    if (ids.length === 0) return
    await this.Attachment.updateMany({ _id: { $in: ids }, releasedAt: { $exists: false } }, { $set: { releasedAt: new Date() } })
  }

  /**
   * Removes (metadata, then GridFS file and chunks) up to SWEEP_BATCH uploads that no live message carries: never
   * posted and older than the orphan TTL at `now`, or released longer than the release grace ago. One a message does carry (posted before postedAt
   * existed, or re-claimed) is marked posted and kept. Deletes are conditional, so concurrent sweeps on several
   * instances and a claim racing the sweep are safe. Resolves with how many it removed.
   */
  async sweep (now: Date = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.orphanTtlMs)
    const unposted = { postedAt: { $exists: false }, releasedAt: { $exists: false }, createdAt: { $lte: cutoff } }
    const released = { releasedAt: { $lte: new Date(now.getTime() - this.releaseGraceMs) } }
    let removed = 0
    for (const filter of [unposted, released]) {
      const docs = await this.Attachment.find(filter, { _id: 1 }).limit(SWEEP_BATCH - removed).lean()
      for (const { _id: id } of docs) {
        if (await this.Message.exists(carrying(id)) !== null) {
          await this.Attachment.updateOne({ _id: id }, { $set: { postedAt: now }, $unset: { releasedAt: 1 } })
          continue
        }
        const { deletedCount } = await this.Attachment.deleteOne({ _id: id, ...filter })
        if (deletedCount === 0) continue
        await this.store.delete(id)
        removed++
      }
      if (removed >= SWEEP_BATCH) break
    }
    return removed
  }

  /** The stored bytes, all or an inclusive range. */
  read (attachmentId: Types.ObjectId, range?: { start: number, end: number }): Readable {
    return this.store.read(attachmentId, range)
  }
}
