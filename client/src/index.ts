/** parley-client: the SDK's public surface. */
export { ParleyClient, type ParleyClientEvents, type ParleyClientOptions } from './parley-client.js'
export { ApiError, expiryOf, type FetchLike } from './session.js'
export { retryAfterMs, type OutboxOptions } from './outbox.js'
export type { IoFactory } from './connection.js'
export type { Presence } from './extras.js'
export type * from './types.js'
