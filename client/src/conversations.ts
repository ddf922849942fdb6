/**
 * The conversation list: our conversations as the server shows them (`GET /api/conversations`), latest activity
 * first, kept current by the live events. Marks and `lastSeq` only move forward here, as on the server, and the
 * unread count is always the server's rule, `unreadCount = max(0, lastSeq - readSeq)`: a message from someone
 * else above our read mark counts one more, one of ours moves our read mark to it (the server does the same), a
 * `receipt` of ours (another device read) moves the mark. A message for a conversation not in the list fetches
 * it (`GET /api/conversations/:id`) once `load()` was called. After a reconnect, and on `resync`, the list is
 * loaded again (events may have been missed meanwhile). Group calls go through REST and update the list from
 * the answer.
 *
 * The conversations returned are the cache's own objects, replaced (never changed) when they change: treat them
 * as read-only.
 */
import { Emitter } from './emitter.js'
import type { ParleyClient } from './parley-client.js'
import type { Conversation, MessagePayload, ParleySocket, ReceiptEvent } from './types.js'

/** The most conversations `load()` reads (pages of 200). */
const MAX_CONVERSATIONS = 1000
const PAGE_SIZE = 200

export interface NewGroup {
  name: string
  memberIds: string[]
  subject?: string
  visibility?: 'private' | 'public'
}

export interface GroupPatch {
  name?: string
  subject?: string
  visibility?: 'private' | 'public'
}

export class Conversations extends Emitter<{ changed: [list: Conversation[]] }> {
  private byId = new Map<string, Conversation>()
  private sorted: Conversation[] | null = null
  /** `load()` was called: unknown conversations are fetched, and the list is reloaded after reconnects. */
  private started = false
  private loading: Promise<void> | null = null
  /** While a load runs: what the live events put and removed meanwhile (the pages may predate them). */
  private duringLoad: { put: Set<string>, removed: Set<string> } | null = null
  /** Conversations being fetched for a message, with the messages that came meanwhile. */
  private readonly fetching = new Map<string, MessagePayload[]>()
  private missedEvents = false

  constructor (private readonly client: ParleyClient) {
    super()
    client.on('disconnected', () => { this.missedEvents = true })
    client.on('connected', () => {
      if (!this.missedEvents) return
      this.missedEvents = false
      this.reload()
    })
  }

  /** Our conversations, latest activity first. */
  list (): Conversation[] {
    this.sorted ??= [...this.byId.values()].sort(byActivity)
    return [...this.sorted]
  }

  get (conversationId: string): Conversation | undefined { return this.byId.get(conversationId) }

  /**
   * Reads our conversations from the server (all pages, at most 1000) and replaces the list with them (keeping
   * what live events brought meanwhile, and marks and messages the list already had further); emits `changed`.
   */
  async load (): Promise<void> {
    if (this.loading !== null) return await this.loading
    this.loading = this.doLoad().finally(() => { this.loading = null })
    await this.loading
  }

  /**
   * Moves our read mark to the newest message the timeline shows (the highest stored seq with nothing missing
   * below it): the unread count drops here at once, and on our other devices when the server's `receipt` reaches
   * them. Over the socket (`read`), or REST when it is down. Resolves true when the server took it; false when there
   * is nothing newer to mark or it failed.
   */
  async markRead (conversationId: string): Promise<boolean> {
    let top: number | null = null
    for (const message of this.client.messages(conversationId)) if (message.status === 'stored') top = message.seq
    if (top === null) return false
    const before = this.byId.get(conversationId)
    if (before !== undefined) {
      if (top <= before.readSeq) return false
      this.put(withMarks(before, 'read', top))
    }
    const took = this.client.connected
      ? await this.client.extras.markRead(conversationId, top)
      : await this.client.session.request('POST', `${pathOf(conversationId)}/read`, { seq: top }).then(() => true, () => false)
    // Refused or lost: put our mark back (unless something moved it meanwhile), so the next call sends it again.
    const now = this.byId.get(conversationId)
    if (!took && before !== undefined && now !== undefined && now.readSeq === top) {
      this.put({ ...now, readSeq: before.readSeq, unreadCount: Math.max(0, now.lastSeq - before.readSeq) })
    }
    return took
  }

  /** Opens (or creates) the direct conversation with the user. */
  async openDirect (userId: string): Promise<Conversation> {
    return this.fromAnswer(await this.client.session.request('POST', '/api/conversations', { type: 'direct', userId }))
  }

  /** Creates a group with us as its owner. */
  async createGroup (group: NewGroup): Promise<Conversation> {
    return this.fromAnswer(await this.client.session.request('POST', '/api/conversations', { type: 'group', ...group }))
  }

  /** Adds members to a group (owner and admins). */
  async addMembers (conversationId: string, userIds: string[]): Promise<Conversation> {
    return this.fromAnswer(await this.client.session.request('POST', `${pathOf(conversationId)}/members`, { userIds }))
  }

  /** Removes a member of a lower role (owner and admins); our own id leaves. */
  async removeMember (conversationId: string, userId: string): Promise<void> {
    await this.client.session.request('DELETE', `${pathOf(conversationId)}/members/${encodeURIComponent(userId)}`)
    if (userId === this.client.userId) this.gone(conversationId)
    else this.dropMember(conversationId, userId)
  }

  /** Leaves a group: it goes from the list, and its timeline is forgotten. */
  async leave (conversationId: string): Promise<void> {
    await this.client.session.request('POST', `${pathOf(conversationId)}/leave`)
    this.gone(conversationId)
  }

  /** Joins a public group. */
  async join (conversationId: string): Promise<Conversation> {
    return this.fromAnswer(await this.client.session.request('POST', `${pathOf(conversationId)}/join`))
  }

  /** Renames a group, or changes its subject or visibility (owner and admins). */
  async update (conversationId: string, patch: GroupPatch): Promise<Conversation> {
    return this.fromAnswer(await this.client.session.request('PATCH', pathOf(conversationId), patch))
  }

  /** @internal A stored message: a live event, or the answer to one of our sends. */
  onMessage (message: MessagePayload): void {
    const conversation = this.byId.get(message.conversationId)
    if (conversation === undefined) {
      if (this.started) this.fetch(message)
      return
    }
    const next = withMessage(conversation, message, this.client.userId)
    if (next !== conversation) this.put(next)
  }

  /** @internal */
  attach (socket: ParleySocket): void {
    socket.on('conversation_updated', ({ conversation }) => { this.onUpdated(conversation) })
    socket.on('re_message', ({ message }) => { this.onMessage(message) })
    socket.on('re_message_file', ({ message }) => { this.onMessage(message) })
    socket.on('message_updated', ({ message }) => { this.onEdited(message) })
    socket.on('message_deleted', ({ conversationId, messageId }) => { this.onDeleted(conversationId, messageId) })
    socket.on('receipt', event => { this.onReceipt(event) })
    socket.on('member_left', ({ conversationId, userId }) => {
      if (userId === this.client.userId) this.remove(conversationId)
      else this.dropMember(conversationId, userId)
    })
    socket.on('conversation_deleted', ({ conversationId }) => { this.remove(conversationId) })
    socket.on('resync', () => { this.reload() })
  }

  private async doLoad (): Promise<void> {
    this.started = true
    const duringLoad = this.duringLoad = { put: new Set<string>(), removed: new Set<string>() }
    let items: Conversation[] = []
    try {
      let cursor: string | null = null
      do {
        const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`
        const page = await this.client.session.request('GET', `/api/conversations?limit=${PAGE_SIZE}${query}`) as { items: Conversation[], nextCursor: string | null }
        items.push(...page.items)
        // An empty page or a cursor handed back twice ends the walk, whatever the server says.
        cursor = page.items.length > 0 && page.nextCursor !== cursor ? page.nextCursor : null
      } while (cursor !== null && items.length < MAX_CONVERSATIONS)
      items = items.slice(0, MAX_CONVERSATIONS)
    } finally {
      this.duringLoad = null
    }
    const next = new Map<string, Conversation>()
    for (const conversation of items) {
      if (duringLoad.removed.has(conversation.id)) continue
      next.set(conversation.id, merged(next.get(conversation.id) ?? this.byId.get(conversation.id), conversation))
    }
    for (const id of duringLoad.put) {
      const live = this.byId.get(id)
      if (live !== undefined && !next.has(id)) next.set(id, live)
    }
    this.byId = next
    this.changed()
  }

  private reload (): void {
    if (this.started) void this.load().catch(() => {}) // a failed reload leaves the list as it was
  }

  /** Fetches a conversation a message came for, then applies the message (and any that came meanwhile). */
  private fetch (message: MessagePayload): void {
    const id = message.conversationId
    const waiting = this.fetching.get(id)
    if (waiting !== undefined) {
      waiting.push(message)
      return
    }
    const messages = [message]
    this.fetching.set(id, messages)
    void this.client.session.request('GET', pathOf(id)).then((conversation: Conversation) => {
      if (this.fetching.get(id) !== messages) return // removed meanwhile
      this.fetching.delete(id)
      let next = merged(this.byId.get(id), conversation)
      for (const m of messages) next = withMessage(next, m, this.client.userId)
      this.put(next)
    }, () => {
      if (this.fetching.get(id) === messages) this.fetching.delete(id)
    })
  }

  private fromAnswer (conversation: Conversation): Conversation {
    return this.put(merged(this.byId.get(conversation.id), conversation))
  }

  private onUpdated (conversation: Conversation): void {
    // An edit of a group racing with our removal can still reach us: a view without us is not ours any more.
    if (!conversation.members.some(member => member.userId === this.client.userId)) {
      this.remove(conversation.id)
      return
    }
    this.put(merged(this.byId.get(conversation.id), conversation))
  }

  private onEdited (message: MessagePayload): void {
    const conversation = this.byId.get(message.conversationId)
    const last = conversation?.lastMessage
    if (conversation === undefined || last == null || last.id !== message.id || !isLaterState(message, last)) return
    this.put({ ...conversation, lastMessage: message })
  }

  private onDeleted (conversationId: string, messageId: string): void {
    const conversation = this.byId.get(conversationId)
    const last = conversation?.lastMessage
    if (conversation === undefined || last == null || last.id !== messageId || last.deletedAt !== null) return
    this.put({ ...conversation, lastMessage: { ...last, body: '', attachments: [], deletedAt: new Date().toISOString() } })
  }

  private onReceipt (event: ReceiptEvent): void {
    if (event.userId !== this.client.userId) return
    const conversation = this.byId.get(event.conversationId)
    if (conversation === undefined) return
    const next = withMarks(conversation, event.kind, event.seq)
    if (next !== conversation) this.put(next)
  }

  private dropMember (conversationId: string, userId: string): void {
    const conversation = this.byId.get(conversationId)
    if (conversation === undefined || !conversation.members.some(member => member.userId === userId)) return
    this.put({ ...conversation, members: conversation.members.filter(member => member.userId !== userId) })
  }

  /** We are out of the conversation (left it, or were removed): off the list, its timeline and receipts forgotten. */
  private gone (conversationId: string): void {
    this.remove(conversationId)
    this.client.forget(conversationId)
    this.client.receipts.forget(conversationId)
  }

  private put (conversation: Conversation): Conversation {
    this.byId.set(conversation.id, conversation)
    this.duringLoad?.put.add(conversation.id)
    this.duringLoad?.removed.delete(conversation.id)
    this.changed()
    return conversation
  }

  private remove (conversationId: string): void {
    this.fetching.delete(conversationId)
    this.duringLoad?.removed.add(conversationId)
    this.duringLoad?.put.delete(conversationId)
    if (this.byId.delete(conversationId)) this.changed()
  }

  private changed (): void {
    this.sorted = null
    this.emit('changed', this.list())
  }
}

const pathOf = (conversationId: string): string => `/api/conversations/${encodeURIComponent(conversationId)}`

/** Latest activity first, then the higher id (the server's order). */
function byActivity (a: Conversation, b: Conversation): number {
  if (a.lastActivityAt !== b.lastActivityAt) return a.lastActivityAt < b.lastActivityAt ? 1 : -1
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0
}

const laterOf = (a: string, b: string): string => (a > b ? a : b)

/** The server's view `incoming`, with what `known` already had further: lastSeq and its message, our marks. */
function merged (known: Conversation | undefined, incoming: Conversation): Conversation {
  if (known === undefined) return incoming
  const next = { ...incoming }
  if (known.lastSeq > incoming.lastSeq) {
    // The server's lastSeq is written just after the message is delivered: its view can lag a live event.
    next.lastSeq = known.lastSeq
    next.lastMessage = known.lastMessage
  } else if (known.lastSeq === incoming.lastSeq && known.lastMessage != null && incoming.lastMessage != null &&
    known.lastMessage.id === incoming.lastMessage.id && isLaterState(known.lastMessage, incoming.lastMessage)) {
    next.lastMessage = known.lastMessage
  }
  next.lastActivityAt = laterOf(known.lastActivityAt, incoming.lastActivityAt)
  next.readSeq = Math.max(known.readSeq, incoming.readSeq)
  next.deliveredSeq = Math.max(known.deliveredSeq, incoming.deliveredSeq)
  next.unreadCount = Math.max(0, next.lastSeq - next.readSeq)
  return next
}

/** The conversation after a stored message; the same object when it changes nothing. */
function withMessage (conversation: Conversation, message: MessagePayload, userId: string | null): Conversation {
  const newest = message.seq > conversation.lastSeq
  const ours = message.senderId === userId && message.seq > conversation.readSeq
  if (!newest && !ours) return conversation
  const next = { ...conversation }
  if (newest) {
    next.lastSeq = message.seq
    next.lastMessage = message
    next.lastActivityAt = laterOf(conversation.lastActivityAt, message.createdAt)
  }
  // Sending moves the sender's read (and delivered) mark to their message, on the server too.
  if (ours) next.readSeq = message.seq
  next.deliveredSeq = Math.max(next.deliveredSeq, ours ? message.seq : 0)
  next.unreadCount = Math.max(0, next.lastSeq - next.readSeq)
  return next
}

/** The conversation with our mark of `kind` moved forward to `seq` (read moves delivered too). */
function withMarks (conversation: Conversation, kind: 'read' | 'delivered', seq: number): Conversation {
  const readSeq = kind === 'read' ? Math.max(conversation.readSeq, seq) : conversation.readSeq
  const deliveredSeq = Math.max(conversation.deliveredSeq, seq)
  if (readSeq === conversation.readSeq && deliveredSeq === conversation.deliveredSeq) return conversation
  return { ...conversation, readSeq, deliveredSeq, unreadCount: Math.max(0, conversation.lastSeq - readSeq) }
}

/** Whether `a` is a later state of the same message than `b` (an edit or a delete after it). */
function isLaterState (a: MessagePayload, b: MessagePayload): boolean {
  if (b.deletedAt !== null) return false
  if (a.deletedAt !== null) return true
  return (a.editedAt ?? '') > (b.editedAt ?? '')
}
