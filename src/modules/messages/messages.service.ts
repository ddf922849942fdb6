/**
 * Messages: sending (gap-free per-conversation seq, clientMsgId idempotency, rate limit), paging, editing,
 * soft deletion and offline catch-up (sync). Used by the REST routes and the socket events alike; delivery
 * goes through the Notifier, so a REST send reaches sockets exactly like a socket send. Throws AppErrors only.
 */
import { Types } from 'mongoose'
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import { AppError, badRequest, forbidden, notFound } from '../../errors/app-error.js'
import type { ConversationDoc, ConversationModel } from '../../storage/models/conversation.model.js'
import type { MessageDoc, MessageModel } from '../../storage/models/message.model.js'
import type { UserRole } from '../../storage/models/user.model.js'
import type { Notifier } from '../../realtime/contracts.js'
import { rateLimited } from '../auth/login-limiter.js'
import { objectId, type ConversationsService } from '../conversations/conversations.service.js'
import { KeyedSerialQueue } from './keyed-serial-queue.js'
import type { Message } from './messages.schemas.js'
import { toMessage } from './messages.view.js'

export interface MessagesServiceOptions {
  Conversation: ConversationModel
  Message: MessageModel
  conversations: ConversationsService
  notifier: () => Notifier
  /** Largest body in UTF-8 bytes (MESSAGE_MAX_BYTES). */
  maxBytes: number
  /** Messages per user per 10 s; 0 disables. */
  ratePerTenSeconds: number
  /** Default: an in-memory limiter (per instance). */
  createLimiter?: (options: { keyPrefix: string, points: number, duration: number }) => RateLimiterAbstract
}

export interface SendInput {
  conversationId?: string
  receiverId?: string
  body?: string
  attachmentIds?: string[]
  clientMsgId?: string
  replyToId?: string
}

export interface ListOptions { beforeSeq?: number, afterSeq?: number, limit?: number }

/** Most messages one sync answers per conversation; the client asks again from the last seq it got. */
export const SYNC_PAGE = 100
const MAX_SEQ_RETRIES = 10_000

export const messageNotFound = (): AppError => notFound('No such message', 'MESSAGE_NOT_FOUND')
const isDuplicateKey = (error: unknown): boolean => (error as { code?: number })?.code === 11000

export class MessagesService {
  private readonly Conversation: ConversationModel
  private readonly Message: MessageModel
  private readonly conversations: ConversationsService
  private readonly notifier: () => Notifier
  /** Claims seqs one send at a time per conversation (within this instance). */
  private readonly seqQueue = new KeyedSerialQueue()
  /** conversationId -> the last seq claimed here, while sends to it are queued. */
  private readonly seqHints = new Map<string, number>()
  private readonly maxBytes: number
  private readonly limiter: RateLimiterAbstract | null

  constructor (options: MessagesServiceOptions) {
    this.Conversation = options.Conversation
    this.Message = options.Message
    this.conversations = options.conversations
    this.notifier = options.notifier
    this.maxBytes = options.maxBytes
    const create = options.createLimiter ?? (o => new RateLimiterMemory(o))
    this.limiter = options.ratePerTenSeconds > 0 ? create({ keyPrefix: 'messages', points: options.ratePerTenSeconds, duration: 10 }) : null
  }

  /** Throws 400 for an empty body, 413 PAYLOAD_TOO_LARGE over maxBytes. */
  checkBody (body: string): void {
    if (body.trim() === '') throw badRequest('EMPTY_MESSAGE', 'The message body is empty')
    if (Buffer.byteLength(body, 'utf8') > this.maxBytes) {
      throw new AppError(413, 'PAYLOAD_TOO_LARGE', `The message body is over ${this.maxBytes} bytes`)
    }
  }

  private async consumeRate (userId: string): Promise<void> {
    if (this.limiter === null) return
    try {
      await this.limiter.consume(userId)
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        const e = rateLimited(error.msBeforeNext)
        throw new AppError(429, 'RATE_LIMITED', `Too many messages, retry in ${(e.details as { retryAfterSeconds: number }).retryAfterSeconds} s`, e.details)
      }
      throw error
    }
  }

  /**
   * Stores a message and delivers it (`re_message` to every member socket except `exceptSocketId`). Resolves
   * only once stored. A clientMsgId the sender already used in the conversation returns the original
   * (`created: false`): nothing stored twice, no seq consumed, nothing re-delivered.
   */
  async send (senderId: string, input: SendInput, exceptSocketId?: string): Promise<{ message: Message, created: boolean }> {
    await this.consumeRate(senderId)
    if ((input.attachmentIds?.length ?? 0) > 0) {
      throw new AppError(501, 'NOT_IMPLEMENTED', 'Attachments are not available yet')
    }
    const body = input.body ?? ''
    this.checkBody(body)
    let conversation: ConversationDoc
    if (input.conversationId !== undefined && input.receiverId !== undefined) {
      throw badRequest('VALIDATION_ERROR', 'Send conversationId or receiverId, not both')
    } else if (input.conversationId !== undefined) {
      conversation = await this.conversations.requireMember(senderId, input.conversationId)
    } else if (input.receiverId !== undefined) {
      conversation = (await this.conversations.openDirect(senderId, input.receiverId)).conversation
    } else {
      throw badRequest('VALIDATION_ERROR', 'Send conversationId or receiverId')
    }
    const conversationId = conversation._id
    const sender = new Types.ObjectId(senderId)
    if (input.clientMsgId !== undefined) {
      const original = await this.Message.findOne({ conversationId, senderId: sender, clientMsgId: input.clientMsgId }).lean()
      if (original !== null) return { message: toMessage(original), created: false }
    }
    let replyToId: Types.ObjectId | undefined
    if (input.replyToId !== undefined) {
      const id = objectId(input.replyToId)
      const target = id !== null ? await this.Message.exists({ _id: id, conversationId }) : null
      if (target === null) throw badRequest('REPLY_NOT_FOUND', 'replyToId names no message of this conversation')
      replyToId = id as Types.ObjectId
    }

    const key = String(conversationId)
    const doc = await this.seqQueue.run(key, async () => {
      // While sends are queued here, the seq just claimed is newer than any `conversation` read before queueing.
      const inserted = await this.insertNext({ ...conversation, lastSeq: Math.max(conversation.lastSeq, this.seqHints.get(key) ?? 0) }, {
        conversationId, senderId: sender, body, attachments: [], clientMsgId: input.clientMsgId, replyToId
      })
      if (inserted.created) {
        const stored = inserted.message
        this.seqHints.set(key, stored.seq)
        // lastSeq only grows: a slower sender elsewhere with a smaller seq must not move it back. A new message un-hides.
        const advanced = await this.Conversation.updateOne(
          { _id: conversationId, lastSeq: { $lt: stored.seq } },
          { $set: { lastSeq: stored.seq, lastMessage: stored, lastActivityAt: stored.createdAt, hiddenFor: [] } }
        )
        if (advanced.matchedCount === 0) await this.Conversation.updateOne({ _id: conversationId }, { $set: { hiddenFor: [] } })
      }
      return inserted
    }).finally(() => {
      if (!this.seqQueue.busy(key)) this.seqHints.delete(key)
    })
    if (!doc.created) return { message: toMessage(doc.message), created: false }
    const stored = doc.message
    const message = toMessage(stored)
    // Stored: deliver now, then record that the sender has read what they wrote (keeps unreadCount =
    // lastSeq - readSeq right without counting).
    this.notifier().toConversation(String(conversationId), 're_message', { message }, { exceptSocketId })
    await this.conversations.moveMark({ ...conversation, lastSeq: stored.seq }, senderId, 'read', stored.seq)
    return { message, created: true }
  }

  /**
   * Inserts with seq = lastSeq + 1; a duplicate seq (another sender won it) re-reads the true highest seq from
   * the index and tries the next one. A duplicate clientMsgId means a concurrent retry of this very message.
   */
  private async insertNext (conversation: ConversationDoc, fields: Omit<MessageDoc, '_id' | 'seq' | 'createdAt'>): Promise<{ message: MessageDoc, created: boolean }> {
    let seq = conversation.lastSeq + 1
    for (let attempt = 0; attempt < MAX_SEQ_RETRIES; attempt++) {
      try {
        const created = await this.Message.create({ ...fields, seq })
        return { message: created.toObject(), created: true }
      } catch (error) {
        if (!isDuplicateKey(error)) throw error
        const pattern = (error as { keyPattern?: Record<string, unknown> }).keyPattern ?? {}
        if ('clientMsgId' in pattern || (!('seq' in pattern) && fields.clientMsgId !== undefined)) {
          const original = await this.Message.findOne({ conversationId: fields.conversationId, senderId: fields.senderId, clientMsgId: fields.clientMsgId }).lean()
          if (original !== null) return { message: original, created: false }
        }
        const latest = await this.Message.findOne({ conversationId: fields.conversationId }, { seq: 1 }).sort({ seq: -1 }).lean()
        seq = Math.max(seq, latest?.seq ?? 0) + 1
      }
    }
    throw new AppError(503, 'BUSY', 'The conversation is too busy, retry')
  }

  /** A page in ascending seq: the latest by default, older than beforeSeq, or newer than afterSeq. */
  async list (userId: string, conversationId: string, options: ListOptions = {}): Promise<{ items: Message[], hasMore: boolean }> {
    const conversation = await this.conversations.requireMember(userId, conversationId)
    return await this.page(conversation._id, options)
  }

  private async page (conversationId: Types.ObjectId, options: ListOptions): Promise<{ items: Message[], hasMore: boolean }> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 200)
    const range: Record<string, number> = {}
    if (options.afterSeq !== undefined) range.$gt = options.afterSeq
    if (options.beforeSeq !== undefined) range.$lt = options.beforeSeq
    const filter: Record<string, unknown> = { conversationId }
    if (Object.keys(range).length > 0) filter.seq = range
    const forward = options.afterSeq !== undefined
    const docs = await this.Message.find(filter).sort({ seq: forward ? 1 : -1 }).limit(limit + 1).lean()
    const page = docs.slice(0, limit)
    if (!forward) page.reverse()
    return { items: page.map(toMessage), hasMore: docs.length > limit }
  }

  /** A message the caller can see (member of its conversation); 404 otherwise. */
  private async visible (userId: string, messageId: string, role?: UserRole): Promise<{ doc: MessageDoc, conversation: ConversationDoc | null }> {
    const id = objectId(messageId)
    const doc = id !== null ? await this.Message.findById(id).lean() : null
    if (doc === null) throw messageNotFound()
    if (role === 'admin') return { doc, conversation: null }
    try {
      return { doc, conversation: await this.conversations.requireMember(userId, String(doc.conversationId)) }
    } catch {
      throw messageNotFound()
    }
  }

  /** Sender only; `message_updated` to the conversation. 409 MESSAGE_DELETED for a deleted message. */
  async edit (userId: string, messageId: string, body: string, exceptSocketId?: string): Promise<Message> {
    const { doc } = await this.visible(userId, messageId)
    if (String(doc.senderId) !== userId) throw forbidden('Only the sender can edit a message', 'NOT_SENDER')
    if (doc.deletedAt != null) throw new AppError(409, 'MESSAGE_DELETED', 'The message was deleted')
    this.checkBody(body)
    const updated = await this.Message.findOneAndUpdate(
      { _id: doc._id, deletedAt: { $exists: false } }, { $set: { body, editedAt: new Date() } }, { returnDocument: 'after', lean: true }
    )
    if (updated === null) throw new AppError(409, 'MESSAGE_DELETED', 'The message was deleted')
    await this.Conversation.updateOne({ _id: doc.conversationId, 'lastMessage._id': doc._id }, { $set: { lastMessage: updated } })
    const message = toMessage(updated)
    this.notifier().toConversation(String(doc.conversationId), 'message_updated', { message }, { exceptSocketId })
    return message
  }

  /**
   * Soft delete by the sender or a platform admin: id and seq stay, body and attachments go, deletedAt is set.
   * Deleting again is a no-op. `message_deleted` to the conversation.
   */
  async remove (userId: string, role: UserRole, messageId: string, exceptSocketId?: string): Promise<{ messageId: string }> {
    const { doc } = await this.visible(userId, messageId, role)
    if (String(doc.senderId) !== userId && role !== 'admin') throw forbidden('Only the sender can delete a message', 'NOT_SENDER')
    if (doc.deletedAt != null) return { messageId }
    const updated = await this.Message.findOneAndUpdate(
      { _id: doc._id, deletedAt: { $exists: false } },
      { $set: { body: '', attachments: [], deletedAt: new Date() } },
      { returnDocument: 'after', lean: true }
    )
    if (updated === null) return { messageId }
    await this.Conversation.updateOne({ _id: doc.conversationId, 'lastMessage._id': doc._id }, { $set: { lastMessage: updated } })
    this.notifier().toConversation(String(doc.conversationId), 'message_deleted', {
      conversationId: String(doc.conversationId), messageId: String(doc._id), seq: doc.seq
    }, { exceptSocketId })
    return { messageId: String(doc._id) }
  }

  /**
   * Catch-up after a reconnect. Each cursor answers the messages after its afterSeq (a 404 if the caller is not a
   * member). Every other conversation of the caller answers what none of the caller's devices confirmed as
   * delivered (after the deliveredSeq mark), and only when there is something. At most SYNC_PAGE messages per
   * conversation; `hasMore` says to ask again with the last seq received.
   */
  async sync (userId: string, cursors: Array<{ conversationId: string, afterSeq: number }> = []): Promise<{ conversations: Array<{ conversationId: string, messages: Message[], hasMore: boolean }> }> {
    const wanted = new Map<string, { id: Types.ObjectId, afterSeq: number }>()
    for (const cursor of cursors) {
      const conversation = await this.conversations.requireMember(userId, cursor.conversationId)
      wanted.set(String(conversation._id), { id: conversation._id, afterSeq: cursor.afterSeq })
    }
    const uid = new Types.ObjectId(userId)
    const all = await this.Conversation.find({ memberIds: uid }, { _id: 1, lastSeq: 1 }).lean()
    const marks = await this.conversations.marksOf(userId, all.map(doc => doc._id))
    for (const doc of all) {
      const key = String(doc._id)
      const delivered = marks.get(key)?.deliveredSeq ?? 0
      if (!wanted.has(key) && doc.lastSeq > delivered) wanted.set(key, { id: doc._id, afterSeq: delivered })
    }
    const conversations = []
    for (const [conversationId, { id, afterSeq }] of wanted) {
      const { items, hasMore } = await this.page(id, { afterSeq, limit: SYNC_PAGE })
      conversations.push({ conversationId, messages: items, hasMore })
    }
    return { conversations }
  }
}
