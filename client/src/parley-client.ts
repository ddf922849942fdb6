/**
 * ParleyClient: the session, the live socket, the outbox and one timeline per conversation, wired together.
 * The app calls `login` (or `useTokens`), `connect`, `send`, and listens to `timeline` and `session_ended`.
 */
import type { ManagerOptions, SocketOptions } from 'socket.io-client'
import { Connection, type IoFactory } from './connection.js'
import { Emitter } from './emitter.js'
import { Outbox, type OutboxItem, type OutboxOptions } from './outbox.js'
import { Session, type FetchLike } from './session.js'
import { Syncer } from './sync.js'
import { Timeline } from './timeline.js'
import type { Attachment, LocalMessage, MessagePayload, ParleySocket, PublicUser, SessionEnd, TimelineMessage, Tokens } from './types.js'
import { attachExtras, Extras } from './extras.js'
import { DeliveryMarks } from './delivery-marks.js'
import { Conversations } from './conversations.js'
import { Receipts } from './receipts.js'
import { Uploads } from './uploads.js'

export interface ParleyClientOptions {
  /** The server's base URL (REST and Socket.IO), e.g. `https://chat.example.com`. */
  url: string
  /** Default `globalThis.fetch`. */
  fetch?: FetchLike
  /** socket.io-client's `io` (to share a Manager, or for tests). Default the package's own. */
  io?: IoFactory
  /** Passed to `io()` (e.g. `transports: ['websocket']`); `auth` and `autoConnect` are the SDK's. Default none. */
  socketOptions?: Partial<ManagerOptions & SocketOptions>
  /** Ack timeout and retry backoff of sends (outbox.ts). */
  outbox?: OutboxOptions
  /** How early to refresh the access token, in ms (session.ts). Default a third of its lifetime, at most 60 s. */
  refreshLeadMs?: number
}

export interface ParleyClientEvents {
  /** A conversation's shown messages changed (stored in seq order, then our pending and failed sends). */
  timeline: [conversationId: string, messages: TimelineMessage[]]
  /** The session is over (logout elsewhere, revoked, refresh refused, token expired on the socket): log in again. */
  session_ended: [end: SessionEnd]
  connected: []
  disconnected: [reason: string]
  /** A catch-up run ended with nothing more to fetch. */
  synced: []
  /** A send the server refused for good (also shown in the timeline as `failed`). */
  send_failed: [message: LocalMessage]
}

export class ParleyClient extends Emitter<ParleyClientEvents> {
  readonly session: Session
  private connection: Connection | null = null
  private readonly timelines = new Map<string, Timeline>()
  private readonly outbox: Outbox
  private readonly syncer: Syncer
  private readonly gapTimers = new Map<string, ReturnType<typeof setTimeout>>()
  private catchUp: Promise<void> = Promise.resolve()
  /** Receipts, typing and presence (extras.ts). */
  readonly extras = new Extras(() => this.liveSocket())
  private readonly deliveryMarks = new DeliveryMarks(() => this.liveSocket())
  /** The conversation list with live updates, unread counts and group calls (conversations.ts). */
  readonly conversations: Conversations = new Conversations(this)
  /** The other members' delivered and read marks; our messages' states (receipts.ts). */
  readonly receipts: Receipts = new Receipts(this)
  private readonly uploads: Uploads

  constructor (private readonly options: ParleyClientOptions) {
    super()
    this.session = new Session({ url: options.url, fetch: options.fetch, refreshLeadMs: options.refreshLeadMs })
    this.session.on('ended', end => { this.onEnded(end) })
    this.outbox = new Outbox({
      socket: () => this.liveSocket(),
      acked: (item, message) => { this.onAcked(item.conversationId, message) },
      failed: (item, error) => { this.onFailed(item, error) }
    }, options.outbox)
    this.uploads = new Uploads({
      upload: async (path, form) => await this.session.upload(path, form),
      acked: (item, message) => { this.onAcked(item.conversationId, message) },
      failed: (item, error) => { this.onFailed(item, error) }
    }, options.outbox?.retryBaseMs)
    this.syncer = new Syncer({
      socket: () => this.liveSocket(),
      cursors: () => this.cursors(),
      merge: (conversationId, messages) => { this.timelineOf(conversationId).merge(messages, true) },
      done: () => { this.onSynced() }
    })
  }

  /** The socket.io-client socket (after `connect`). */
  get socket (): ParleySocket {
    if (this.connection === null) throw new Error('connect() first')
    return this.connection.socket
  }

  get userId (): string | null { return this.session.userId }
  get connected (): boolean { return this.connection?.connected ?? false }
  /** Sends not acked yet, in all conversations. */
  get pending (): number { return this.outbox.size + this.uploads.size }

  async login (credentials: { login: string, password: string }): Promise<void> { await this.session.login(credentials) }
  async useTokens (tokens: Tokens): Promise<void> { await this.session.useTokens(tokens) }

  /** Opens the socket; resolves once connected and its first sync run ended, rejects if the session ends first. */
  async connect (): Promise<void> {
    if (this.session.accessToken === null) throw new Error('login() or useTokens() first')
    if (this.session.endedWith !== null) throw new Error(`the session ended: ${this.session.endedWith.reason}`)
    if (this.connection === null) {
      this.connection = new Connection(this.options.url, this.session, {
        connected: () => { this.onConnected() },
        disconnected: reason => { this.emit('disconnected', reason) }
      }, this.options.io, this.options.socketOptions)
      this.bindEvents(this.connection.socket)
    }
    const ready = new Promise<void>((resolve, reject) => {
      const offConnected = this.on('connected', () => { offConnected(); offEnded(); resolve() })
      const offEnded = this.on('session_ended', end => { offConnected(); offEnded(); reject(new Error(end.reason)) })
    })
    this.connection.open()
    await ready
    // The catch-up the connect started (it ends, caught up or not: a failed run is retried at the next trigger).
    await this.catchUp
  }

  /** Queues a message; returns at once with the pending local copy (shown at the end of the timeline). */
  send (conversationId: string, body: string): LocalMessage {
    const message: LocalMessage = {
      status: 'pending',
      clientMsgId: crypto.randomUUID(),
      conversationId,
      senderId: this.session.userId ?? '',
      body,
      createdAt: new Date().toISOString()
    }
    this.timelineOf(conversationId).addLocal(message)
    this.outbox.push({ conversationId, clientMsgId: message.clientMsgId, body })
    return { ...message }
  }

  /**
   * Sends a file (with an optional text) as one message: returns at once with the pending local copy (`file` set),
   * shown at the end of the timeline like a text send; uploaded with multipart `POST /api/conversations/:id/messages`
   * and retried with the same clientMsgId until the server answers (uploads.ts). `name` defaults to the File's own.
   */
  sendFile (conversationId: string, file: Blob, options: { name?: string, body?: string } = {}): LocalMessage {
    const name = options.name ?? (file as Blob & { name?: string }).name ?? 'file'
    const message: LocalMessage = {
      status: 'pending',
      clientMsgId: crypto.randomUUID(),
      conversationId,
      senderId: this.session.userId ?? '',
      body: options.body ?? '',
      createdAt: new Date().toISOString(),
      file: { name, size: file.size, type: file.type }
    }
    this.timelineOf(conversationId).addLocal(message)
    this.uploads.push({ conversationId, clientMsgId: message.clientMsgId, body: message.body, file, name })
    return { ...message, file: { name, size: file.size, type: file.type } }
  }

  /** An attachment's bytes (GET with the access token: `<img>` cannot send it; make an object URL of the Blob). */
  async download (attachment: Attachment | string): Promise<Blob> {
    return await this.session.download(typeof attachment === 'string' ? attachment : attachment.url)
  }

  /** Live users whose username, first or last name starts with `search` (case-insensitive), by username. */
  async searchUsers (search: string, limit = 20): Promise<PublicUser[]> {
    const page = await this.session.request('GET', `/api/users?search=${encodeURIComponent(search)}&limit=${limit}`) as { items: PublicUser[] }
    return page.items
  }

  /** Sends a failed message again, with the same clientMsgId (e.g. after the app fixed what was wrong). */
  retry (conversationId: string, clientMsgId: string): void {
    const message = this.timelineOf(conversationId).revive(clientMsgId)
    if (message === null) return
    if (this.uploads.has(clientMsgId)) this.uploads.retry(clientMsgId)
    else this.outbox.push({ conversationId, clientMsgId, body: message.body })
  }

  /** Drops a failed message from the timeline. */
  discard (conversationId: string, clientMsgId: string): void {
    this.timelineOf(conversationId).discard(clientMsgId)
    this.uploads.discard(clientMsgId)
  }

  /** The conversation's shown messages (see the `timeline` event). */
  messages (conversationId: string): TimelineMessage[] { return this.timelineOf(conversationId).messages() }

  /** Loads the page of history before the oldest message held (REST); resolves with whether older ones exist. */
  async loadOlder (conversationId: string, limit = 50): Promise<boolean> {
    const timeline = this.timelineOf(conversationId)
    const before = timeline.oldest === null ? '' : `&beforeSeq=${timeline.oldest}`
    const page = await this.session.request('GET', `/api/conversations/${encodeURIComponent(conversationId)}/messages?limit=${limit}${before}`) as { items: MessagePayload[], hasMore: boolean }
    timeline.merge(page.items, true)
    return page.hasMore
  }

  /** Forgets a conversation (left or deleted): no cursor for it in later syncs. */
  forget (conversationId: string): void {
    this.timelines.delete(conversationId)
    clearTimeout(this.gapTimers.get(conversationId))
    this.gapTimers.delete(conversationId)
  }

  /** Catches up now (also done at every connect and on `resync`). */
  async sync (): Promise<void> { await this.syncer.request() }

  /** Logs out on the server, then closes. */
  async logout (): Promise<void> {
    await this.session.request('POST', '/api/auth/logout').catch(() => {})
    this.session.end({ reason: 'logged_out', message: 'Logged out' })
  }

  /** Closes the socket and stops every timer; unacked sends are dropped. */
  close (): void {
    this.session.stop()
    this.outbox.close()
    this.uploads.close()
    this.connection?.close()
    this.extras.close()
    this.deliveryMarks.close()
    for (const timer of this.gapTimers.values()) clearTimeout(timer)
    this.gapTimers.clear()
  }

  private liveSocket (): ParleySocket | null {
    return this.connection !== null && this.connection.connected ? this.connection.socket : null
  }

  private timelineOf (conversationId: string): Timeline {
    let timeline = this.timelines.get(conversationId)
    if (timeline === undefined) {
      const created: Timeline = timeline = new Timeline(conversationId, messages => {
        this.deliveryMarks.note(conversationId, created.top)
        this.emit('timeline', conversationId, messages)
      }, t => { this.onGap(t) })
      this.timelines.set(conversationId, timeline)
    }
    return timeline
  }

  private cursors (): Array<{ conversationId: string, afterSeq: number }> {
    const cursors = []
    for (const timeline of this.timelines.values()) {
      timeline.syncAsked()
      if (timeline.top !== null) cursors.push({ conversationId: timeline.conversationId, afterSeq: timeline.top })
    }
    return cursors
  }

  /** A sync run caught up: timelines holding live messages with no anchor since before it can start (timeline.ts). */
  private onSynced (): void {
    for (const timeline of this.timelines.values()) timeline.syncDone()
    this.emit('synced')
  }

  /** A message is held above a gap: give the live events a moment to fill it, then ask the server. */
  private onGap (timeline: Timeline): void {
    if (this.gapTimers.has(timeline.conversationId)) return
    this.gapTimers.set(timeline.conversationId, setTimeout(() => {
      this.gapTimers.delete(timeline.conversationId)
      if (timeline.hasGap) void this.syncer.request()
    }, 100))
  }

  private onConnected (): void {
    this.emit('connected')
    this.outbox.wake()
    this.catchUp = this.syncer.request()
  }

  /** One of our sends is stored (the socket's ack, or the upload's answer). */
  private onAcked (conversationId: string, message: MessagePayload): void {
    this.timelineOf(conversationId).merge([message])
    this.conversations.onMessage(message)
  }

  private onFailed (item: OutboxItem, error: { code: string, message: string }): void {
    const timeline = this.timelineOf(item.conversationId)
    timeline.fail(item.clientMsgId, error)
    const failed = timeline.messages().find(m => m.status === 'failed' && m.clientMsgId === item.clientMsgId)
    if (failed !== undefined) this.emit('send_failed', failed as LocalMessage)
  }

  private onEnded (end: SessionEnd): void {
    this.close()
    this.emit('session_ended', end)
  }

  private bindEvents (socket: ParleySocket): void {
    socket.on('re_message', ({ message }) => { this.timelineOf(message.conversationId).merge([message]) })
    socket.on('re_message_file', ({ message }) => { this.timelineOf(message.conversationId).merge([message]) })
    socket.on('message_updated', ({ message }) => { this.timelineOf(message.conversationId).update(message) })
    socket.on('message_deleted', ({ conversationId, messageId, seq }) => { this.timelineOf(conversationId).markDeleted(seq, messageId) })
    socket.on('resync', () => { void this.syncer.request() })
    socket.on('session_expired', () => {}) // handled by the connection (it ends the session at the disconnect)
    socket.on('member_left', ({ conversationId, userId }) => { if (userId === this.session.userId) this.forget(conversationId) })
    socket.on('conversation_deleted', ({ conversationId }) => { this.forget(conversationId) })
    attachExtras(this.extras, socket)
    this.conversations.attach(socket)
    this.receipts.attach(socket)
  }
}
