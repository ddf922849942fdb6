/**
 * The outbox: every `send()` is kept until the server acks it, and (re)sent with the same clientMsgId until then,
 * across disconnects and reconnects (the server stores a clientMsgId once per sender and conversation, so a
 * retry after a lost ack returns the stored original). One message per conversation is in flight at a time, so
 * one sender's messages keep their order. Errors a retry cannot fix fail the message with the server's code;
 * RATE_LIMITED waits as long as the server says, BUSY and the like back off and retry.
 */
import type { MessagePayload, ParleySocket } from './types.js'

/** The ack, or our own TIMEOUT / DISCONNECTED when none came. */
type SendResult = { ok: true, data: MessagePayload } | { ok: false, error: { code: string, message: string } }

/** Codes worth retrying with the same clientMsgId; any other refusal is final. */
const RETRYABLE = new Set(['RATE_LIMITED', 'BUSY', 'INTERNAL_ERROR', 'SHUTTING_DOWN', 'TIMEOUT', 'DISCONNECTED'])

export interface OutboxOptions {
  /** How long to wait for an ack before sending again (same clientMsgId), in ms. Default 10 000. */
  ackTimeoutMs?: number
  /** The first backoff after a retryable error without a stated wait, in ms; doubles up to 10 s. Default 250. */
  retryBaseMs?: number
}

export interface OutboxItem {
  conversationId: string
  clientMsgId: string
  body: string
}

export interface OutboxHooks {
  /** The live socket when connected, else null (the outbox then waits for `wake()`). */
  socket: () => ParleySocket | null
  acked: (item: OutboxItem, message: MessagePayload) => void
  failed: (item: OutboxItem, error: { code: string, message: string }) => void
}

/** The seconds the server asks us to wait, from a RATE_LIMITED message ("... retry in 3 s"). */
export function retryAfterMs (message: string): number | null {
  const match = /retry in (\d+(?:\.\d+)?) ?s/i.exec(message)
  return match === null ? null : Number(match[1]) * 1000
}

export class Outbox {
  private readonly queues = new Map<string, OutboxItem[]>()
  private readonly running = new Set<string>()
  private readonly waiters = new Set<() => void>()
  private closed = false
  private readonly ackTimeoutMs: number
  private readonly retryBaseMs: number

  constructor (private readonly hooks: OutboxHooks, options: OutboxOptions = {}) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000
    this.retryBaseMs = options.retryBaseMs ?? 250
  }

  /** How many messages wait for an ack, in all conversations. */
  get size (): number {
    let n = 0
    for (const queue of this.queues.values()) n += queue.length
    return n
  }

  push (item: OutboxItem): void {
    const queue = this.queues.get(item.conversationId) ?? []
    queue.push(item)
    this.queues.set(item.conversationId, queue)
    void this.drain(item.conversationId)
  }

  /** The socket (re)connected: waiting sends go out. */
  wake (): void {
    for (const resolve of [...this.waiters]) resolve()
    this.waiters.clear()
  }

  close (): void {
    this.closed = true
    this.wake()
  }

  private async drain (conversationId: string): Promise<void> {
    if (this.running.has(conversationId)) return
    this.running.add(conversationId)
    try {
      const queue = this.queues.get(conversationId) as OutboxItem[]
      while (queue.length > 0 && !this.closed) {
        await this.deliver(queue[0])
        queue.shift()
      }
      if (queue.length === 0) this.queues.delete(conversationId)
    } finally {
      this.running.delete(conversationId)
    }
  }

  /** Sends one item until it is acked or fails for good (or the outbox closes). */
  private async deliver (item: OutboxItem): Promise<void> {
    let backoff = this.retryBaseMs
    while (!this.closed) {
      const socket = this.hooks.socket()
      if (socket === null) {
        await new Promise<void>(resolve => { this.waiters.add(resolve) })
        continue
      }
      const ack = await this.emit(socket, item)
      if (ack.ok) {
        this.hooks.acked(item, ack.data)
        return
      }
      const { code, message } = ack.error
      if (!RETRYABLE.has(code)) {
        this.hooks.failed(item, { code, message })
        return
      }
      if (code === 'DISCONNECTED') continue
      const wait = code === 'RATE_LIMITED' ? retryAfterMs(message) ?? backoff : backoff
      backoff = Math.min(backoff * 2, 10_000)
      await sleep(wait)
    }
  }

  private async emit (socket: ParleySocket, item: OutboxItem): Promise<SendResult> {
    const payload = { conversationId: item.conversationId, body: item.body, clientMsgId: item.clientMsgId }
    try {
      return await socket.timeout(this.ackTimeoutMs).emitWithAck('chat_message', payload)
    } catch (error) {
      // socket.io-client rejects on a timeout, and on a disconnect before the ack came.
      const code = socket.connected ? 'TIMEOUT' : 'DISCONNECTED'
      return { ok: false, error: { code, message: String(error) } }
    }
  }
}

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
