/**
 * Messages: sending (gap-free per-conversation seq, clientMsgId idempotency, rate limit), paging, editing,
 * soft deletion and offline catch-up (sync). Used by the REST routes and the socket events alike; delivery
 * goes through the Notifier, so a REST send reaches sockets exactly like a socket send. Throws AppErrors only.
 */
import { Types } from 'mongoose'
import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible'
import { AppError, badRequest, forbidden, notFound } from '../../shared/errors.js'
import type { ConversationDoc, ConversationModel } from '../../storage/models/conversation.model.js'
import type { MessageDoc, MessageModel } from '../../storage/models/message.model.js'
import type { UserRole } from '../../storage/models/user.model.js'
import type { Notifier } from '../../realtime/contracts.js'
import { conversationNotFound, type ConversationsService } from '../conversations/conversations.service.js'
import { objectId } from '../../shared/ids.js'
import { syncMessages, type SyncAnswer, type SyncCursor } from './message-sync.js'
import type { ConversationMemberModel } from '../../storage/models/conversation-member.model.js'
import type { MessageAttachment } from '../../storage/models/message.model.js'
import { MessageWriter } from './message-writer.js'
import type { Message } from './messages.schemas.js'
import { toMessage } from './messages.view.js'
import { consumePoint } from '../../cluster/rate-limiters.js'

/** What the messages service needs from attachments (the attachments module provides it). */
export interface AttachmentClaimer {
  /** The sender's uploads, for a message of this conversation; 404 ATTACHMENT_NOT_FOUND otherwise. Members can read them once the message is stored. */
  claim: (userId: string, conversationId: Types.ObjectId, attachmentIds: string[]) => Promise<MessageAttachment[]>
  /** A deleted message's files: no longer served to members, and swept once no live message carries them. */
  released: (attachments: ReadonlyArray<{ _id: Types.ObjectId }>) => Promise<void>
}

export interface MessagesServiceOptions {
  Conversation: ConversationModel
  ConversationMember: ConversationMemberModel
  Message: MessageModel
  conversations: ConversationsService
  /** How stored messages reach sockets on every instance. */
  notifier: Notifier
  /** Checks and claims the uploads a message carries. */
  attachments: AttachmentClaimer
  /** Reports bookkeeping writes that failed after messages were stored. */
  onError?: (error: unknown) => void
  /** Largest body in UTF-8 bytes (MESSAGE_MAX_BYTES). */
  maxBytes: number
  /** Messages per user per 10 s; 0 disables. */
  ratePerTenSeconds: number
  /** Keep a deleted message's text for admins (RETAIN_DELETED_TEXT); default false. */
  retainDeletedText?: boolean
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

export const messageNotFound = (): AppError => notFound('No such message', 'MESSAGE_NOT_FOUND')

export class MessagesService {
  private readonly Conversation: ConversationModel
  private readonly Message: MessageModel
  private readonly conversations: ConversationsService
  private readonly notifier: Notifier
  private readonly attachments: AttachmentClaimer
  /** The group-commit writer (its `stats` are exposed for metrics and tests). */
  readonly writer: MessageWriter
  private readonly maxBytes: number
  private readonly retainDeletedText: boolean
  private readonly limiter: RateLimiterAbstract | null

  constructor (options: MessagesServiceOptions) {
    this.Conversation = options.Conversation
    this.Message = options.Message
    this.conversations = options.conversations
    this.notifier = options.notifier
    this.attachments = options.attachments
    this.writer = new MessageWriter({
      Conversation: options.Conversation,
      ConversationMember: options.ConversationMember,
      Message: options.Message,
      onError: options.onError
    })
    this.maxBytes = options.maxBytes
    this.retainDeletedText = options.retainDeletedText ?? false
    const create = options.createLimiter ?? (o => new RateLimiterMemory(o))
    this.limiter = options.ratePerTenSeconds > 0 ? create({ keyPrefix: 'messages', points: options.ratePerTenSeconds, duration: 10 }) : null
  }

  /** Throws 400 for an empty body, 413 PAYLOAD_TOO_LARGE over maxBytes. */
  checkBody (body: string): void {
    if (body.trim() === '') throw badRequest('EMPTY_MESSAGE', 'The message body is empty')
    if (Buffer.byteLength(body, 'utf8') > this.maxBytes) {
      throw new AppError('PAYLOAD_TOO_LARGE', `The message body is over ${this.maxBytes} bytes`)
    }
  }

  private async consumeRate (userId: string): Promise<void> {
    await consumePoint(this.limiter, userId, 'messages')
  }

  /**
   * Stores a message and delivers it (`re_message`, or `re_message_file` when it carries files, to every member
   * socket except `exceptSocketId`). Resolves only once stored. A clientMsgId the sender already used in the
   * conversation returns the original (`created: false`): nothing stored twice, no seq consumed, nothing re-delivered.
   * Membership is checked by the writer in the same read that numbers the message (see message-writer.ts).
   */
  async send (senderId: string, input: SendInput, exceptSocketId?: string): Promise<{ message: Message, created: boolean }> {
    await this.consumeRate(senderId)
    const attachmentIds = input.attachmentIds ?? []
    const claimer = attachmentIds.length > 0 ? this.attachments : undefined
    const body = input.body ?? ''
    // A file may go alone; text alone must say something.
    if (attachmentIds.length === 0 || body !== '') this.checkBody(body)
    let conversationId: Types.ObjectId
    if (input.conversationId !== undefined && input.receiverId !== undefined) {
      throw badRequest('VALIDATION_ERROR', 'Send conversationId or receiverId, not both')
    } else if (input.conversationId !== undefined) {
      const id = objectId(input.conversationId)
      if (id === null) throw conversationNotFound()
      // Replies and files read other documents by id: prove membership before that.
      if (input.replyToId !== undefined || claimer !== undefined) await this.conversations.requireMember(senderId, input.conversationId)
      conversationId = id
    } else if (input.receiverId !== undefined) {
      conversationId = (await this.conversations.openDirect(senderId, input.receiverId)).conversation._id
    } else {
      throw badRequest('VALIDATION_ERROR', 'Send conversationId or receiverId')
    }
    let replyToId: Types.ObjectId | undefined
    if (input.replyToId !== undefined) {
      const id = objectId(input.replyToId)
      const target = id !== null ? await this.Message.exists({ _id: id, conversationId }) : null
      if (target === null) throw badRequest('REPLY_NOT_FOUND', 'replyToId names no message of this conversation')
      replyToId = id as Types.ObjectId
    }
    const attachments = claimer !== undefined ? await claimer.claim(senderId, conversationId, attachmentIds) : []
    const written = await this.writer.write({
      conversationId, senderId: new Types.ObjectId(senderId), body, attachments, clientMsgId: input.clientMsgId, replyToId
    }, doc => { this.deliver(doc, exceptSocketId) })
    return { message: toMessage(written.message), created: written.created }
  }

  /** The writer's delivery of a stored message. */
  private deliver (doc: MessageDoc, exceptSocketId: string | undefined): void {
    const event = doc.attachments.length > 0 ? 're_message_file' : 're_message'
    this.notifier.toConversation(String(doc.conversationId), event, { message: toMessage(doc) }, { exceptSocketId })
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
    // Edits and deletes fan out to every member like sends, so they share the sender's budget.
    await this.consumeRate(userId)
    const { doc } = await this.visible(userId, messageId)
    if (String(doc.senderId) !== userId) throw forbidden('Only the sender can edit a message', 'NOT_SENDER')
    if (doc.deletedAt != null) throw new AppError('MESSAGE_DELETED', 'The message was deleted')
    this.checkBody(body)
    const updated = await this.Message.findOneAndUpdate(
      { _id: doc._id, deletedAt: { $exists: false } }, { $set: { body, editedAt: new Date() } }, { returnDocument: 'after', lean: true }
    )
    if (updated === null) throw new AppError('MESSAGE_DELETED', 'The message was deleted')
    // A delete that lands meanwhile wins: its copy is never overwritten by this edit's, and no update follows it.
    await this.Conversation.updateOne(
      { _id: doc.conversationId, 'lastMessage._id': doc._id, 'lastMessage.deletedAt': { $exists: false } }, { $set: { lastMessage: updated } }
    )
    if (await this.Message.exists({ _id: doc._id, deletedAt: { $exists: false } }) === null) {
      throw new AppError('MESSAGE_DELETED', 'The message was deleted')
    }
    const message = toMessage(updated)
    this.notifier.toConversation(String(doc.conversationId), 'message_updated', { message }, { exceptSocketId })
    return message
  }

  /**
   * Soft delete by the sender, a group's owner or admins, or a platform admin: id and seq stay, body and attachments
   * go (the text stays in `retainedBody`, for admins only, with RETAIN_DELETED_TEXT), deletedAt is set, and files no
   * other message carries are released for removal. Deleting again is a no-op. `message_deleted` to the conversation.
   */
  async remove (userId: string, role: UserRole, messageId: string, exceptSocketId?: string): Promise<{ messageId: string }> {
    await this.consumeRate(userId)
    const { doc, conversation } = await this.visible(userId, messageId, role)
    if (String(doc.senderId) !== userId && role !== 'admin' && !moderates(conversation, userId)) {
      throw forbidden('Only the sender, a group\'s owner or admins can delete a message', 'NOT_SENDER')
    }
    if (doc.deletedAt != null) return { messageId }
    const updated = await this.softDelete(doc)
    if (updated === null) return { messageId }
    if (doc.attachments.length > 0) await this.attachments.released(doc.attachments)
    // The conversation's copy is what members see: never the retained text.
    const { retainedBody: _retained, ...shown } = updated
    await this.Conversation.updateOne({ _id: doc.conversationId, 'lastMessage._id': doc._id }, { $set: { lastMessage: shown } })
    this.notifier.toConversation(String(doc.conversationId), 'message_deleted', {
      conversationId: String(doc.conversationId), messageId: String(doc._id), seq: doc.seq
    }, { exceptSocketId })
    return { messageId: String(doc._id) }
  }

  /**
   * Empties the message and sets deletedAt; null when it was already deleted. With RETAIN_DELETED_TEXT the text kept
   * is the one being deleted: the update matches only that body, and an edit landing in between is read and retried.
   */
  private async softDelete (doc: MessageDoc): Promise<MessageDoc | null> {
    let current: MessageDoc | null = doc
    for (let attempt = 0; attempt < 5 && current !== null && current.deletedAt == null; attempt++) {
      const keep = this.retainDeletedText && current.body !== ''
      const updated = await this.Message.findOneAndUpdate(
        { _id: current._id, deletedAt: { $exists: false }, ...keep ? { body: current.body } : {} },
        { $set: { body: '', attachments: [], deletedAt: new Date(), ...keep ? { retainedBody: current.body } : {} } },
        { returnDocument: 'after', lean: true }
      )
      if (updated !== null || !keep) return updated
      current = await this.Message.findById(current._id).lean()
    }
    return null
  }

  /** Catch-up after a reconnect, bounded per ack (message-sync.ts). */
  async sync (userId: string, cursors: SyncCursor[] = []): Promise<SyncAnswer> {
    return await syncMessages({ Conversation: this.Conversation, conversations: this.conversations, page: async (id, options) => await this.page(id, options) }, userId, cursors)
  }

}

/** A group's owner and admins moderate its messages (delete them); nobody moderates a direct conversation. */
function moderates (conversation: ConversationDoc | null, userId: string): boolean {
  if (conversation === null || conversation.type !== 'group') return false
  const role = conversation.members.find(member => String(member.userId) === userId)?.role
  return role === 'owner' || role === 'admin'
}
