/**
 * Conversations: the direct conversation of a pair, the caller's list, membership checks, hiding, and the
 * read/delivered marks. Every read and write checks membership here (never only in a route): a conversation
 * the caller is not in is a 404, exactly like one that does not exist. Throws AppErrors only.
 */
import { Types } from 'mongoose'
import { badRequest, notFound } from '../../shared/errors.js'
import type { ConversationDoc, ConversationModel } from '../../storage/models/conversation.model.js'
import type { ConversationMemberDoc, ConversationMemberModel } from '../../storage/models/conversation-member.model.js'
import type { UserModel } from '../../storage/models/user.model.js'
import type { MessageModel } from '../../storage/models/message.model.js'
import type { Notifier } from '../../realtime/contracts.js'
import type { UsersService } from '../users/users.service.js'
import { toPublicUser } from '../users/users.view.js'
import type { PublicUser } from '../users/users.schemas.js'
import type { Conversation } from './conversations.schemas.js'
import { toConversation } from './conversations.view.js'
import type { TypingThrottle } from './typing-throttle.js'
import { cursorObjectId, cursorTime, decodeCursor, encodeCursor } from '../common/opaque-cursor.js'
import { objectId } from '../../shared/ids.js'

export interface ConversationsServiceOptions {
  Conversation: ConversationModel
  ConversationMember: ConversationMemberModel
  /** Lets marks reach messages delivered before their conversation's lastSeq moved (see message-writer.ts). */
  Message: MessageModel
  User: UserModel
  users: UsersService
  /** How changes reach sockets on every instance. */
  notifier: Notifier
}

export type ReceiptKind = 'read' | 'delivered'

const DEFAULT_LIMIT = 50

export const conversationNotFound = (): Error => notFound('No such conversation', 'CONVERSATION_NOT_FOUND')

export const directKeyOf = (a: string, b: string): string => [a, b].sort().join(':')

function cursorOf (doc: ConversationDoc): string {
  return encodeCursor({ t: new Date(doc.lastActivityAt).getTime(), i: String(doc._id) })
}

function readCursor (position: Record<string, unknown>): { t: Date, i: Types.ObjectId } | null {
  const t = cursorTime(position.t)
  const i = cursorObjectId(position.i)
  return t !== null && i !== null ? { t, i } : null
}

export class ConversationsService {
  private readonly Conversation: ConversationModel
  private readonly ConversationMember: ConversationMemberModel
  private readonly Message: MessageModel
  private readonly User: UserModel
  private readonly users: UsersService
  private readonly notifier: Notifier

  constructor (options: ConversationsServiceOptions) {
    this.Conversation = options.Conversation
    this.ConversationMember = options.ConversationMember
    this.Message = options.Message
    this.User = options.User
    this.users = options.users
    this.notifier = options.notifier
  }

  /** The conversation if `userId` is a member; 404 CONVERSATION_NOT_FOUND otherwise (malformed ids too). */
  async requireMember (userId: string, conversationId: string): Promise<ConversationDoc> {
    const id = objectId(conversationId)
    const uid = objectId(userId)
    const doc = id !== null && uid !== null ? await this.Conversation.findOne({ _id: id, memberIds: uid }).lean() : null
    if (doc === null) throw conversationNotFound()
    return doc
  }

  /**
   * The direct conversation of the pair, created when missing (`created`). The unique directKey decides races:
   * two concurrent creators both end up with the one stored conversation. Opening it un-hides it for the caller.
   */
  async openDirect (userId: string, otherUserId: string, subject?: string): Promise<{ conversation: ConversationDoc, created: boolean }> {
    if (objectId(otherUserId) === null) throw notFound('No such user', 'USER_NOT_FOUND')
    if (otherUserId === userId) throw badRequest('SELF_CONVERSATION', 'A direct conversation needs another user')
    const directKey = directKeyOf(userId, otherUserId)
    const existing = await this.Conversation.findOne({ directKey }).lean()
    if (existing !== null) return { conversation: await this.unhide(existing, userId), created: false }
    const other = await this.users.getActive(otherUserId)
    if (other.disabled) throw notFound('No such user', 'USER_NOT_FOUND')
    const now = new Date()
    const a = new Types.ObjectId(userId)
    const b = other._id
    let doc: ConversationDoc
    try {
      doc = (await this.Conversation.create({
        type: 'direct',
        subject: subject?.trim() ?? '',
        members: [{ userId: a, role: 'member', joinedAt: now }, { userId: b, role: 'member', joinedAt: now }],
        memberIds: [a, b],
        directKey,
        createdBy: a,
        lastSeq: 0,
        lastActivityAt: now
      })).toObject()
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error
      const winner = await this.Conversation.findOne({ directKey }).lean()
      if (winner === null) throw error
      return { conversation: winner, created: false }
    }
    const { notifier } = this
    const memberIds = [String(a), String(b)]
    await notifier.joinConversation(memberIds, String(doc._id))
    await this.announce(doc, memberIds)
    return { conversation: doc, created: true }
  }

  private async unhide (doc: ConversationDoc, userId: string): Promise<ConversationDoc> {
    if (!doc.hiddenFor.some(id => String(id) === userId)) return doc
    await this.Conversation.updateOne({ _id: doc._id }, { $pull: { hiddenFor: new Types.ObjectId(userId) } })
    return { ...doc, hiddenFor: doc.hiddenFor.filter(id => String(id) !== userId) }
  }

  /** The caller's conversations (hidden ones left out), latest activity first, cursor-paged. */
  async list (userId: string, options: { limit?: number, cursor?: string } = {}): Promise<{ items: Conversation[], nextCursor: string | null }> {
    const limit = Math.min(Math.max(options.limit ?? DEFAULT_LIMIT, 1), 200)
    const uid = new Types.ObjectId(userId)
    const filter: Record<string, unknown> = { memberIds: uid, hiddenFor: { $ne: uid } }
    if (options.cursor !== undefined) {
      const { t, i } = decodeCursor(options.cursor, readCursor)
      filter.$or = [{ lastActivityAt: { $lt: t } }, { lastActivityAt: t, _id: { $lt: i } }]
    }
    const docs = await this.Conversation.find(filter).sort({ lastActivityAt: -1, _id: -1 }).limit(limit + 1).lean()
    const page = docs.slice(0, limit)
    const items = await this.viewMany(page, userId)
    return { items, nextCursor: docs.length > limit ? cursorOf(page[page.length - 1]) : null }
  }

  async get (userId: string, conversationId: string): Promise<Conversation> {
    return (await this.viewMany([await this.requireMember(userId, conversationId)], userId))[0]
  }

  /** The conversation as `userId` sees it. */
  async view (doc: ConversationDoc, userId: string): Promise<Conversation> {
    return (await this.viewMany([doc], userId))[0]
  }

  /** Direct: hidden from the caller's list until the next message (history stays; it counts as read). */
  async hide (userId: string, conversationId: string): Promise<void> {
    const doc = await this.requireMember(userId, conversationId)
    if (doc.type !== 'direct') throw badRequest('NOT_SUPPORTED', 'Only direct conversations can be hidden')
    const uid = new Types.ObjectId(userId)
    await this.Conversation.updateOne({ _id: doc._id }, { $addToSet: { hiddenFor: uid } })
    await this.moveMark(doc, userId, 'read', doc.lastSeq)
  }

  /**
   * Moves the caller's read or delivered mark forward to `seq` (clamped to lastSeq; never backward; read implies
   * delivered). When it moved, a `receipt` goes to the conversation's sockets except the sending one (the other
   * members, and the caller's other devices so their unread badges follow).
   */
  async mark (userId: string, conversationId: string, kind: ReceiptKind, seq: number, exceptSocketId?: string): Promise<void> {
    const doc = await this.requireMember(userId, conversationId)
    const moved = await this.moveMark(doc, userId, kind, seq)
    if (moved === null) return
    this.notifier.toConversation(String(doc._id), 'receipt', {
      conversationId: String(doc._id), userId, kind, seq: moved.seq, at: moved.at.toISOString()
    }, { exceptSocketId })
  }

  /**
   * `$max` on the member's mark; the new seq when it moved, null when it was already there. The mark never passes
   * the highest stored message: lastSeq, or beyond it a message stored and delivered whose lastSeq write is pending.
   */
  async moveMark (doc: ConversationDoc, userId: string, kind: ReceiptKind, seq: number): Promise<{ seq: number, at: Date } | null> {
    const wanted = Math.max(0, Math.floor(seq))
    let ceiling = doc.lastSeq
    if (wanted > ceiling) {
      const top = await this.Message.findOne({ conversationId: doc._id, seq: { $lte: wanted } }, { seq: 1 }).sort({ seq: -1 }).lean()
      ceiling = Math.max(ceiling, top?.seq ?? 0)
    }
    const target = Math.min(wanted, ceiling)
    if (target <= 0) return null
    const at = new Date()
    const max: Record<string, number> = kind === 'read' ? { readSeq: target, deliveredSeq: target } : { deliveredSeq: target }
    const before = await this.ConversationMember.findOneAndUpdate(
      { conversationId: doc._id, userId: new Types.ObjectId(userId) },
      { $max: max, $set: kind === 'read' ? { readAt: at } : { deliveredAt: at } },
      { upsert: true, returnDocument: 'before', lean: true }
    )
    const previous = kind === 'read' ? before?.readSeq ?? 0 : before?.deliveredSeq ?? 0
    return previous < target ? { seq: target, at } : null
  }

  /** Member check, then `typing` to the other members' sockets (in the room) unless the throttle drops it. */
  async typing (userId: string, conversationId: string, isTyping: boolean, throttle: TypingThrottle): Promise<void> {
    const doc = await this.requireMember(userId, conversationId)
    if (!throttle.allow(userId, String(doc._id), isTyping)) return
    // Through the room, not to the members read above: a member removed meanwhile has already left it.
    this.notifier.toConversation(String(doc._id), 'typing', { conversationId: String(doc._id), userId, isTyping }, { exceptUserId: userId })
  }

  /** Every conversation id of a user: the rooms its sockets join on connect. */
  async conversationIdsOf (userId: string): Promise<string[]> {
    const uid = objectId(userId)
    if (uid === null) return []
    const docs = await this.Conversation.find({ memberIds: uid }, { _id: 1 }).lean()
    return docs.map(doc => String(doc._id))
  }

  /** Which of `candidateIds` share at least one conversation with `userId` (the user themself included). */
  async contactsAmong (userId: string, candidateIds: string[]): Promise<Set<string>> {
    const uid = objectId(userId)
    const candidates = candidateIds.map(objectId).filter((id): id is Types.ObjectId => id !== null)
    const found = new Set(candidateIds.filter(id => id === userId))
    if (uid === null || candidates.length === 0) return found
    const shared = await this.Conversation.find({ $and: [{ memberIds: uid }, { memberIds: { $in: candidates } }] }, { memberIds: 1 }).lean()
    const wanted = new Set(candidateIds)
    for (const doc of shared) for (const member of doc.memberIds) if (wanted.has(String(member))) found.add(String(member))
    return found
  }

  /** The caller's marks in many conversations at once. */
  async marksOf (userId: string, conversationIds: Types.ObjectId[]): Promise<Map<string, ConversationMemberDoc>> {
    const marks = await this.ConversationMember.find({ userId: new Types.ObjectId(userId), conversationId: { $in: conversationIds } }).lean()
    return new Map(marks.map(mark => [String(mark.conversationId), mark]))
  }

  /** Many conversations as `userId` sees them, with one read of the marks and one of the users for all. */
  async viewMany (docs: ConversationDoc[], userId: string): Promise<Conversation[]> {
    if (docs.length === 0) return []
    const marks = await this.marksOf(userId, docs.map(doc => doc._id))
    const users = await this.publicUsers(docs)
    return docs.map(doc => toConversation(doc, marks.get(String(doc._id)) ?? null, users))
  }

  /** `conversation_updated` to each of `userIds`, with their own view of the conversation. */
  async announce (doc: ConversationDoc, userIds: string[]): Promise<void> {
    const views = await this.viewsFor(doc, userIds)
    for (const [userId, conversation] of views) this.notifier.toUsers([userId], 'conversation_updated', { conversation })
  }

  /** One conversation as each of `userIds` sees it (their own unread counts). */
  async viewsFor (doc: ConversationDoc, userIds: string[]): Promise<Map<string, Conversation>> {
    const users = await this.publicUsers([doc])
    const marks = await this.ConversationMember.find({ conversationId: doc._id }).lean()
    const byUser = new Map(marks.map(mark => [String(mark.userId), mark]))
    return new Map(userIds.map(id => [id, toConversation(doc, byUser.get(id) ?? null, users)]))
  }

  private async publicUsers (docs: ConversationDoc[]): Promise<Map<string, PublicUser>> {
    const ids = [...new Set(docs.flatMap(doc => doc.memberIds.map(String)))].map(id => new Types.ObjectId(id))
    const users = await this.User.find({ _id: { $in: ids } }).lean()
    return new Map(users.map(user => [String(user._id), toPublicUser(user, this.users.isOnline)]))
  }
}
