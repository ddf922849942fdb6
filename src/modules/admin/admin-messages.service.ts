/**
 * Message history across every conversation, for admins: the filters of GET /api/admin/messages combined with AND,
 * paged by keyset on (createdAt, _id), a total order, so a page boundary never skips or repeats a message that
 * existed when paging began, whatever is inserted meanwhile. The export walks the same pages, one at a time, as the
 * client reads them (constant memory, backpressure). Each filter combination has an index (message.model.ts):
 * sender or conversation (+ range) walk their own, a participant's conversations merge one walk per conversation,
 * the rest narrow what those walks return.
 */
import { Types } from 'mongoose'
import type { ConversationModel } from '../../storage/models/conversation.model.js'
import type { MessageDoc, MessageModel } from '../../storage/models/message.model.js'
import type { UserModel } from '../../storage/models/user.model.js'
import type { OnlineLookup } from '../users/users.view.js'
import { toPublicUser } from '../users/users.view.js'
import type { PublicUser } from '../users/users.schemas.js'
import { toMessage } from '../messages/messages.view.js'
import { badRequest } from '../../shared/errors.js'
import { dateOf } from './admin-dates.js'
import { escapeRegex } from '../../shared/text.js'
import { afterTimeId, decodeTimeId, encodeTimeId, type TimeIdPosition } from '../common/time-id-keyset.js'
import type { AdminMessage, MessageExportQuery } from './admin.schemas.js'

export interface AdminMessagesOptions {
  Message: MessageModel
  Conversation: ConversationModel
  User: UserModel
  isOnline: () => OnlineLookup
  /** RETAIN_DELETED_TEXT: deleted messages show their kept text. */
  retainDeletedText: boolean
}

type Filters = MessageExportQuery
type Position = TimeIdPosition
/** Conversations and senders already read, by id. */
interface Known {
  conversations: Map<string, { type: 'direct' | 'group', name: string }>
  senders: Map<string, PublicUser>
}
/** Entries `Known` holds before it starts again (an export over many conversations stays bounded). */
const KNOWN_MAX = 20_000

/** Messages one export page reads (and holds) at a time. */
export const EXPORT_PAGE = 1000
const DEFAULT_LIMIT = 50

const oid = (id: string): Types.ObjectId => new Types.ObjectId(id)

export class AdminMessagesService {
  constructor (private readonly options: AdminMessagesOptions) {}

  /** One page of the history; `nextCursor` continues after its last message. */
  async search (filters: Filters & { limit?: number, cursor?: string }): Promise<{ items: AdminMessage[], nextCursor: string | null }> {
    const limit = filters.limit ?? DEFAULT_LIMIT
    const conditions = await this.conditionsOf(filters)
    if (conditions === null) return { items: [], nextCursor: null }
    const after = filters.cursor !== undefined ? decodeTimeId(filters.cursor) : null
    const docs = await this.page(conditions, filters.order ?? 'asc', after, limit + 1)
    const page = docs.slice(0, limit)
    const last = page[page.length - 1]
    return {
      items: await this.render(page),
      nextCursor: docs.length > limit ? encodeTimeId(last.createdAt, last._id) : null
    }
  }

  /**
   * Every matching message, page by page: the next page is read only when the consumer asks for more. The filters
   * are checked here, before any byte goes out (a 400 after a 200's headers could not be told to the client).
   */
  async export (filters: Filters): Promise<AsyncGenerator<AdminMessage[]>> {
    const conditions = await this.conditionsOf(filters)
    return this.pages(conditions, filters.order ?? 'asc')
  }

  private async * pages (conditions: object[] | null, order: 'asc' | 'desc'): AsyncGenerator<AdminMessage[]> {
    if (conditions === null) return
    let after: Position | null = null
    const known: Known = { conversations: new Map(), senders: new Map() }
    for (;;) {
      const docs = await this.page(conditions, order, after, EXPORT_PAGE)
      if (docs.length === 0) return
      yield await this.render(docs, known)
      if (docs.length < EXPORT_PAGE) return
      const last = docs[docs.length - 1]
      after = { at: last.createdAt, id: last._id }
    }
  }

  /**
   * How the database runs one page of the filters (MongoDB's `explain`, executionStats): what shows that each filter
   * combination walks an index (test/modules/admin/admin-indexes.test.ts).
   */
  async explain (filters: Filters & { limit?: number }): Promise<unknown> {
    const conditions = await this.conditionsOf(filters)
    if (conditions === null) return null
    return await this.query(conditions, filters.order ?? 'asc', null, (filters.limit ?? DEFAULT_LIMIT) + 1).explain('executionStats')
  }

  /** The filters as query conditions (ANDed), or null when nothing can match (a participant of no conversation). */
  private async conditionsOf (filters: Filters): Promise<object[] | null> {
    const conditions: object[] = []
    const from = filters.from !== undefined ? dateOf(filters.from, 'from') : undefined
    const to = filters.to !== undefined ? dateOf(filters.to, 'to') : undefined
    if (from !== undefined && to !== undefined && from >= to) throw badRequest('VALIDATION_ERROR', '`from` must be before `to`')
    if (filters.conversationId !== undefined) conditions.push({ conversationId: oid(filters.conversationId) })
    if (filters.senderId !== undefined) conditions.push({ senderId: oid(filters.senderId) })
    if (filters.participantId !== undefined) {
      const ids = await this.options.Conversation.distinct('_id', { memberIds: oid(filters.participantId) })
      if (ids.length === 0) return null
      conditions.push({ conversationId: { $in: ids } })
    }
    if (from !== undefined) conditions.push({ createdAt: { $gte: from } })
    if (to !== undefined) conditions.push({ createdAt: { $lt: to } })
    const withDeleted = filters.includeDeleted === true
    if (!withDeleted) conditions.push({ deletedAt: { $exists: false } })
    if (filters.hasAttachment !== undefined) conditions.push({ 'attachments.0': { $exists: filters.hasAttachment } })
    if (filters.q !== undefined && filters.q !== '') {
      // Literal text: every metacharacter is escaped, so the pattern matches the characters typed and nothing else.
      const text = { $regex: escapeRegex(filters.q), $options: 'i' }
      conditions.push(withDeleted && this.options.retainDeletedText ? { $or: [{ body: text }, { retainedBody: text }] } : { body: text })
    }
    return conditions
  }

  /** Up to `limit` messages after `after` in (createdAt, _id) order. */
  private async page (conditions: object[], order: 'asc' | 'desc', after: Position | null, limit: number): Promise<MessageDoc[]> {
    return await this.query(conditions, order, after, limit).lean<MessageDoc[]>()
  }

  private query (conditions: object[], order: 'asc' | 'desc', after: Position | null, limit: number) {
    const all = [...conditions]
    if (after !== null) all.push(...afterTimeId('createdAt', after, order))
    const direction = order === 'asc' ? 1 : -1
    return this.options.Message.find(all.length > 0 ? { $and: all } : {}).sort({ createdAt: direction, _id: direction }).limit(limit)
  }

  /**
   * Each message with its conversation's id, type and name and its sender's public user: at most two reads a page,
   * for what `known` (an export's pages share it) does not hold yet.
   */
  private async render (docs: MessageDoc[], known: Known = { conversations: new Map(), senders: new Map() }): Promise<AdminMessage[]> {
    if (docs.length === 0) return []
    if (known.conversations.size + known.senders.size > KNOWN_MAX) {
      known.conversations.clear()
      known.senders.clear()
    }
    const conversationIds = [...new Set(docs.map(doc => String(doc.conversationId)))].filter(id => !known.conversations.has(id)).map(oid)
    const senderIds = [...new Set(docs.map(doc => String(doc.senderId)))].filter(id => !known.senders.has(id)).map(oid)
    const [conversations, senders] = await Promise.all([
      conversationIds.length > 0 ? this.options.Conversation.find({ _id: { $in: conversationIds } }, { type: 1, name: 1 }).lean() : [],
      senderIds.length > 0 ? this.options.User.find({ _id: { $in: senderIds } }).lean() : []
    ])
    const isOnline = this.options.isOnline()
    for (const doc of conversations) known.conversations.set(String(doc._id), { type: doc.type, name: doc.name })
    for (const user of senders) known.senders.set(String(user._id), toPublicUser(user, isOnline))
    const conversationById = known.conversations
    const senderById = known.senders
    const retain = this.options.retainDeletedText
    // Per conversation, one summary object shared by its messages (an export renders a million of them).
    const summaries = new Map<string, AdminMessage['conversation']>()
    const summaryOf = (id: string): AdminMessage['conversation'] => {
      let summary = summaries.get(id)
      if (summary === undefined) {
        const conversation = conversationById.get(id)
        // A conversation deleted since (a group removed by its owner) is named by its id alone.
        summary = { id, type: conversation?.type ?? 'group', name: conversation !== undefined && conversation.name !== '' ? conversation.name : null }
        summaries.set(id, summary)
      }
      return summary
    }
    return docs.map(doc => {
      // Fields added to the member view in one order (no spread): every item has one shape, which keeps this cheap.
      const item = toMessage(doc) as AdminMessage
      item.retainedBody = retain && doc.deletedAt != null ? doc.retainedBody ?? null : null
      item.conversation = summaryOf(item.conversationId)
      item.sender = senderById.get(item.senderId) ?? deletedSender(item.senderId)
      return item
    })
  }
}

function deletedSender (id: string): PublicUser {
  return { id, username: 'deleted-user', firstName: '', lastName: '', online: false, lastSeenAt: null, deleted: true }
}
