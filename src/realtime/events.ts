/**
 * The typed Socket.IO event maps, the file a client app imports (`import type ... from 'parley/events'`, types
 * only), e.g. `const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, { auth: { token } })`.
 * Every type here is derived from the schemas the server validates with (events.schemas.ts and the domains'
 * *.schemas.ts), so the contract cannot drift from what is built. The reference is docs/api.md.
 */
import type { Static } from 'typebox'
import type { clientEvents, serverEvents } from './events.schemas.js'
import type { ErrorCode } from '../shared/errors.js'
import type { RoomChange } from './room-membership.js'
import type { InstanceSockets } from './instance-sockets.js'
import type { Attachment, Message } from '../modules/messages/messages.schemas.js'
import type { Conversation, ConversationMember } from '../modules/conversations/conversations.schemas.js'
import type { PublicUser } from '../modules/users/users.schemas.js'
import type { PresenceQueryResult as PresenceQueryResultSchema, PresenceState as PresenceStateSchema } from '../modules/presence/presence.schemas.js'

/** Every ack: the handler's result, or a coded error (the same codes as the REST facade). */
export type Ack<T> = { ok: true, data: T } | { ok: false, error: AckError }

export interface AckError {
  /** Stable machine-readable code (docs/api.md lists them): VALIDATION_ERROR, CONVERSATION_NOT_FOUND, RATE_LIMITED, ... */
  code: ErrorCode
  message: string
}

export type AckCallback<T> = (response: Ack<T>) => void

// ---- Wire shapes (times are ISO-8601 strings on the wire) ----

export type AttachmentPayload = Attachment
export type MessagePayload = Message
/** A user as anyone may see them (`deleted: true` for a deleted account, shown as `deleted-user`). */
export type PublicUserPayload = PublicUser
export type ConversationMemberPayload = Static<typeof ConversationMember>
export type ConversationPayload = Conversation
export type PresenceState = Static<typeof PresenceStateSchema>
export type PresenceQueryResult = Static<typeof PresenceQueryResultSchema>

// ---- Client to server ----

type ClientEventSchemas = typeof clientEvents
export type ClientEventName = keyof ClientEventSchemas
/** What a client sends; `action`, when present, must equal the event name (any other value is refused). */
export type ClientPayload<E extends ClientEventName> = Static<ClientEventSchemas[E]['payload']> & { action?: E }
/** What the ack's `data` holds when `ok`. */
export type AckData<E extends ClientEventName> = Static<ClientEventSchemas[E]['ack']>

export type ClientToServerEvents = {
  [E in ClientEventName]: (payload: ClientPayload<E>, ack: AckCallback<AckData<E>>) => void
}

export type ChatMessageInput = ClientPayload<'chat_message'>
export type ChatMessageFileInput = ClientPayload<'chat_message_file'>
export type MessageEditInput = ClientPayload<'message_edit'>
export type MessageDeleteInput = ClientPayload<'message_delete'>
export type TypingInput = ClientPayload<'typing'>
export type ReceiptInput = ClientPayload<'read'>
export type SyncInput = ClientPayload<'sync'>
export type SyncResult = AckData<'sync'>
export type PresenceQueryInput = ClientPayload<'presence_query'>
export type AuthRefreshInput = ClientPayload<'auth_refresh'>
export type AuthRefreshResult = AckData<'auth_refresh'>
export type EmptyResult = AckData<'typing'>

// ---- Server to client: every payload carries `action` equal to the event name ----

type ServerEventSchemas = typeof serverEvents
export type ServerEventName = keyof ServerEventSchemas
export type ServerPayload<E extends ServerEventName> = Static<ServerEventSchemas[E]>

export type ServerToClientEvents = {
  [E in ServerEventName]: (payload: ServerPayload<E>) => void
}

export type MessageEvent<A extends 're_message' | 're_message_file' | 'message_updated'> = ServerPayload<A>
export type MessageDeletedEvent = ServerPayload<'message_deleted'>
export type ReceiptEvent = ServerPayload<'receipt'>
export type TypingEvent = ServerPayload<'typing'>
export type PresenceEvent = ServerPayload<'presence'>
export type ConversationUpdatedEvent = ServerPayload<'conversation_updated'>
export type SessionExpiredEvent = ServerPayload<'session_expired'>
export type ResyncEvent = ServerPayload<'resync'>

/** Between instances (serverSideEmit through the adapter). */
export interface InterServerEvents {
  /** Move a user's sockets into or out of a conversation room; acked once applied (room-membership.ts). */
  room_change: (change: RoomChange, ack: (applied: boolean) => void) => void
  /** How many sockets an instance has (admin stats; instance-sockets.ts). */
  instance_sockets: (ack: (count: InstanceSockets) => void) => void
}

/** What the gateway stores on each socket after the handshake. */
export interface SocketData {
  userId: string
  sid: string
  role: 'user' | 'admin'
  /** The user's stored lastSeenAt at connect (ISO), for the first `presence` push. */
  lastSeenAt: string | null
  /** When the socket's current access token expires (ISO); `auth_refresh` moves it (and `sid`, `role`). */
  tokenExpiresAt: string
}

/** Why a handshake was refused: `connect_error` with message "unauthorized"; reconnect with a valid token. */
export type ConnectRefusalCode = Extract<ErrorCode, 'UNAUTHORIZED' | 'TOKEN_EXPIRED' | 'INVALID_TOKEN' | 'TOKEN_REVOKED' | 'ACCOUNT_UNAVAILABLE'>
/** Why the server could not take the socket now: `connect_error` with message "unavailable"; retry later (or elsewhere). */
export type ConnectUnavailableCode = Extract<ErrorCode, 'INTERNAL_ERROR' | 'SHUTTING_DOWN' | 'RATE_LIMITED'>

/** `connect_error`'s `data`: a refusal (message "unauthorized") or an unavailable server (message "unavailable"). */
export interface ConnectErrorData { code: ConnectRefusalCode | ConnectUnavailableCode }
export interface ConnectRefusalData { code: ConnectRefusalCode }
