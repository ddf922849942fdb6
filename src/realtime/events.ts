/**
 * The typed Socket.IO event maps: the one file a client app imports (types only, no runtime code), e.g.
 * `const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, { auth: { token } })`.
 * Kept in sync with the README's event reference and API.md's Realtime section.
 */

/** Every ack: the handler's result, or a coded error (the same codes as the REST facade). */
export type Ack<T> = { ok: true, data: T } | { ok: false, error: AckError }

export interface AckError {
  /** Stable machine-readable code: VALIDATION_ERROR, NOT_FOUND, FORBIDDEN, RATE_LIMITED, INTERNAL_ERROR, ... */
  code: string
  message: string
}

export type AckCallback<T> = (response: Ack<T>) => void

// ---- Wire shapes (what API.md describes; times are ISO-8601 strings on the wire) ----

export interface AttachmentPayload {
  id: string
  name: string
  size: number
  sizeLabel: string
  mimeType: string
  url: string
}

export interface MessagePayload {
  id: string
  conversationId: string
  seq: number
  senderId: string
  body: string
  attachments: AttachmentPayload[]
  clientMsgId: string | null
  replyToId: string | null
  createdAt: string
  editedAt: string | null
  deletedAt: string | null
}

/** A user as anyone may see them (`deleted: true` for a deleted account, shown as `deleted-user`). */
export interface PublicUserPayload {
  id: string
  username: string
  firstName: string
  lastName: string
  online: boolean
  lastSeenAt: string | null
  deleted: boolean
}

export interface ConversationMemberPayload {
  userId: string
  role: 'owner' | 'admin' | 'member'
  joinedAt: string
  /** The member's public profile, so clients need no extra lookup to show a conversation. */
  user: PublicUserPayload
}

export interface ConversationPayload {
  id: string
  type: 'direct' | 'group'
  name: string | null
  subject: string | null
  visibility: 'private' | 'public'
  members: ConversationMemberPayload[]
  createdBy: string
  createdAt: string
  lastSeq: number
  lastMessage: MessagePayload | null
  /** When the last message arrived (or the conversation was created): the list's order. */
  lastActivityAt: string
  /** The caller's own marks and unread count. */
  unreadCount: number
  readSeq: number
  deliveredSeq: number
}

// ---- Client to server: payloads and ack data ----

/** Exactly one of `conversationId` / `receiverId` (the latter uses or creates the direct conversation). */
export type MessageTarget = { conversationId: string, receiverId?: never } | { receiverId: string, conversationId?: never }

export type ChatMessageInput = MessageTarget & { body: string, clientMsgId?: string, replyToId?: string }
export type ChatMessageFileInput = MessageTarget & { attachmentIds: string[], body?: string, clientMsgId?: string, replyToId?: string }
export interface MessageEditInput { messageId: string, body: string }
export interface MessageDeleteInput { messageId: string }
export interface TypingInput { conversationId: string, isTyping: boolean }
export interface ReceiptInput { conversationId: string, seq: number }
export interface SyncCursor { conversationId: string, afterSeq: number }
export interface SyncInput { cursors?: SyncCursor[] }
export interface SyncResult { conversations: Array<{ conversationId: string, messages: MessagePayload[], hasMore: boolean }> }
export interface PresenceQueryInput { userIds: string[] }
export interface PresenceState { online: boolean, lastSeenAt: string | null }
export type PresenceQueryResult = Record<string, PresenceState>
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type EmptyResult = {}
/** A fresh access token (from POST /api/auth/refresh) for the live socket; same user as the socket's. */
export interface AuthRefreshInput { token: string }
/** When the socket's new token expires (ISO): refresh again before then (plus the server's grace). */
export interface AuthRefreshResult { expiresAt: string }

export interface ClientToServerEvents {
  chat_message: (payload: ChatMessageInput, ack: AckCallback<MessagePayload>) => void
  chat_message_file: (payload: ChatMessageFileInput, ack: AckCallback<MessagePayload>) => void
  message_edit: (payload: MessageEditInput, ack: AckCallback<MessagePayload>) => void
  message_delete: (payload: MessageDeleteInput, ack: AckCallback<{ messageId: string }>) => void
  typing: (payload: TypingInput, ack: AckCallback<EmptyResult>) => void
  delivered: (payload: ReceiptInput, ack: AckCallback<EmptyResult>) => void
  read: (payload: ReceiptInput, ack: AckCallback<EmptyResult>) => void
  sync: (payload: SyncInput, ack: AckCallback<SyncResult>) => void
  presence_query: (payload: PresenceQueryInput, ack: AckCallback<PresenceQueryResult>) => void
  /** Errors: UNAUTHORIZED (bad, expired or revoked token; the socket stays as it was), USER_MISMATCH. */
  auth_refresh: (payload: AuthRefreshInput, ack: AckCallback<AuthRefreshResult>) => void
}

// ---- Server to client: every payload carries `action` equal to the event name ----

export interface MessageEvent<A extends string> { action: A, message: MessagePayload }
export interface MessageDeletedEvent { action: 'message_deleted', conversationId: string, messageId: string, seq: number }
export interface ReceiptEvent { action: 'receipt', conversationId: string, userId: string, kind: 'delivered' | 'read', seq: number, at: string }
export interface TypingEvent { action: 'typing', conversationId: string, userId: string, isTyping: boolean }
export interface PresenceEvent { action: 'presence', userId: string, online: boolean, lastSeenAt: string | null }
export interface ConversationUpdatedEvent { action: 'conversation_updated', conversation: ConversationPayload }
export interface MemberEvent<A extends string> { action: A, conversationId: string, userId: string }
/** The socket's access token expired without an `auth_refresh`: the server disconnects it right after. */
export interface SessionExpiredEvent { action: 'session_expired', reason: 'token_expired' }
/**
 * The instance's link to the rest of the cluster (Redis) came back after an outage: events from other instances
 * were lost meanwhile, so call `sync` (the socket is in its conversations' rooms again already).
 */
export interface ResyncEvent { action: 'resync', reason: 'cluster_reconnected' }

export interface ServerToClientEvents {
  re_message: (payload: MessageEvent<'re_message'>) => void
  re_message_file: (payload: MessageEvent<'re_message_file'>) => void
  message_updated: (payload: MessageEvent<'message_updated'>) => void
  message_deleted: (payload: MessageDeletedEvent) => void
  receipt: (payload: ReceiptEvent) => void
  typing: (payload: TypingEvent) => void
  presence: (payload: PresenceEvent) => void
  conversation_updated: (payload: ConversationUpdatedEvent) => void
  member_joined: (payload: MemberEvent<'member_joined'>) => void
  member_left: (payload: MemberEvent<'member_left'>) => void
  session_expired: (payload: SessionExpiredEvent) => void
  resync: (payload: ResyncEvent) => void
}

/** Between instances (serverSideEmit); none yet. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InterServerEvents {}

/** What the gateway stores on each socket after the handshake. */
export interface SocketData {
  userId: string
  sid: string
  role: 'user' | 'admin'
  /** The user's stored lastSeenAt at connect (ISO), for the first `presence` push. */
  lastSeenAt: string | null
  /** Conversations the socket joined at connect (from the ConversationRoomsResolver). */
  conversationIds: string[]
  /** When the socket's current access token expires (ISO); `auth_refresh` moves it (and `sid`, `role`). */
  tokenExpiresAt: string
}

/** The `connect_error` a refused handshake gives: `message` is always "unauthorized". */
export interface ConnectErrorData { code: 'UNAUTHORIZED' | 'TOKEN_EXPIRED' | 'INVALID_TOKEN' | 'TOKEN_REVOKED' | 'ACCOUNT_UNAVAILABLE' }
/** The `connect_error` when the server could not check the handshake (e.g. database down): message "unavailable", retry later. */
export interface ConnectUnavailableData { code: 'INTERNAL_ERROR' }
