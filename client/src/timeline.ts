/**
 * One conversation's messages in seq order, each exactly once, whatever the path they came by (live event, sync
 * page, REST history, a send's ack). Messages are keyed by seq; `top` is the highest seq up to which nothing is
 * missing, and only messages at or below it are shown: one above a gap is held until the gap is filled (the
 * timeline asks its owner to fill it through `onGap`). Our own unacked sends (pending or failed) follow the stored
 * messages, in send order, until the stored copy with the same clientMsgId is shown.
 *
 * Where the shown range starts (its anchor) is known only from a source that says what lies below it: a sync page
 * (the server answers a conversation without a cursor from the user's delivered mark), a REST history page, seq 1,
 * or a sync run that started after the message was held and answered nothing for the conversation (everything up
 * to it was confirmed by a device of ours). A live event or an ack in a timeline with nothing shown yet is held
 * until then: the first message to arrive live is not always the first one missing (seq 1 may be on its way in a
 * sync answer while seq 2 comes live).
 */
import type { LocalMessage, MessagePayload, TimelineMessage } from './types.js'

export class Timeline {
  private readonly stored = new Map<number, MessagePayload>()
  private readonly local = new Map<string, LocalMessage>()
  private floor: number | null = null
  private topSeq: number | null = null
  private view: TimelineMessage[] = []
  /** A sync request went out while this timeline held messages with no anchor (see `syncAsked`). */
  private askedUnanchored = false

  /**
   * @param onChange called with the new view whenever what is shown changed
   * @param onGap called when a message is held above a gap (the owner fetches after `top`)
   */
  constructor (
    readonly conversationId: string,
    private readonly onChange: (messages: TimelineMessage[]) => void,
    private readonly onGap: (timeline: Timeline) => void
  ) {}

  /** The highest seq held with nothing missing below it (down to the oldest loaded); null when nothing is shown. */
  get top (): number | null { return this.topSeq }
  /** The lowest seq loaded (REST history pages go below it). */
  get oldest (): number | null { return this.floor }
  /** Whether messages are held above a gap (or held until the timeline knows where it starts). */
  get hasGap (): boolean {
    const top = this.topSeq ?? 0
    for (const seq of this.stored.keys()) if (seq > top) return true
    return false
  }

  messages (): TimelineMessage[] { return this.view }

  /**
   * Merges stored messages from any source; duplicates and stale copies change nothing. `anchored`: the source
   * says what lies below them (a sync page, a REST history page), so a timeline showing nothing yet starts at the
   * lowest seq held.
   */
  merge (messages: MessagePayload[], anchored = false): void {
    let changed = false
    for (const message of messages) changed = this.put(message) || changed
    if (changed && this.topSeq === null && (anchored || this.stored.has(1))) this.anchor()
    if (changed) this.refresh()
  }

  /** A sync request is going out (its cursors were just read). */
  syncAsked (): void {
    if (this.topSeq === null && this.stored.size > 0) this.askedUnanchored = true
  }

  /**
   * A sync run ended with nothing more to fetch. Messages held since before it with no anchor still: the server
   * had nothing undelivered below them (a device of ours confirmed it), so the lowest of them is where this starts.
   */
  syncDone (): void {
    if (!this.askedUnanchored) return
    this.askedUnanchored = false
    if (this.topSeq !== null || this.floor === null) return
    this.anchor()
    this.refresh()
  }

  /** Adds a local message (a send the server has not acked yet). */
  addLocal (message: LocalMessage): void {
    this.local.set(message.clientMsgId, message)
    this.refresh()
  }

  /** Marks a local message failed with the server's code. */
  fail (clientMsgId: string, error: { code: string, message: string }): void {
    const message = this.local.get(clientMsgId)
    if (message === undefined) return
    message.status = 'failed'
    message.error = error
    this.refresh()
  }

  /** A failed local message back to pending (to send it again); null when there is no such failed message. */
  revive (clientMsgId: string): LocalMessage | null {
    const message = this.local.get(clientMsgId)
    if (message?.status !== 'failed') return null
    message.status = 'pending'
    delete message.error
    this.refresh()
    return message
  }

  /** Drops a failed local message (the app gave up on it); a pending one stays (the outbox still sends it). */
  discard (clientMsgId: string): void {
    if (this.local.get(clientMsgId)?.status === 'failed' && this.local.delete(clientMsgId)) this.refresh()
  }

  /** Applies `message_deleted`: the message keeps its seq, loses its body and attachments. */
  markDeleted (seq: number, messageId: string): void {
    const message = this.stored.get(seq)
    if (message === undefined || message.id !== messageId || message.deletedAt !== null) return
    this.stored.set(seq, { ...message, body: '', attachments: [], deletedAt: new Date().toISOString() })
    this.refresh()
  }

  private put (message: MessagePayload): boolean {
    const existing = this.stored.get(message.seq)
    if (existing !== undefined && !newer(message, existing)) return false
    this.stored.set(message.seq, message)
    if (this.floor === null || message.seq < this.floor) this.floor = message.seq
    // A block just below the floor (history) connects to what is shown; above top, advance while contiguous.
    while (this.topSeq !== null && this.stored.has(this.topSeq + 1)) this.topSeq++
    return true
  }

  /** Starts the shown range at the lowest seq held. */
  private anchor (): void {
    this.topSeq = (this.floor as number) - 1
    while (this.stored.has(this.topSeq + 1)) this.topSeq++
  }

  private refresh (): void {
    const shown: TimelineMessage[] = []
    const top = this.topSeq ?? 0
    const seqs = [...this.stored.keys()].filter(seq => seq <= top).sort((a, b) => a - b)
    for (const seq of seqs) {
      const message = this.stored.get(seq) as MessagePayload
      if (message.clientMsgId !== null) this.local.delete(message.clientMsgId)
      shown.push({ ...message, status: 'stored' })
    }
    for (const message of this.local.values()) shown.push({ ...message })
    this.view = shown
    this.onChange(shown)
    if (this.hasGap) this.onGap(this)
  }
}

/** Whether `incoming` is a later state of the message than `existing` (an edit or a delete after it). */
function newer (incoming: MessagePayload, existing: MessagePayload): boolean {
  if (existing.deletedAt !== null) return false
  if (incoming.deletedAt !== null) return true
  return (incoming.editedAt ?? '') > (existing.editedAt ?? '')
}
