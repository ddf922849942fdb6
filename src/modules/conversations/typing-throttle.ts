/**
 * Typing indicators are chatty (a client may send one per keystroke): per user and conversation, a repeat of the
 * same state within `windowMs` is dropped; a change of state always passes. Never stored.
 */
export interface TypingThrottleOptions {
  /** Default 2000 ms. */
  windowMs?: number
  /** Entries kept before stale ones are pruned. Default 10000. */
  maxEntries?: number
}

export class TypingThrottle {
  private readonly windowMs: number
  private readonly maxEntries: number
  private readonly last = new Map<string, { at: number, isTyping: boolean }>()

  constructor (options: TypingThrottleOptions = {}) {
    this.windowMs = options.windowMs ?? 2000
    this.maxEntries = options.maxEntries ?? 10_000
  }

  /** True when this indicator should be broadcast (and records it). */
  allow (userId: string, conversationId: string, isTyping: boolean, now = Date.now()): boolean {
    const key = `${userId}:${conversationId}`
    const previous = this.last.get(key)
    if (previous !== undefined && previous.isTyping === isTyping && now - previous.at < this.windowMs) return false
    if (this.last.size >= this.maxEntries) this.prune(now)
    this.last.set(key, { at: now, isTyping })
    return true
  }

  private prune (now: number): void {
    for (const [key, entry] of this.last) if (now - entry.at >= this.windowMs) this.last.delete(key)
  }
}
