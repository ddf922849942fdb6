/** parley-client: the SDK's public surface. */
export { ParleyClient, type ParleyClientEvents, type ParleyClientOptions } from './parley-client.js'
export { ApiError, expiryOf, retryAfterHeaderMs, type FetchLike, type FetchResponseLike } from './session.js'
export { retryAfterMs, type OutboxOptions } from './outbox.js'
export type { IoFactory } from './connection.js'
export type { Presence } from './extras.js'
export { Conversations, type GroupPatch, type NewGroup } from './conversations.js'
export { Receipts, type DeliveryState, type MemberMarks } from './receipts.js'
export type * from './types.js'
