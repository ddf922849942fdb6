/**
 * Offline catch-up (`sync`), bounded per ack: at most SYNC_MAX_CONVERSATIONS conversations and about
 * SYNC_MAX_BYTES of messages. Each conversation answers at most SYNC_PAGE messages with its own `hasMore`; the
 * ack's `hasMore` says that something was left for the next call (a conversation's rest, or whole conversations),
 * which the client makes with its new positions (or none: what stays undelivered comes back). Two reads for the membership and the marks,
 * then one page read per answered conversation.
 */
import { Types } from 'mongoose'
import type { ConversationModel } from '../../storage/models/conversation.model.js'
import { objectId } from '../../shared/ids.js'
import { conversationNotFound, type ConversationsService } from '../conversations/conversations.service.js'
import type { Message } from './messages.schemas.js'

/** Most messages one sync answers per conversation; the client asks again from the last seq it got. */
export const SYNC_PAGE = 100
/** Most conversations one sync ack carries. */
export const SYNC_MAX_CONVERSATIONS = 50
/** About the most message bytes one sync ack carries (bodies plus a fixed share per message and attachment). */
export const SYNC_MAX_BYTES = 1024 * 1024

const MESSAGE_OVERHEAD_BYTES = 300
const ATTACHMENT_BYTES = 200

export interface SyncCursor { conversationId: string, afterSeq: number }
export interface SyncAnswer {
  conversations: Array<{ conversationId: string, messages: Message[], hasMore: boolean }>
  hasMore: boolean
}

export interface SyncDeps {
  Conversation: ConversationModel
  conversations: ConversationsService
  page: (conversationId: Types.ObjectId, options: { afterSeq: number, limit: number }) => Promise<{ items: Message[], hasMore: boolean }>
}

const sizeOf = (message: Message): number =>
  Buffer.byteLength(message.body) + MESSAGE_OVERHEAD_BYTES + message.attachments.length * ATTACHMENT_BYTES

/** The conversations to answer, in cursor order then the rest; 404 when a cursor names one the caller is not in. */
async function positions (deps: SyncDeps, userId: string, cursors: SyncCursor[]): Promise<Map<string, { id: Types.ObjectId, afterSeq: number }>> {
  const uid = new Types.ObjectId(userId)
  const all = await deps.Conversation.find({ memberIds: uid }, { _id: 1, lastSeq: 1 }).lean()
  const mine = new Map(all.map(doc => [String(doc._id), doc]))
  const wanted = new Map<string, { id: Types.ObjectId, afterSeq: number }>()
  for (const cursor of cursors) {
    const doc = objectId(cursor.conversationId) !== null ? mine.get(cursor.conversationId) : undefined
    if (doc === undefined) throw conversationNotFound()
    wanted.set(String(doc._id), { id: doc._id, afterSeq: cursor.afterSeq })
  }
  const marks = await deps.conversations.marksOf(userId, all.map(doc => doc._id))
  for (const doc of all) {
    const key = String(doc._id)
    const delivered = marks.get(key)?.deliveredSeq ?? 0
    if (!wanted.has(key) && doc.lastSeq > delivered) wanted.set(key, { id: doc._id, afterSeq: delivered })
  }
  return wanted
}

export async function syncMessages (deps: SyncDeps, userId: string, cursors: SyncCursor[] = []): Promise<SyncAnswer> {
  const wanted = await positions(deps, userId, cursors)
  const conversations: SyncAnswer['conversations'] = []
  let bytes = 0
  for (const [conversationId, { id, afterSeq }] of wanted) {
    if (conversations.length === SYNC_MAX_CONVERSATIONS || bytes >= SYNC_MAX_BYTES) break
    const page = await deps.page(id, { afterSeq, limit: SYNC_PAGE })
    let kept = 0
    // The first message of a conversation always fits, so a sync always makes progress.
    while (kept < page.items.length && (kept === 0 || bytes + sizeOf(page.items[kept]) <= SYNC_MAX_BYTES)) {
      bytes += sizeOf(page.items[kept])
      kept++
    }
    conversations.push({ conversationId, messages: page.items.slice(0, kept), hasMore: page.hasMore || kept < page.items.length })
  }
  return { conversations, hasMore: conversations.length < wanted.size || conversations.some(answer => answer.hasMore) }
}
