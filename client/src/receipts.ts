/**
 * What the other members have received and read, per conversation: for each of them a lower bound of their
 * delivered and read marks, raised (never lowered) by `receipt` events, by their own messages (sending moves the
 * sender's marks to the message, on the server) and by `load()` (`GET /api/conversations/:id/receipts?seq=`).
 * `stateOf` tells one of our messages' state from those bounds and the members in `client.conversations`
 * (so load the list first): `read` once every other member read it, `delivered` once every other member's
 * device confirmed it, `sent` before that (and when the conversation is not in the list, or has no other member).
 */
import { Emitter } from './emitter.js'
import type { ParleyClient } from './parley-client.js'
import type { MessagePayload, ParleySocket, ReceiptEvent } from './types.js'

export interface MemberMarks { deliveredSeq: number, readSeq: number }
export type DeliveryState = 'sent' | 'delivered' | 'read'

const NONE: MemberMarks = { deliveredSeq: 0, readSeq: 0 }

export class Receipts extends Emitter<{ changed: [conversationId: string] }> {
  private readonly marks = new Map<string, Map<string, MemberMarks>>()

  constructor (private readonly client: ParleyClient) {
    super()
  }

  /** The state of our stored message `seq` in the conversation. */
  stateOf (conversationId: string, seq: number): DeliveryState {
    const members = this.client.conversations.get(conversationId)?.members ?? []
    const others = members.filter(member => member.userId !== this.client.userId)
    if (others.length === 0) return 'sent'
    const known = this.marks.get(conversationId)
    const marksOf = (userId: string): MemberMarks => known?.get(userId) ?? NONE
    if (others.every(member => marksOf(member.userId).readSeq >= seq)) return 'read'
    if (others.every(member => marksOf(member.userId).deliveredSeq >= seq)) return 'delivered'
    return 'sent'
  }

  /** A member's known marks in the conversation (zeros when nothing is known). */
  marksOf (conversationId: string, userId: string): MemberMarks {
    return { ...(this.marks.get(conversationId)?.get(userId) ?? NONE) }
  }

  /** Asks the server who has received and read `seq` (e.g. for messages sent before this client started). */
  async load (conversationId: string, seq: number): Promise<void> {
    const answer = await this.client.session.request('GET',
      `/api/conversations/${encodeURIComponent(conversationId)}/receipts?seq=${seq}`) as { delivered: string[], read: string[] }
    let moved = false
    for (const userId of answer.read) moved = this.raise(conversationId, userId, seq, seq) || moved
    for (const userId of answer.delivered) moved = this.raise(conversationId, userId, seq, 0) || moved
    if (moved) this.emit('changed', conversationId)
  }

  /**
   * Brings the states of our messages the timeline holds up to date (e.g. after a reload, when no live event told
   * them): the other senders' messages there raise their marks, then a binary search over our own seqs, one
   * `load` per probe (marks only move forward, so "everyone read seq s" holds for every seq below one where it
   * holds): about 2 log2(n) requests for n of our messages, none when every one is known read.
   */
  async refresh (conversationId: string): Promise<void> {
    const own: number[] = []
    let moved = false
    for (const message of this.client.messages(conversationId)) {
      if (message.status !== 'stored') continue
      if (message.senderId === this.client.userId) own.push(message.seq)
      else moved = this.raise(conversationId, message.senderId, message.seq, message.seq) || moved
    }
    if (moved) this.emit('changed', conversationId)
    const probed = new Set<number>()
    const probe = async (seq: number, state: DeliveryState): Promise<boolean> => {
      if (!probed.has(seq) && !reached(this.stateOf(conversationId, seq), state)) {
        probed.add(seq)
        await this.load(conversationId, seq)
      }
      return reached(this.stateOf(conversationId, seq), state)
    }
    // The first of our seqs not known read, then the first not known delivered at or after it.
    const notRead = await firstFailing(own, async seq => await probe(seq, 'read'))
    await firstFailing(own.slice(notRead), async seq => await probe(seq, 'delivered'))
  }

  /** Drops what is known of a conversation (we left it, or it was deleted). */
  forget (conversationId: string): void { this.marks.delete(conversationId) }

  /** @internal */
  attach (socket: ParleySocket): void {
    socket.on('receipt', event => { this.onReceipt(event) })
    socket.on('re_message', ({ message }) => { this.onMessage(message) })
    socket.on('re_message_file', ({ message }) => { this.onMessage(message) })
    socket.on('member_left', ({ conversationId, userId }) => { if (userId === this.client.userId) this.forget(conversationId) })
    socket.on('conversation_deleted', ({ conversationId }) => { this.forget(conversationId) })
  }

  private onReceipt (event: ReceiptEvent): void {
    if (event.userId === this.client.userId) return // ours: conversations.ts keeps our own marks
    const read = event.kind === 'read' ? event.seq : 0
    if (this.raise(event.conversationId, event.userId, event.seq, read)) this.emit('changed', event.conversationId)
  }

  private onMessage (message: MessagePayload): void {
    if (message.senderId === this.client.userId) return
    if (this.raise(message.conversationId, message.senderId, message.seq, message.seq)) this.emit('changed', message.conversationId)
  }

  /** Raises a member's marks to at least the given seqs; true when one moved. */
  private raise (conversationId: string, userId: string, deliveredSeq: number, readSeq: number): boolean {
    let members = this.marks.get(conversationId)
    if (members === undefined) this.marks.set(conversationId, members = new Map())
    const known = members.get(userId) ?? NONE
    // Read implies delivered.
    const next = { deliveredSeq: Math.max(known.deliveredSeq, deliveredSeq, readSeq), readSeq: Math.max(known.readSeq, readSeq) }
    if (next.deliveredSeq === known.deliveredSeq && next.readSeq === known.readSeq) return false
    members.set(userId, next)
    return true
  }
}

const ORDER: DeliveryState[] = ['sent', 'delivered', 'read']
function reached (state: DeliveryState, wanted: DeliveryState): boolean { return ORDER.indexOf(state) >= ORDER.indexOf(wanted) }

/** The index of the first seq for which `holds` is false, given it holds for a prefix of `seqs` (binary search). */
async function firstFailing (seqs: number[], holds: (seq: number) => Promise<boolean>): Promise<number> {
  let low = 0
  let high = seqs.length
  while (low < high) {
    const middle = (low + high) >> 1
    if (await holds(seqs[middle])) low = middle + 1
    else high = middle
  }
  return low
}
