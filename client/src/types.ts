/**
 * The SDK's own types, and the server's wire types it is built on (type-only imports: nothing of the server is
 * loaded at runtime). An app would import the same names from `parley-client`.
 */
import type { Socket } from 'socket.io-client'
import type {
  AttachmentPayload, ClientToServerEvents, ConversationMemberPayload, ConversationPayload, MessagePayload, PublicUserPayload,
  ServerToClientEvents
} from '../../src/realtime/events.js'

export type {
  Ack, AckError, AttachmentPayload, ClientToServerEvents, ConversationMemberPayload, ConversationPayload, MessagePayload,
  PresenceEvent, PublicUserPayload, ReceiptEvent, ServerToClientEvents, SyncResult, TypingEvent
} from '../../src/realtime/events.js'

/** A conversation as the server shows it to us (`GET /api/conversations`): `unreadCount`, `readSeq`, `deliveredSeq` are ours. */
export type Conversation = ConversationPayload
/** A member of a conversation: `{userId, role, joinedAt, user}`. */
export type ConversationMember = ConversationMemberPayload
/** A file of a message: `{id, name, size, sizeLabel, mimeType, url}` (`url` needs the token: `client.download`). */
export type Attachment = AttachmentPayload
/** A user as anyone may see them (`deleted: true` for a deleted account). */
export type PublicUser = PublicUserPayload

export type ParleySocket = Socket<ServerToClientEvents, ClientToServerEvents>

export interface Tokens {
  accessToken: string
  refreshToken: string
}

/** A stored message, or one of ours the server has not acked yet (`pending`) or refused for good (`failed`). */
export type TimelineMessage =
  | (MessagePayload & { status: 'stored' })
  | LocalMessage

export interface LocalMessage {
  status: 'pending' | 'failed'
  clientMsgId: string
  conversationId: string
  senderId: string
  body: string
  /** When `send()` was called (ISO). */
  createdAt: string
  /** A `sendFile()`: the file being uploaded (the stored copy has it in `attachments`). */
  file?: { name: string, size: number, type: string }
  /** Why it failed (`failed` only): the server's code, e.g. CONVERSATION_NOT_FOUND, PAYLOAD_TOO_LARGE. */
  error?: { code: string, message: string }
}

/** Why the session ended: the server's code (SESSION_ENDED, REFRESH_TOKEN_REUSED, TOKEN_REVOKED, ...) or `token_expired`. */
export interface SessionEnd {
  reason: string
  message: string
}
