/** How a stored message is shown on the wire (REST and socket alike). */
import type { MessageDoc } from '../../storage/models/message.model.js'
import type { Message } from './messages.schemas.js'
import { toAttachment } from '../attachments/attachments.view.js'

const iso = (date: Date | undefined | null): string | null => date instanceof Date ? date.toISOString() : (date != null ? new Date(date).toISOString() : null)

export function toMessage (doc: MessageDoc): Message {
  return {
    id: String(doc._id),
    conversationId: String(doc.conversationId),
    seq: doc.seq,
    senderId: String(doc.senderId),
    body: doc.deletedAt != null ? '' : doc.body,
    attachments: doc.deletedAt != null ? [] : (doc.attachments ?? []).map(toAttachment),
    clientMsgId: doc.clientMsgId ?? null,
    replyToId: doc.replyToId != null ? String(doc.replyToId) : null,
    createdAt: iso(doc.createdAt) as string,
    editedAt: iso(doc.editedAt),
    deletedAt: iso(doc.deletedAt)
  }
}
