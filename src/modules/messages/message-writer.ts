/**
 * Group commit for sends. Every database command costs a round trip through the driver (about 0.3 ms of CPU
 * here, whatever it carries), so sends are not written one by one: whatever arrives while a flush runs waits
 * for the next one, and each flush does the same few commands for any number of messages across conversations:
 *   1. read the conversations (membership and lastSeq) in one `find`;
 *   2. insert every message in one ordered `insertMany` (seq = lastSeq + 1, + 2, ... per conversation);
 *   3. deliver the stored messages (seq order), and start the next flush;
 *   4. meanwhile move each conversation's lastSeq/lastMessage and each sender's read mark (two `bulkWrite`s), then
 *      resolve the sends. Acks therefore follow the bookkeeping; deliveries need only the durable insert. One
 *      bookkeeping runs at a time and takes everything stored since the last one, so a busy conversation's
 *      lastSeq is written once per bookkeeping, not once per message.
 * Under load batches grow and each message costs less; a lone message pays one loop turn of waiting.
 *
 * Seqs stay gap-free across instances through the unique {conversationId, seq} index: an insert that loses a seq
 * to another instance re-reads the highest stored seq and takes the next one. Within this instance the seqs a
 * flush claimed are remembered until its bookkeeping has moved lastSeq, so the next flush does not collide.
 * A duplicate clientMsgId (a retried send) resolves with the stored original instead.
 */
import { Types } from 'mongoose'
import { AppError } from '../../shared/errors.js'
import type { ConversationModel } from '../../storage/models/conversation.model.js'
import type { ConversationMemberModel } from '../../storage/models/conversation-member.model.js'
import type { MessageAttachment, MessageDoc, MessageModel } from '../../storage/models/message.model.js'
import { conversationNotFound } from '../conversations/conversations.service.js'
import { writeBookkeeping, type ConversationState } from './message-bookkeeping.js'

export interface NewMessage {
  conversationId: Types.ObjectId
  senderId: Types.ObjectId
  body: string
  attachments: MessageAttachment[]
  clientMsgId?: string
  replyToId?: Types.ObjectId
}

/** Hands a stored message on for delivery: called right after the durable insert, in seq order per conversation. */
export type OnStored = (message: MessageDoc) => void

export interface WriteResult { message: MessageDoc, created: boolean }

export interface MessageWriterOptions {
  Conversation: ConversationModel
  ConversationMember: ConversationMemberModel
  Message: MessageModel
  /** Reports a bookkeeping write that failed after the messages were stored (they are still delivered). */
  onError?: (error: unknown) => void
  /** Most messages one flush writes. Default 1000. */
  maxBatch?: number
}

interface Pending extends NewMessage {
  onStored?: OnStored
  doc?: MessageDoc
  resolve: (result: WriteResult) => void
  reject: (error: unknown) => void
}

/** A batch's conversations as read, and how many bookkeeping rounds had completed when the read began. */
interface Read { conversations: Map<string, ConversationState>, roundsDone: number }

const MAX_INSERT_ROUNDS = 10_000
/** Stored messages waiting for bookkeeping beyond which flushes wait for it (backpressure). */
const MAX_BOOKKEEPING_BACKLOG = 5000

const isDuplicateKey = (error: unknown): boolean => (error as { code?: number } | undefined)?.code === 11000

/** The first failed write of an insertMany error (MongoBulkWriteError), or the error itself for a single write. */
function firstWriteError (error: unknown): { index: number, code?: number } | null {
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors !== undefined ? [writeErrors] : []
  if (list.length > 0) return { index: Number(list[0].index ?? 0), code: list[0].code }
  return null
}

export class MessageWriter {
  private readonly options: MessageWriterOptions
  private readonly maxBatch: number
  private queue: Pending[] = []
  private running = false
  /**
   * conversationId -> highest seq inserted here, kept until a conversation read that began after its lastSeq write
   * (round `round` of bookkeeping) has replaced it. Reads that began earlier may not show that seq yet.
   */
  private readonly seqHints = new Map<string, { seq: number, round?: number }>()
  /** Bookkeeping rounds completed. */
  private roundsDone = 0
  /** Counters since start: flushes, messages stored, and inserts that lost a seq to another writer and went again. */
  readonly stats = { flushes: 0, stored: 0, seqConflicts: 0 }
  /** Stored messages whose bookkeeping has not started, and the conversations they were numbered from. */
  private backlog: Pending[] = []
  private backlogConversations = new Map<string, ConversationState>()
  /** The running bookkeeping, if any. */
  private bookkeeping: Promise<void> | null = null

  constructor (options: MessageWriterOptions) {
    this.options = options
    this.maxBatch = options.maxBatch ?? 1000
  }

  /**
   * Stores the message in the next flush. `onStored` gets it right after the durable insert (before lastSeq moves,
   * so delivery does not wait for the bookkeeping); the promise resolves once lastSeq has moved too.
   */
  async write (message: NewMessage, onStored?: OnStored): Promise<WriteResult> {
    return await new Promise<WriteResult>((resolve, reject) => {
      this.queue.push({ ...message, onStored, resolve, reject })
      if (!this.running) {
        this.running = true
        // One turn of the loop first: sends that arrived in the same I/O phase join the first flush.
        setImmediate(() => { void this.drain() })
      }
    })
  }

  /** Resolves once every send written so far is stored, delivered and resolved (shutdown waits for this). */
  async drained (): Promise<void> {
    while (this.running || this.bookkeeping !== null) {
      await (this.bookkeeping ?? new Promise(resolve => setImmediate(resolve)))
    }
  }

  /**
   * Flush after flush while sends wait. The next batch's read overlaps this batch's insert (it needs only the
   * seqs this insert claims, which are known once it returns), so a message waits for less than two full flushes.
   */
  private async drain (): Promise<void> {
    let next = this.take()
    while (next !== null) {
      const { batch, reading } = next
      let read: Read
      try {
        read = await reading
      } catch (error) {
        for (const item of batch) item.reject(error)
        next = this.take()
        continue
      }
      if (this.backlog.length >= MAX_BOOKKEEPING_BACKLOG) await this.bookkeeping
      const writing = this.store(batch, read)
      next = this.take()
      try {
        await writing
      } catch (error) {
        for (const item of batch) item.reject(error)
      }
      // Sends that came while this batch was written (after the take above found none) would otherwise wait
      // for the next write() to start a drain: `running` was still set when they were queued.
      next ??= this.take()
    }
    this.running = false
  }

  /** The next batch and its read, started now. */
  private take (): { batch: Pending[], reading: Promise<Read> } | null {
    if (this.queue.length === 0) return null
    const batch = this.queue.splice(0, this.maxBatch)
    const reading = this.read(batch)
    // Awaited later; without a handler now, a failure meanwhile would count as unhandled.
    reading.catch(() => {})
    return { batch, reading }
  }

  private async read (batch: Pending[]): Promise<Read> {
    const roundsDone = this.roundsDone
    const ids = [...new Map(batch.map(item => [String(item.conversationId), item.conversationId])).values()]
    const found = await this.options.Conversation.collection.find(
      { _id: { $in: ids } }, { projection: { memberIds: 1, lastSeq: 1, hiddenFor: 1 } }
    ).toArray() as unknown as Array<ConversationState & { _id: Types.ObjectId }>
    return { conversations: new Map(found.map(doc => [String(doc._id), doc])), roundsDone }
  }

  private async store (batch: Pending[], { conversations, roundsDone }: Read): Promise<void> {
    const writable: Pending[] = []
    for (const item of batch) {
      const conversation = conversations.get(String(item.conversationId))
      // Membership is checked here, in the same read that gives lastSeq: a member removed meanwhile cannot send.
      if (conversation?.memberIds.some(id => id.equals(item.senderId)) !== true) item.reject(conversationNotFound())
      else writable.push(item)
    }
    const next = new Map<string, number>()
    for (const [key, doc] of conversations) {
      const hint = this.seqHints.get(key)
      next.set(key, Math.max(doc.lastSeq, hint?.seq ?? 0) + 1)
      // The read began after this hint's lastSeq was written, so the database says it from now on.
      if (hint?.round !== undefined && hint.round <= roundsDone) this.seqHints.delete(key)
    }
    for (const item of writable) {
      const key = String(item.conversationId)
      const seq = next.get(key) as number
      next.set(key, seq + 1)
      item.doc = this.docOf(item, seq)
    }
    const stored = await this.insert(writable)
    this.stats.flushes++
    this.stats.stored += stored.length
    if (stored.length === 0) return
    stored.sort((a, b) => (a.doc as MessageDoc).seq - (b.doc as MessageDoc).seq)
    for (const item of stored) {
      const key = String(item.conversationId)
      const seq = (item.doc as MessageDoc).seq
      if ((this.seqHints.get(key)?.seq ?? 0) < seq) this.seqHints.set(key, { seq })
    }
    for (const item of stored) item.onStored?.(item.doc as MessageDoc)
    this.backlog.push(...stored)
    for (const [key, state] of conversations) this.backlogConversations.set(key, state)
    this.bookkeeping ??= this.keepBooks()
  }

  /** Bookkeeping for everything stored so far, round after round, then the sends resolve. */
  private async keepBooks (): Promise<void> {
    while (this.backlog.length > 0) {
      const stored = this.backlog
      const conversations = this.backlogConversations
      this.backlog = []
      this.backlogConversations = new Map()
      try {
        await writeBookkeeping(this.options, stored.map(item => item.doc as MessageDoc), conversations)
      } catch (error) {
        this.options.onError?.(error)
      }
      const round = this.roundsDone + 1
      for (const item of stored) {
        const hint = this.seqHints.get(String(item.conversationId))
        if (hint?.seq === (item.doc as MessageDoc).seq) hint.round = round
        // Stored and delivered whatever the bookkeeping did: the send succeeded.
        item.resolve({ message: item.doc as MessageDoc, created: true })
      }
      this.roundsDone = round
    }
    this.bookkeeping = null
    // Idle: every remembered seq is in the database now.
    if (!this.running) for (const [key, hint] of this.seqHints) if (hint.round !== undefined) this.seqHints.delete(key)
  }

  private docOf (item: Pending, seq: number): MessageDoc {
    const doc: MessageDoc = {
      _id: new Types.ObjectId(),
      conversationId: item.conversationId,
      seq,
      senderId: item.senderId,
      body: item.body,
      attachments: item.attachments,
      createdAt: new Date()
    }
    if (item.clientMsgId !== undefined) doc.clientMsgId = item.clientMsgId
    if (item.replyToId !== undefined) doc.replyToId = item.replyToId
    return doc
  }

  /**
   * Inserts in order; on the first failure everything before it is stored, the failed one is settled or
   * re-numbered, and the rest go again (their conversation's seqs closed up behind the failed one).
   */
  private async insert (items: Pending[]): Promise<Pending[]> {
    const { Message } = this.options
    const stored: Pending[] = []
    let remaining = items
    for (let round = 0; remaining.length > 0; round++) {
      if (round >= MAX_INSERT_ROUNDS) {
        for (const item of remaining) item.reject(new AppError('BUSY', 'The conversation is too busy, retry'))
        break
      }
      try {
        await Message.collection.insertMany(remaining.map(item => item.doc as MessageDoc), { ordered: true })
        stored.push(...remaining)
        break
      } catch (error) {
        const failure = firstWriteError(error)
        if (failure === null) throw error
        stored.push(...remaining.slice(0, failure.index))
        const failed = remaining[failure.index]
        const rest = remaining.slice(failure.index + 1)
        const doc = failed.doc as MessageDoc
        let nextSeq = doc.seq
        if (!isDuplicateKey(failure)) {
          failed.reject(error)
        } else if (await this.settleRetry(failed)) {
          // a retried send: the original is stored; this one takes no seq
        } else {
          // another instance took the seq: continue after the highest stored one
          this.stats.seqConflicts++
          const latest = await Message.collection.findOne({ conversationId: doc.conversationId }, { sort: { seq: -1 }, projection: { seq: 1 } })
          nextSeq = Math.max(doc.seq, Number(latest?.seq ?? 0)) + 1
          rest.unshift(failed)
        }
        for (const item of rest) {
          if (!item.conversationId.equals(doc.conversationId)) continue
          (item.doc as MessageDoc).seq = nextSeq++
        }
        remaining = rest
      }
    }
    return stored
  }

  /** A duplicate key with a clientMsgId the sender already used: resolves with the original. */
  private async settleRetry (item: Pending): Promise<boolean> {
    if (item.clientMsgId === undefined) return false
    const original = await this.options.Message.collection.findOne({
      conversationId: item.conversationId, senderId: item.senderId, clientMsgId: item.clientMsgId
    }) as MessageDoc | null
    if (original === null) return false
    item.resolve({ message: original, created: false })
    return true
  }
}
