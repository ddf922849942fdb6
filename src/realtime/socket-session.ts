/**
 * Keeps a live socket's authentication in step with its access token. The handshake token's expiry becomes the
 * socket's deadline; the client may send `auth_refresh { token }` with a fresh access token (same user) before
 * then, which moves the deadline and rebinds the socket to the token's session (so revoking that session is what
 * disconnects it). A socket whose deadline passes gets `session_expired` and is disconnected by the server, so
 * socket.io-client does not reconnect on its own: the client reconnects with a new token, when it wants to.
 */
import type { FastifyInstance } from 'fastify'
import { forbidden, unauthorized } from '../shared/errors.js'
import type { SocketContext, SocketHandler } from './contracts.js'
import type { AuthRefreshResult, ConnectRefusalCode } from './events.js'
import { authenticateToken, isRefusal, normalizeToken, type SocketAuth } from './socket-auth.js'

/**
 * How long a socket outlives its token's expiry: 5 s. Covers clock skew between instances and a refresh that is
 * in flight when the token runs out, so a client that refreshes on time is never cut off.
 */
export const TOKEN_EXPIRY_GRACE_MS = 5_000

/** setTimeout's largest delay (2^31-1 ms, about 24.8 days); a longer wait is re-armed in steps. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1

/** How late past its deadline a socket may expire at most: deadlines are kept in buckets this wide. Default 250 ms. */
export const EXPIRY_RESOLUTION_MS = 250

/**
 * Calls `onExpired(item)` once an item's deadline has passed, for any number of items with one timer: deadlines go
 * into buckets EXPIRY_RESOLUTION_MS wide, and the one pending timer (unref'd: it never keeps a process alive) is
 * for the earliest bucket. An item costs an entry in two hash tables instead of a timer, a closure and a
 * TimersList of its own (each distinct setTimeout delay makes one). An item fires at most one resolution late,
 * never early, and at most once per `arm`.
 */
export class ExpiryWheel<T> {
  /** Bucket number -> the items due in it. Bucket b ends at origin + (b + 1) * resolution. */
  private readonly buckets = new Map<number, Set<T>>()
  /** Item -> its bucket (for clear and re-arm). */
  private readonly bucketOf = new Map<T, number>()
  /** Bucket numbers with items, as a binary min-heap (a number may linger after its bucket emptied: skipped). */
  private readonly heap: number[] = []
  /** Bucket numbers count from here: small integers, which V8 stores without a heap number. */
  private readonly origin = Date.now()
  private timer: NodeJS.Timeout | null = null
  /** The bucket the pending timer is for. */
  private timerBucket = Infinity

  /**
   * @param onExpired called once per item whose deadline passed (its entry already gone: it may re-arm the item)
   * @param onError told about a throwing `onExpired` (the other items due still fire); default: rethrown, uncaught
   * @param resolutionMs bucket width, default EXPIRY_RESOLUTION_MS
   */
  constructor (
    private readonly onExpired: (item: T) => void,
    private readonly onError: (error: unknown) => void = error => { queueMicrotask(() => { throw error }) },
    private readonly resolutionMs = EXPIRY_RESOLUTION_MS
  ) {}

  /** (Re)arms `item` for `deadlineMs` (epoch ms), replacing its pending deadline. */
  arm (item: T, deadlineMs: number): void {
    this.clear(item)
    // The bucket whose end is at or after the deadline: never early.
    // (Negative for a deadline already past, which fires at once.)
    const bucket = Math.ceil((deadlineMs - this.origin) / this.resolutionMs) - 1
    let due = this.buckets.get(bucket)
    if (due === undefined) {
      this.buckets.set(bucket, due = new Set())
      this.push(bucket)
    }
    due.add(item)
    this.bucketOf.set(item, bucket)
    if (bucket < this.timerBucket) this.schedule()
  }

  clear (item: T): void {
    const bucket = this.bucketOf.get(item)
    if (bucket === undefined) return
    this.bucketOf.delete(item)
    const due = this.buckets.get(bucket)
    due?.delete(item)
    if (due?.size === 0) this.buckets.delete(bucket)
  }

  armed (item: T): boolean { return this.bucketOf.has(item) }

  /** Items waiting. */
  get size (): number { return this.bucketOf.size }

  /** Drops every item and the timer (nothing fires after). */
  stop (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.timerBucket = Infinity
    this.buckets.clear()
    this.bucketOf.clear()
    this.heap.length = 0
  }

  private endOf (bucket: number): number {
    return this.origin + (bucket + 1) * this.resolutionMs
  }

  /** One timer, for the earliest bucket with items (none when there is none). */
  private schedule (): void {
    while (this.heap.length > 0 && !this.buckets.has(this.heap[0])) this.pop()
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.timerBucket = this.heap.length > 0 ? this.heap[0] : Infinity
    if (this.timerBucket === Infinity) return
    // A capped wait (deadlines weeks away) ends early: fire() then finds nothing due and waits again.
    const delay = Math.min(Math.max(this.endOf(this.timerBucket) - Date.now(), 0), MAX_TIMER_DELAY_MS)
    this.timer = setTimeout(() => { this.fire() }, delay)
    this.timer.unref()
  }

  private fire (): void {
    this.timer = null
    this.timerBucket = Infinity
    const now = Date.now()
    while (this.heap.length > 0 && this.endOf(this.heap[0]) <= now) {
      const bucket = this.pop()
      const due = this.buckets.get(bucket)
      if (due === undefined) continue
      this.buckets.delete(bucket)
      for (const item of due) {
        this.bucketOf.delete(item)
        try {
          this.onExpired(item)
        } catch (error) {
          this.onError(error)
        }
      }
    }
    this.schedule()
  }

  private push (bucket: number): void {
    const heap = this.heap
    let i = heap.push(bucket) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (heap[parent] <= bucket) break
      heap[i] = heap[parent]
      i = parent
    }
    heap[i] = bucket
  }

  private pop (): number {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop() as number
    if (heap.length === 0) return top
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= heap.length) break
      const child = left + 1 < heap.length && heap[left + 1] < heap[left] ? left + 1 : left
      if (heap[child] >= last) break
      heap[i] = heap[child]
      i = child
    }
    heap[i] = last
    return top
  }
}

/** The deadline (epoch ms) of a token that expires at `expiresAt`. */
export function deadlineOf (expiresAt: Date | string): number {
  return new Date(expiresAt).getTime() + TOKEN_EXPIRY_GRACE_MS
}

const REFUSALS: Record<ConnectRefusalCode, string> = {
  UNAUTHORIZED: 'An access token is required',
  INVALID_TOKEN: 'The access token is invalid',
  TOKEN_EXPIRED: 'The access token has expired',
  TOKEN_REVOKED: 'The session was revoked',
  ACCOUNT_UNAVAILABLE: 'The account is disabled or deleted'
}

/**
 * Moves the sending socket to a verified token (session, role, deadline); throws an AppError when the socket can
 * no longer take it (closed meanwhile, or the new session revoked meanwhile). Implemented by the gateway.
 */
export type SocketRebinder = (context: SocketContext, auth: SocketAuth) => AuthRefreshResult

/** The `auth_refresh` client event. Any refused token answers UNAUTHORIZED (the message says why) and changes nothing. */
export function authRefreshHandler (app: FastifyInstance, rebind: SocketRebinder): SocketHandler<'auth_refresh'> {
  return async (context, payload) => {
    let auth: SocketAuth
    try {
      auth = await authenticateToken(app, normalizeToken(payload.token))
    } catch (error) {
      if (isRefusal(error)) throw unauthorized(REFUSALS[error.data.code] ?? REFUSALS.INVALID_TOKEN)
      throw error
    }
    if (auth.userId !== context.userId) throw forbidden('The token belongs to another user', 'USER_MISMATCH')
    return rebind(context, auth)
  }
}
