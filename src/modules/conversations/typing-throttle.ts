/**
 * Typing indicators are chatty (a client may send one per keystroke). Per user and conversation, within a window
 * of `windowMs`: a repeat of the same state is dropped, and at most `maxPerWindow` indicators pass in all, so a
 * client alternating true/false cannot turn the throttle into a relay. Never stored. Receivers should let a typing
 * state lapse after a few seconds without a refresh, as a dropped `false` is possible under that cap.
 */
export interface TypingThrottleOptions {
  /** Default 2000 ms. */
  windowMs?: number
  /** Indicators that pass per user and conversation in one window, state changes included. Default 4. */
  maxPerWindow?: number
  /** Entries kept before stale ones are pruned. Default 10000. */
  maxEntries?: number
}

interface Entry {
  /** The last state that passed, and when. */
  at: number
  isTyping: boolean
  /** When the current window began and how many passed in it. */
  windowStart: number
  passed: number
}

export class TypingThrottle {
  private readonly windowMs: number
  private readonly maxPerWindow: number
  private readonly maxEntries: number
  private readonly last = new Map<string, Entry>()

  constructor (options: TypingThrottleOptions = {}) {
    this.windowMs = options.windowMs ?? 2000
    this.maxPerWindow = options.maxPerWindow ?? 4
    this.maxEntries = options.maxEntries ?? 10_000
  }

  /** True when this indicator should be broadcast (and records it). */
  allow (userId: string, conversationId: string, isTyping: boolean, now = Date.now()): boolean {
    const key = `${userId}:${conversationId}`
    const previous = this.last.get(key)
    if (previous === undefined) {
      if (this.last.size >= this.maxEntries) this.prune(now)
      this.last.set(key, { at: now, isTyping, windowStart: now, passed: 1 })
      return true
    }
    if (previous.isTyping === isTyping && now - previous.at < this.windowMs) return false
    if (now - previous.windowStart >= this.windowMs) {
      previous.windowStart = now
      previous.passed = 0
    }
    if (previous.passed >= this.maxPerWindow) return false
    previous.passed++
    previous.at = now
    previous.isTyping = isTyping
    return true
  }

  private prune (now: number): void {
    for (const [key, entry] of this.last) if (now - entry.at >= this.windowMs) this.last.delete(key)
  }
}
