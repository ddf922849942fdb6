/**
 * Receipts, typing and presence: the small conveniences around the socket. `markRead` only ever moves forward
 * (the server's rule too, so a lower seq is not even sent); `typing` sends `isTyping: true` at most every 2 s
 * (the server drops repeats within 2 s anyway) and `false` after `typingIdleMs` without a call; presence is a
 * cache of the last `presence` push per user, with the other members' typing states.
 */
import { Emitter } from './emitter.js'
import type { ParleySocket, PresenceEvent, ReceiptEvent, TypingEvent } from './types.js'

export interface Presence { online: boolean, lastSeenAt: string | null }

interface ExtrasEvents {
  presence: [userId: string, presence: Presence]
  typing: [event: TypingEvent]
  receipt: [event: ReceiptEvent]
}

/** How long after the last `typing()` call the SDK sends `isTyping: false`, in ms. */
const TYPING_IDLE_MS = 3000
/** The server pushes one repeat of a state per 2 s at most; sending more often is wasted budget. */
const TYPING_REPEAT_MS = 2000

export class Extras extends Emitter<ExtrasEvents> {
  private readonly presenceCache = new Map<string, Presence>()
  private readonly readMarks = new Map<string, number>()
  private readonly typingState = new Map<string, { sentAt: number, timer: ReturnType<typeof setTimeout> }>()

  constructor (private readonly socket: () => ParleySocket | null) {
    super()
  }

  /** The last known presence of a user (from `presence` pushes), or undefined. */
  presence (userId: string): Presence | undefined { return this.presenceCache.get(userId) }

  /** Moves our read mark in the conversation to `seq` (forward only; resolves false when not sent or refused). */
  async markRead (conversationId: string, seq: number): Promise<boolean> {
    const previous = this.readMarks.get(conversationId) ?? 0
    if (seq <= previous) return false
    const socket = this.socket()
    if (socket === null) return false
    this.readMarks.set(conversationId, seq)
    const ack = await socket.timeout(10_000).emitWithAck('read', { conversationId, seq }).catch(() => null)
    // Not taken (timeout, refusal): forget it, so that marking again sends it again.
    if (ack?.ok !== true && this.readMarks.get(conversationId) === seq) this.readMarks.set(conversationId, previous)
    return ack?.ok === true
  }

  /** Says we are typing in the conversation; stops by itself after 3 s without another call. */
  typing (conversationId: string): void {
    const now = Date.now()
    const state = this.typingState.get(conversationId)
    if (state !== undefined) clearTimeout(state.timer)
    const sentAt = state === undefined || now - state.sentAt >= TYPING_REPEAT_MS ? this.sendTyping(conversationId, true, now) : state.sentAt
    const timer = setTimeout(() => { this.stopTyping(conversationId) }, TYPING_IDLE_MS)
    this.typingState.set(conversationId, { sentAt, timer })
  }

  /** Says we stopped typing (e.g. the message was sent). */
  stopTyping (conversationId: string): void {
    const state = this.typingState.get(conversationId)
    if (state === undefined) return
    clearTimeout(state.timer)
    this.typingState.delete(conversationId)
    this.sendTyping(conversationId, false, Date.now())
  }

  close (): void {
    for (const state of this.typingState.values()) clearTimeout(state.timer)
    this.typingState.clear()
  }

  /** @internal */
  onPresence (event: PresenceEvent): void {
    const presence = { online: event.online, lastSeenAt: event.lastSeenAt }
    this.presenceCache.set(event.userId, presence)
    this.emit('presence', event.userId, presence)
  }

  /** @internal */
  forward (kind: 'typing', event: TypingEvent): void
  forward (kind: 'receipt', event: ReceiptEvent): void
  forward (kind: 'typing' | 'receipt', event: TypingEvent | ReceiptEvent): void {
    if (kind === 'typing') this.emit('typing', event as TypingEvent)
    else this.emit('receipt', event as ReceiptEvent)
  }

  private sendTyping (conversationId: string, isTyping: boolean, now: number): number {
    this.socket()?.emit('typing', { conversationId, isTyping }, () => {})
    return now
  }
}

export function attachExtras (extras: Extras, socket: ParleySocket): void {
  socket.on('presence', event => { extras.onPresence(event) })
  socket.on('typing', event => { extras.forward('typing', event) })
  socket.on('receipt', event => { extras.forward('receipt', event) })
}
