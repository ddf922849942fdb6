/**
 * Every model, registered on one connection (the storage plugin's own, never mongoose's global one).
 */
import type { Connection } from 'mongoose'
import { userModel, type UserModel } from './user.model.js'
import { sessionModel, type SessionModel } from './session.model.js'
import { conversationModel, type ConversationModel } from './conversation.model.js'
import { conversationMemberModel, type ConversationMemberModel } from './conversation-member.model.js'
import { messageModel, type MessageModel } from './message.model.js'
import { attachmentModel, type AttachmentModel } from './attachment.model.js'
import { auditEntryModel, type AuditEntryModel } from './audit-entry.model.js'

export interface Models {
  User: UserModel
  Session: SessionModel
  Conversation: ConversationModel
  ConversationMember: ConversationMemberModel
  Message: MessageModel
  Attachment: AttachmentModel
  AuditEntry: AuditEntryModel
}

export function registerModels (connection: Connection): Models {
  return {
    User: userModel(connection),
    Session: sessionModel(connection),
    Conversation: conversationModel(connection),
    ConversationMember: conversationMemberModel(connection),
    Message: messageModel(connection),
    Attachment: attachmentModel(connection),
    AuditEntry: auditEntryModel(connection)
  }
}

/** Creates collections and indexes (unique keys must exist before the first write relies on them). */
export async function initModels (models: Models): Promise<void> {
  for (const model of Object.values(models)) await model.init()
}
