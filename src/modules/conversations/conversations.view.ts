/** How a stored conversation is shown to one of its members (unreadCount and readSeq are that member's). */
import type { ConversationDoc } from '../../storage/models/conversation.model.js'
import type { ConversationMemberDoc } from '../../storage/models/conversation-member.model.js'
import type { MessageDoc } from '../../storage/models/message.model.js'
import type { PublicUser } from '../users/users.schemas.js'
import { toMessage } from '../messages/messages.view.js'
import type { Conversation } from './conversations.schemas.js'

/** Shown for a member whose user document is gone entirely (should not happen: accounts are soft-deleted). */
function missingUser (id: string): PublicUser {
  return { id, username: 'deleted-user', firstName: '', lastName: '', online: false, lastSeenAt: null, deleted: true }
}

export function toConversation (
  doc: ConversationDoc,
  marks: Pick<ConversationMemberDoc, 'readSeq' | 'deliveredSeq'> | null,
  users: Map<string, PublicUser>
): Conversation {
  const readSeq = Math.min(marks?.readSeq ?? 0, doc.lastSeq)
  return {
    id: String(doc._id),
    type: doc.type,
    name: doc.name !== '' ? doc.name : null,
    subject: doc.subject !== '' ? doc.subject : null,
    visibility: doc.visibility,
    members: doc.members.map(member => {
      const userId = String(member.userId)
      return { userId, role: member.role, joinedAt: new Date(member.joinedAt).toISOString(), user: users.get(userId) ?? missingUser(userId) }
    }),
    createdBy: String(doc.createdBy),
    createdAt: new Date(doc.createdAt).toISOString(),
    lastActivityAt: new Date(doc.lastActivityAt).toISOString(),
    lastSeq: doc.lastSeq,
    lastMessage: doc.lastMessage != null ? toMessage(doc.lastMessage as unknown as MessageDoc) : null,
    unreadCount: Math.max(0, doc.lastSeq - readSeq),
    readSeq,
    deliveredSeq: Math.min(marks?.deliveredSeq ?? 0, doc.lastSeq)
  }
}
