/**
 * The socket contract as schemas: every client event with its payload and ack data, every server event with its
 * payload. The gateway validates client payloads against `clientEvents`; realtime/events.ts derives the typed event
 * maps from both tables (Static<>), so the types a client imports are the schemas the server checks.
 */
import { Type, type TSchema } from 'typebox'
import { IsoDate, Nullable } from '../shared/schemas.js'
import {
  ChatMessageFilePayload, ChatMessagePayload, Message, MessageDeletePayload, MessageDeleteResult, MessageEditPayload,
  SyncPayload, SyncResult
} from '../modules/messages/messages.schemas.js'
import { Conversation, ReceiptPayload, TypingPayload } from '../modules/conversations/conversations.schemas.js'
import { PresenceQueryPayload, PresenceQueryResult } from '../modules/presence/presence.schemas.js'

/** A fresh access token (from POST /api/auth/refresh) for the live socket; same user as the socket's. */
export const AuthRefreshPayload = Type.Object({
  // A JWT of ours is a few hundred characters; the cap keeps junk cheap to refuse.
  token: Type.String({ minLength: 1, maxLength: 4096 })
}, { additionalProperties: false })

/** When the socket's new token expires: refresh again before then (plus the server's grace). */
export const AuthRefreshResult = Type.Object({ expiresAt: IsoDate })

export const EmptyResult = Type.Object({})

const event = <T extends TSchema, A extends TSchema> (payload: T, ack: A) => ({ payload, ack })

/** Client to server. Every one takes an ack callback, answered `{ ok: true, data }` or `{ ok: false, error }`. */
export const clientEvents = {
  chat_message: event(ChatMessagePayload, Message),
  chat_message_file: event(ChatMessageFilePayload, Message),
  message_edit: event(MessageEditPayload, Message),
  message_delete: event(MessageDeletePayload, MessageDeleteResult),
  typing: event(TypingPayload, EmptyResult),
  delivered: event(ReceiptPayload, EmptyResult),
  read: event(ReceiptPayload, EmptyResult),
  sync: event(SyncPayload, SyncResult),
  presence_query: event(PresenceQueryPayload, PresenceQueryResult),
  /** Errors: UNAUTHORIZED (bad, expired or revoked token; the socket stays as it was), USER_MISMATCH. */
  auth_refresh: event(AuthRefreshPayload, AuthRefreshResult)
}

const action = <A extends string> (name: A) => Type.Literal(name)
const messageEvent = <A extends string> (name: A) => Type.Object({ action: action(name), message: Message })

/** Server to client: every payload carries `action` equal to the event name. */
export const serverEvents = {
  /** A new text message, to every member socket on every instance (the sending socket gets its ack instead). */
  re_message: messageEvent('re_message'),
  /** A new message with attachments. */
  re_message_file: messageEvent('re_message_file'),
  message_updated: messageEvent('message_updated'),
  message_deleted: Type.Object({ action: action('message_deleted'), conversationId: Type.String(), messageId: Type.String(), seq: Type.Integer() }),
  /** To the other members when a member's delivered or read mark moves. */
  receipt: Type.Object({
    action: action('receipt'),
    conversationId: Type.String(),
    userId: Type.String(),
    kind: Type.Union([Type.Literal('delivered'), Type.Literal('read')]),
    seq: Type.Integer(),
    at: IsoDate
  }),
  typing: Type.Object({ action: action('typing'), conversationId: Type.String(), userId: Type.String(), isTyping: Type.Boolean() }),
  /** To users who share a conversation with `userId`. */
  presence: Type.Object({ action: action('presence'), userId: Type.String(), online: Type.Boolean(), lastSeenAt: Nullable(IsoDate) }),
  /** A conversation was created or changed; each member gets its own view (unread count, marks). */
  conversation_updated: Type.Object({ action: action('conversation_updated'), conversation: Conversation }),
  /** A member joined or was added: to the group's members (the new one included). */
  member_joined: Type.Object({ action: action('member_joined'), conversationId: Type.String(), userId: Type.String() }),
  /** A member left or was removed: to the remaining members and to that user's own sockets (now out of the room). */
  member_left: Type.Object({ action: action('member_left'), conversationId: Type.String(), userId: Type.String() }),
  /** The owner deleted the group (or its last member left): to every member it had. */
  conversation_deleted: Type.Object({ action: action('conversation_deleted'), conversationId: Type.String() }),
  /** The socket's access token expired without an `auth_refresh`: the server disconnects it right after. */
  session_expired: Type.Object({ action: action('session_expired'), reason: Type.Literal('token_expired') }),
  /**
   * The instance's link to the rest of the cluster (Redis) came back after an outage: events from other instances
   * were lost meanwhile, so call `sync` (the socket is in its conversations' rooms again already).
   */
  resync: Type.Object({ action: action('resync'), reason: Type.Literal('cluster_reconnected') })
}
