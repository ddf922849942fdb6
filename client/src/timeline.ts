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
 *
 * The view is kept incrementally: a message shown for the first time above the last one shown (the common case)
 * is appended; an edit or delete replaces its entry in place; only messages shown below the lowest one (a history
 * page) rebuild it. Each stored entry is copied once per state, not at every change.
 */
import type { LocalMessage, MessagePayload, TimelineMessage } from './types.js'

type StoredView = MessagePayload & { status: 'stored' }

export class Timeline {
  private readonly stored = new Map<number, MessagePayload>()
  private readonly local = new Map<string, LocalMessage>()
  private floor: number | null = null
  private topSeq: number | null = null
  /** The stored messages shown (seq <= top), ascending; every stored message at or below top is in it. */
  private shown: StoredView[] = []
  /** Copies of the local messages, in send order (rebuilt when one changes state; always as many as `local`). */
  private localView: TimelineMessage[] = []
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
  get hasGap (): boolean { return this.stored.size > this.shown.length }

  messages (): TimelineMessage[] { return this.view }

  /**
   * Merges stored messages from any source; duplicates and stale copies change nothing. `anchored`: the source
   * says what lies below them (a sync page, a REST history page), so a timeline showing nothing yet starts at the
   * lowest seq held.
   */
  merge (messages: MessagePayload[], anchored = false): void {
    const before = this.topSeq
    let added = false
    let replaced = false
    let below = false
    for (const message of messages) {
      const existing = this.stored.get(message.seq)
      if (existing !== undefined && !newer(message, existing)) continue
      this.stored.set(message.seq, message)
      added = true
      if (this.floor === null || message.seq < this.floor) this.floor = message.seq
      if (before === null || message.seq > before) continue // held; shown below once top reaches it
      // At or below top: an edit or delete of a shown message, or one below the lowest shown (a history page).
      if (existing !== undefined) replaced = this.replace(message) || replaced
      else below = true
    }
    if (!added) return
    if (this.topSeq === null && (anchored || this.stored.has(1))) this.topSeq = (this.floor as number) - 1
    const advanced = this.advance(!below)
    if (below) this.rebuild()
    if (advanced || below || replaced) this.refresh()
    else if (this.hasGap) this.onGap(this)
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
    this.topSeq = this.floor - 1
    this.advance(true)
    this.refresh()
  }

  /** Adds a local message (a send the server has not acked yet). */
  addLocal (message: LocalMessage): void {
    this.local.set(message.clientMsgId, message)
    this.localView.push({ ...message })
    this.publish()
  }

  /** Marks a local message failed with the server's code. */
  fail (clientMsgId: string, error: { code: string, message: string }): void {
    const message = this.local.get(clientMsgId)
    if (message === undefined) return
    message.status = 'failed'
    message.error = error
    this.localsChanged()
  }

  /** A failed local message back to pending (to send it again); null when there is no such failed message. */
  revive (clientMsgId: string): LocalMessage | null {
    const message = this.local.get(clientMsgId)
    if (message?.status !== 'failed') return null
    message.status = 'pending'
    delete message.error
    this.localsChanged()
    return message
  }

  /** Drops a failed local message (the app gave up on it); a pending one stays (the outbox still sends it). */
  discard (clientMsgId: string): void {
    if (this.local.get(clientMsgId)?.status === 'failed' && this.local.delete(clientMsgId)) this.localsChanged()
  }

  /**
   * Applies `message_updated`: a later state of a message this timeline holds. One not held (older than the
   * history loaded, or not arrived yet) is left alone: its page, or the sync that brings it, has its latest state,
   * and merging it alone would put a lone old message below a gap.
   */
  update (message: MessagePayload): void {
    if (this.stored.has(message.seq)) this.merge([message])
  }

  /** Applies `message_deleted`: the message keeps its seq, loses its body and attachments. */
  markDeleted (seq: number, messageId: string): void {
    const message = this.stored.get(seq)
    if (message === undefined || message.id !== messageId || message.deletedAt !== null) return
    const deleted = { ...message, body: '', attachments: [], deletedAt: new Date().toISOString() }
    this.stored.set(seq, deleted)
    if (this.replace(deleted)) this.refresh()
  }

  /** Replaces a shown entry by seq (binary search); false when that seq is not shown. */
  private replace (message: MessagePayload): boolean {
    let lo = 0
    let hi = this.shown.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const seq = this.shown[mid].seq
      if (seq === message.seq) {
        this.shown[mid] = { ...message, status: 'stored' }
        return true
      }
      if (seq < message.seq) lo = mid + 1
      else hi = mid - 1
    }
    return false
  }

  /** Moves top up while the next seq is held; `show`: appends what it passes (they all follow the shown ones). */
  private advance (show: boolean): boolean {
    if (this.topSeq === null) return false
    const from = this.topSeq
    while (this.stored.has(this.topSeq + 1)) {
      this.topSeq++
      if (show) this.append(this.stored.get(this.topSeq) as MessagePayload)
    }
    return this.topSeq > from
  }

  private append (message: MessagePayload): void {
    this.shown.push({ ...message, status: 'stored' })
    if (message.clientMsgId === null || !this.local.delete(message.clientMsgId)) return
    // Usually our oldest pending send (one in flight per conversation, acked in order).
    const at = this.localView.findIndex(local => local.clientMsgId === message.clientMsgId)
    if (at >= 0) this.localView.splice(at, 1)
  }

  /** The shown entries from scratch: every stored seq at or below top, ascending. */
  private rebuild (): void {
    const top = this.topSeq ?? 0
    const seqs = [...this.stored.keys()].filter(seq => seq <= top).sort((a, b) => a - b)
    this.shown = []
    for (const seq of seqs) this.append(this.stored.get(seq) as MessagePayload)
  }

  private localsChanged (): void {
    this.localView = []
    this.publish()
  }

  /** Publishes the view after stored entries changed (a local copy they replaced is already gone). */
  private refresh (): void {
    this.publish()
    if (this.hasGap) this.onGap(this)
  }

  private publish (): void {
    if (this.localView.length !== this.local.size) this.localView = [...this.local.values()].map(message => ({ ...message }))
    this.view = this.localView.length === 0 ? this.shown.slice() : [...this.shown, ...this.localView]
    this.onChange(this.view)
  }
}

/** Whether `incoming` is a later state of the message than `existing` (an edit or a delete after it). */
function newer (incoming: MessagePayload, existing: MessagePayload): boolean {
  if (existing.deletedAt !== null) return false
  if (incoming.deletedAt !== null) return true
  return (incoming.editedAt ?? '') > (existing.editedAt ?? '')
}
