/**
 * Confirms what the client holds with `delivered {conversationId, seq}` (the highest gapless seq), so a device
 * that starts without a cache syncs only what none of the user's devices confirmed. The server does not move the
 * mark by itself: a client that crashes before confirming gets the same messages again (the timeline drops the
 * repeats). Marks are batched: one flush `flushDelayMs` after the first change, one event per conversation.
 */
import type { ParleySocket } from './types.js'

export class DeliveryMarks {
  private readonly confirmed = new Map<string, number>()
  private readonly wanted = new Map<string, number>()
  private timer: ReturnType<typeof setTimeout> | null = null

  constructor (private readonly socket: () => ParleySocket | null, private readonly flushDelayMs = 500) {}

  /** The conversation is held gapless up to `seq`. */
  note (conversationId: string, seq: number | null): void {
    if (seq === null || seq <= (this.confirmed.get(conversationId) ?? 0)) return
    this.wanted.set(conversationId, seq)
    this.timer ??= setTimeout(() => { this.flush() }, this.flushDelayMs)
  }

  close (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private flush (): void {
    this.timer = null
    const socket = this.socket()
    if (socket === null) return // the next sync notes them again
    for (const [conversationId, seq] of this.wanted) {
      this.confirmed.set(conversationId, seq)
      socket.emit('delivered', { conversationId, seq }, () => {})
    }
    this.wanted.clear()
  }
}
