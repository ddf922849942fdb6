/**
 * The SDK's own types, and the server's wire types it is built on (type-only imports: nothing of the server is
 * loaded at runtime). An app would import the same names from `parley-client`.
 */
import type { Socket } from 'socket.io-client'
import type { ClientToServerEvents, MessagePayload, ServerToClientEvents } from '../../src/realtime/events.js'

export type {
  Ack, AckError, ClientToServerEvents, MessagePayload, PresenceEvent, ReceiptEvent, ServerToClientEvents, SyncResult, TypingEvent
} from '../../src/realtime/events.js'

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
  /** Why it failed (`failed` only): the server's code, e.g. CONVERSATION_NOT_FOUND, PAYLOAD_TOO_LARGE. */
  error?: { code: string, message: string }
}

/** Why the session ended: the server's code (SESSION_ENDED, REFRESH_TOKEN_REUSED, TOKEN_REVOKED, ...) or `token_expired`. */
export interface SessionEnd {
  reason: string
  message: string
}
