/**
 * The writes behind a flush of the message writer (message-writer.ts): per conversation, lastSeq and lastMessage
 * move forward only (another instance's flush may have gone further) and a new message un-hides it; per sender, the
 * read mark moves to their last message (so unreadCount = lastSeq - readSeq needs no counting). Two bulkWrites,
 * run at once, whatever the number of messages.
 *
 * The lastMessage copies are of the messages as the writer stored them. A message edited or deleted after its
 * delivery but before this bookkeeping (its own lastMessage update found nothing to change yet) would come back
 * here as it was sent, deleted text included: so the copies just written are checked against the stored messages
 * once, after the write, and any edited or deleted one is replaced (whichever order the two land in, the final
 * copy is the stored message).
 */
import type { Types } from 'mongoose'
import type { ConversationModel } from '../../storage/models/conversation.model.js'
import type { ConversationMemberModel } from '../../storage/models/conversation-member.model.js'
import type { MessageDoc, MessageModel } from '../../storage/models/message.model.js'

/** A conversation as the writer read it. */
export interface ConversationState { memberIds: Types.ObjectId[], lastSeq: number, hiddenFor?: Types.ObjectId[] }

export interface BookkeepingModels {
  Conversation: ConversationModel
  ConversationMember: ConversationMemberModel
  Message: MessageModel
  /** Reports a write that failed twice (the messages are stored and delivered regardless). */
  onError?: (error: unknown) => void
}

export async function writeBookkeeping (models: BookkeepingModels, stored: MessageDoc[], conversations: Map<string, ConversationState>): Promise<void> {
  const last = new Map<string, MessageDoc>()
  const marks = new Map<string, { conversationId: Types.ObjectId, userId: Types.ObjectId, seq: number }>()
  for (const doc of stored) {
    const key = String(doc.conversationId)
    if ((last.get(key)?.seq ?? 0) < doc.seq) last.set(key, doc)
    const markKey = `${key}:${String(doc.senderId)}`
    if ((marks.get(markKey)?.seq ?? 0) < doc.seq) marks.set(markKey, { conversationId: doc.conversationId, userId: doc.senderId, seq: doc.seq })
  }
  const conversationWrites = [...last].flatMap(([key, doc]) => {
    const writes: any[] = [{
      updateOne: {
        filter: { _id: doc.conversationId, lastSeq: { $lt: doc.seq } },
        update: { $set: { lastSeq: doc.seq, lastMessage: doc, lastActivityAt: doc.createdAt } }
      }
    }]
    if ((conversations.get(key)?.hiddenFor?.length ?? 0) > 0) {
      writes.push({ updateOne: { filter: { _id: doc.conversationId }, update: { $set: { hiddenFor: [] } } } })
    }
    return writes
  })
  const now = new Date()
  const markWrites = [...marks.values()].map(mark => ({
    updateOne: {
      filter: { conversationId: mark.conversationId, userId: mark.userId },
      update: { $max: { readSeq: mark.seq, deliveredSeq: mark.seq }, $set: { readAt: now } },
      upsert: true
    }
  }))
  await Promise.all([
    bulkWrite(models.Conversation, conversationWrites, models.onError),
    bulkWrite(models.ConversationMember, markWrites, models.onError)
  ])
  await refreshChangedCopies(models, [...last.values()])
}

/** Replaces lastMessage copies whose message was edited or deleted meanwhile with the stored message. */
async function refreshChangedCopies (models: BookkeepingModels, written: MessageDoc[]): Promise<void> {
  if (written.length === 0) return
  // Never the retained text of a deleted message (RETAIN_DELETED_TEXT): the copy is what members see.
  const changed = await models.Message.find({
    _id: { $in: written.map(doc => doc._id) },
    $or: [{ deletedAt: { $exists: true } }, { editedAt: { $exists: true } }]
  }, { retainedBody: 0 }).lean()
  await Promise.all(changed.map(async doc => {
    await models.Conversation.updateOne({ _id: doc.conversationId, 'lastMessage._id': doc._id }, { $set: { lastMessage: doc } })
  }))
}

/** A failed write is retried once, then reported. */
async function bulkWrite (model: ConversationModel | ConversationMemberModel, writes: any[], onError?: (error: unknown) => void): Promise<void> {
  if (writes.length === 0) return
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await model.collection.bulkWrite(writes, { ordered: false })
      return
    } catch (error) {
      if (attempt === 1) onError?.(error)
    }
  }
}
