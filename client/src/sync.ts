/**
 * Catch-up through `sync`: the cursors are the highest gapless seq held per conversation; pages are merged
 * and asked again from the new positions until neither the ack nor any conversation in it has more. Runs are
 * coalesced: a request while one runs gives exactly one more run after it (new positions, nothing missed).
 */
import type { MessagePayload, ParleySocket, SyncResult } from './types.js'

export interface SyncHooks {
  socket: () => ParleySocket | null
  cursors: () => Array<{ conversationId: string, afterSeq: number }>
  merge: (conversationId: string, messages: MessagePayload[]) => void
  done: () => void
}

/** The server takes up to 1000 cursors a call. */
const MAX_CURSORS = 1000
/** A safety stop: a run that pages this often without finishing ends (the next trigger resumes it). */
const MAX_PAGES = 10_000

export class Syncer {
  private running: Promise<void> | null = null
  private again = false

  constructor (private readonly hooks: SyncHooks, private readonly ackTimeoutMs = 10_000) {}

  /** Syncs now (or once more after the current run); resolves when the last run requested has ended. */
  async request (): Promise<void> {
    if (this.running !== null) {
      this.again = true
      return await this.running
    }
    this.running = this.loop().finally(() => { this.running = null })
    return await this.running
  }

  private async loop (): Promise<void> {
    do {
      this.again = false
      const finished = await this.run()
      if (finished) this.hooks.done()
    } while (this.again)
  }

  /** One run; true when the server had nothing more. */
  private async run (): Promise<boolean> {
    for (let page = 0; page < MAX_PAGES; page++) {
      const socket = this.hooks.socket()
      if (socket === null) return false // the next connect syncs again
      const cursors = this.hooks.cursors().slice(0, MAX_CURSORS)
      let ack
      try {
        ack = await socket.timeout(this.ackTimeoutMs).emitWithAck('sync', { cursors })
      } catch {
        continue // a lost ack: ask again (the socket check above ends the run when disconnected)
      }
      // CONVERSATION_NOT_FOUND: a cursor for a conversation we are no longer in. The client forgets those on
      // member_left and conversation_deleted, so the next run asks without it.
      if (!ack.ok) return false
      if (!this.apply(ack.data)) return true
    }
    return false
  }

  /** Merges a page; true when the server said there is more. */
  private apply (result: SyncResult): boolean {
    let more = result.hasMore
    for (const conversation of result.conversations) {
      this.hooks.merge(conversation.conversationId, conversation.messages)
      if (conversation.hasMore) more = true
    }
    return more
  }
}
