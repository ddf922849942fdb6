/**
 * File sends: each `sendFile()` is kept until the server answers it with the stored message, and uploaded again
 * with the same clientMsgId until then (multipart `POST /api/conversations/:id/messages`: the server stores a
 * clientMsgId once per sender and conversation, and a repeat answers the original and drops the new upload).
 * Network failures, 408, 429 and 5xx are retried (429 after its Retry-After, the others with a backoff of 250 ms
 * doubling to 10 s), a network failure at most 6 times in a row (then `NETWORK_ERROR`: a file that became
 * unreadable fails the same way) and a 429 only when its wait is at most 30 s (else `RATE_LIMITED`, e.g. the
 * hourly upload limit); any other refusal fails the message with the server's code. One upload per conversation is
 * in flight at a time, so one sender's files keep their order. A failed upload keeps its file, for `retry`.
 */
import { ApiError } from './session.js'
import type { MessagePayload } from './types.js'

export interface UploadItem {
  conversationId: string
  clientMsgId: string
  body: string
  file: Blob
  /** The file name sent with the part (the server sanitises it). */
  name: string
}

export interface UploadHooks {
  /** The multipart POST (session.upload). */
  upload: (path: string, form: FormData) => Promise<MessagePayload>
  acked: (item: UploadItem, message: MessagePayload) => void
  failed: (item: UploadItem, error: { code: string, message: string }) => void
}

/** Network failures in a row before a file send fails with NETWORK_ERROR (about 8 s of backoff). */
const MAX_NETWORK_RETRIES = 6
/** The longest Retry-After worth waiting for with the message shown as sending. */
const MAX_RETRY_AFTER_MS = 30_000

/** Whether a refused upload is worth sending again as it is. */
function retryable (error: unknown): boolean {
  if (!(error instanceof ApiError)) return true // fetch rejected: the network, not the server
  // TOKEN_EXPIRED here means the refresh itself failed (network): the session retries it, and so do we.
  return error.status >= 500 || error.status === 429 || error.status === 408 || error.code === 'TOKEN_EXPIRED'
}

export class Uploads {
  /** Pending and failed uploads, by clientMsgId. */
  private readonly items = new Map<string, { item: UploadItem, state: 'pending' | 'failed' }>()
  private readonly chains = new Map<string, Promise<void>>()
  private readonly sleepers = new Set<{ timer: ReturnType<typeof setTimeout>, resolve: () => void }>()
  private closed = false

  constructor (private readonly hooks: UploadHooks, private readonly retryBaseMs = 250) {}

  /** Uploads not answered yet. */
  get size (): number {
    let n = 0
    for (const entry of this.items.values()) if (entry.state === 'pending') n++
    return n
  }

  /** Whether `clientMsgId` is a file send this client still holds (pending or failed). */
  has (clientMsgId: string): boolean { return this.items.has(clientMsgId) }

  push (item: UploadItem): void {
    this.items.set(item.clientMsgId, { item, state: 'pending' })
    this.enqueue(item)
  }

  /** Uploads a failed file send again (same clientMsgId); false when there is no such failed send. */
  retry (clientMsgId: string): boolean {
    const entry = this.items.get(clientMsgId)
    if (entry?.state !== 'failed') return false
    entry.state = 'pending'
    this.enqueue(entry.item)
    return true
  }

  /** Forgets a failed file send (its file is released). */
  discard (clientMsgId: string): void {
    if (this.items.get(clientMsgId)?.state === 'failed') this.items.delete(clientMsgId)
  }

  close (): void {
    this.closed = true
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer)
      sleeper.resolve()
    }
    this.sleepers.clear()
  }

  private enqueue (item: UploadItem): void {
    const previous = this.chains.get(item.conversationId) ?? Promise.resolve()
    const chain = previous.then(async () => { await this.deliver(item) })
    this.chains.set(item.conversationId, chain)
    void chain.finally(() => { if (this.chains.get(item.conversationId) === chain) this.chains.delete(item.conversationId) })
  }

  private async deliver (item: UploadItem): Promise<void> {
    let backoff = this.retryBaseMs
    let networkFailures = 0
    const path = `/api/conversations/${encodeURIComponent(item.conversationId)}/messages`
    while (!this.closed) {
      try {
        const message = await this.hooks.upload(path, formOf(item))
        if (this.closed) return
        this.items.delete(item.clientMsgId)
        this.hooks.acked(item, message)
        return
      } catch (error) {
        if (this.closed) return
        const network = !(error instanceof ApiError)
        if (network) networkFailures++
        const tooLong = error instanceof ApiError && error.retryAfterMs !== null && error.retryAfterMs > MAX_RETRY_AFTER_MS
        if (!retryable(error) || networkFailures > MAX_NETWORK_RETRIES || tooLong) {
          const entry = this.items.get(item.clientMsgId)
          if (entry !== undefined) entry.state = 'failed'
          this.hooks.failed(item, network
            ? { code: 'NETWORK_ERROR', message: `the upload failed ${networkFailures} times: ${String(error)}` }
            : { code: (error as ApiError).code, message: (error as ApiError).message })
          return
        }
        if (!network) networkFailures = 0
        const wait = error instanceof ApiError && error.retryAfterMs !== null ? error.retryAfterMs : backoff
        backoff = Math.min(backoff * 2, 10_000)
        await this.sleep(wait)
      }
    }
  }

  private async sleep (ms: number): Promise<void> {
    await new Promise<void>(resolve => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper)
          resolve()
        }, ms),
        resolve
      }
      this.sleepers.add(sleeper)
    })
  }
}

/** The multipart form: the text fields first, then the file (the route reads them in any order). */
function formOf (item: UploadItem): FormData {
  const form = new FormData()
  if (item.body !== '') form.append('body', item.body)
  form.append('clientMsgId', item.clientMsgId)
  form.append('file', item.file, item.name)
  return form
}
