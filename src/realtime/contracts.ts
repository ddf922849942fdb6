/**
 * Contracts between the socket gateway (src/realtime/) and the domain modules (src/modules/*):
 * - modules give the gateway handlers for client events by name (SocketHandlers); the gateway validates each
 *   payload against the event's schema in events.schemas.ts, calls the handler, and answers the ack
 *   `{ ok: true, data }` or `{ ok: false, error: { code, message } }`: handlers never touch acks or raw sockets;
 * - services reach clients through a Notifier, never through Socket.IO directly, so REST calls deliver in
 *   realtime exactly like socket sends, and going multi-instance changes only the adapter.
 * Names are typed by the event maps: a misspelt event is a compile error.
 */
import type { UserRole } from '../storage/models/user.model.js'
import type { AckData, ClientEventName, ClientPayload, ServerEventName, ServerPayload } from './events.js'

/** Who sent a socket event. */
export interface SocketContext {
  userId: string
  sid: string
  role: UserRole
  /** The sending socket, so broadcasts can skip it (it gets the ack instead). */
  socketId: string
}

/** Runs one validated client event; resolves with the ack's `data`, throws AppError for an error ack. */
export type SocketHandler<E extends ClientEventName> = (context: SocketContext, payload: ClientPayload<E>) => Promise<AckData<E>>

/** A module's handlers, by client event name. */
export type SocketHandlers = { [E in ClientEventName]?: SocketHandler<E> }

/** A server event's payload as services give it: the notifier adds `action`. */
export type EventBody<E extends ServerEventName> = Omit<ServerPayload<E>, 'action'>

export interface EmitOptions {
  /** Skip this socket (the sender's, which gets an ack instead). */
  exceptSocketId?: string
  /** Skip every socket of this user (typing goes to the others, not to the typist's other tabs). */
  exceptUserId?: string
}

/** How services reach connected clients on every instance. Implemented over Socket.IO rooms (notifier.ts). */
export interface Notifier {
  /** Emit to every socket in the conversation's room. */
  toConversation: <E extends ServerEventName>(conversationId: string, event: E, payload: EventBody<E>, options?: EmitOptions) => void
  /** Emit once to every socket in any of these conversations' rooms (a socket in several gets it once). */
  toConversations: <E extends ServerEventName>(conversationIds: string[], event: E, payload: EventBody<E>, options?: EmitOptions) => void
  /** Emit to every socket of these users. */
  toUsers: <E extends ServerEventName>(userIds: string[], event: E, payload: EventBody<E>, options?: EmitOptions) => void
  /**
   * Move every socket of these users into / out of the conversation's room, on every instance: resolves once each
   * instance has applied it, so the next emit anywhere already sees the new membership.
   */
  joinConversation: (userIds: string[], conversationId: string) => Promise<void>
  leaveConversation: (userIds: string[], conversationId: string) => Promise<void>
}

/** Where the gateway asks the domain which conversation rooms a connecting user belongs in. */
export type ConversationRoomsResolver = (userId: string) => Promise<string[]>
