/**
 * Contracts between the socket gateway (src/realtime/) and the domain modules (src/modules/*):
 * - modules describe their client events as SocketEventModules (schema + handler); the gateway validates each
 *   payload against the compiled schema, calls the handler, and answers the ack `{ ok: true, data }` or
 *   `{ ok: false, error: { code, message } }` — handlers never touch acks or raw sockets;
 * - services reach clients through a Notifier, never through Socket.IO directly, so REST calls deliver in
 *   realtime exactly like socket sends, and going multi-instance changes only the adapter.
 */
import type { Static, TSchema } from 'typebox'
import type { UserRole } from '../storage/models/user.model.js'

/** Who sent a socket event. */
export interface SocketContext {
  userId: string
  sid: string
  role: UserRole
  /** The sending socket, so broadcasts can skip it (it gets the ack instead). */
  socketId: string
}

export interface SocketEventDefinition<S extends TSchema = TSchema> {
  /** Validated (compiled TypeBox) before `handle` runs; a mismatch is an error ack `VALIDATION_ERROR`. */
  schema: S
  /** Resolves with the ack's `data`; throws AppError for an error ack. */
  handle: (context: SocketContext, payload: Static<S>) => Promise<unknown>
}

/** A module's client-to-server events, by event name. */
export type SocketEventModule = Record<string, SocketEventDefinition<any>>

/** Helper that keeps the payload type tied to its schema. */
export function socketEvent<S extends TSchema> (definition: SocketEventDefinition<S>): SocketEventDefinition<S> {
  return definition
}

export interface EmitOptions {
  /** Skip this socket (the sender's, which gets an ack instead). */
  exceptSocketId?: string
}

/** How services reach connected clients on every instance. Implemented by the gateway. */
export interface Notifier {
  /** Emit to every socket in the conversation's room. The payload gets `action: event` added. */
  toConversation (conversationId: string, event: string, payload: object, options?: EmitOptions): void
  /** Emit to every socket of these users. */
  toUsers (userIds: string[], event: string, payload: object, options?: EmitOptions): void
  /** Move every socket of these users into / out of the conversation's room (works across instances). */
  joinConversation (userIds: string[], conversationId: string): Promise<void>
  leaveConversation (userIds: string[], conversationId: string): Promise<void>
}

/** Where the gateway asks the domain which conversation rooms a connecting user belongs in. */
export type ConversationRoomsResolver = (userId: string) => Promise<string[]>
