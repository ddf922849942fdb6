/**
 * The open conversation: header (title, presence or members, group actions), the message log (keyed: an element
 * is rebuilt only when its message changed; older history loads when scrolled to the top), typing line, composer.
 */
import type { ParleyClient, TimelineMessage } from '../../client/src/index.js'
import { describeError, fill, h, lastSeen } from './dom.js'
import { messageView, signature, type MessageContext } from './message-view.js'
import { displayName, peerOf, titleOf } from './names.js'
import { openPeopleDialog } from './group-dialog.js'
import { composer } from './composer.js'
import { AttachmentCache } from './attachment-cache.js'

export class ConversationPane {
  readonly element = h('section', { class: 'pane', 'aria-label': 'Conversation' })
  private readonly header = h('header', { class: 'pane-header' })
  private readonly log = h('ol', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages', tabindex: 0 })
  private readonly typingLine = h('p', { class: 'typing', 'aria-live': 'polite' })
  private readonly rendered = new Map<string, { element: HTMLLIElement, signature: string }>()
  private readonly hasOlder = new Map<string, boolean>()
  private readonly attachments: AttachmentCache
  private loadingOlder = false
  current: string | null = null

  constructor (private readonly client: ParleyClient, private readonly back: () => void, private readonly onError: (message: string) => void) {
    this.attachments = new AttachmentCache(client)
    this.log.addEventListener('scroll', () => {
      if (this.log.scrollTop < 40) void this.loadOlder()
      if (this.atBottom()) this.markRead()
    })
    this.showEmpty()
  }

  /** Opens a conversation: its latest history page the first time, then what the timeline holds. */
  async open (conversationId: string): Promise<void> {
    if (this.current === conversationId) return
    this.current = conversationId
    this.rendered.clear()
    fill(this.log)
    fill(this.typingLine)
    fill(this.element, this.header, this.log, this.typingLine, composer(this.client, conversationId, this.onError))
    this.renderHeader()
    if (!this.hasOlder.has(conversationId)) {
      this.hasOlder.set(conversationId, await this.client.loadOlder(conversationId).catch(() => true))
    }
    this.renderMessages(conversationId, true)
    const lastOwn = this.client.messages(conversationId).filter(m => m.status === 'stored' && m.senderId === this.client.userId).at(-1)
    if (lastOwn?.status === 'stored') void this.client.receipts.load(conversationId, lastOwn.seq).catch(() => {})
    ;(this.element.querySelector('textarea') as HTMLTextAreaElement | null)?.focus()
  }

  close (): void {
    this.current = null
    this.showEmpty()
  }

  /** Re-renders the log if it shows `conversationId`; keeps the view pinned to the bottom when it was there. */
  renderMessages (conversationId: string, forceBottom = false): void {
    if (conversationId !== this.current) return
    const pinned = forceBottom || this.atBottom()
    const context = this.context(conversationId)
    const keep = new Set<string>()
    const elements = this.client.messages(conversationId).map(message => {
      const key = keyOf(message)
      keep.add(key)
      const sig = signature(message, context)
      const existing = this.rendered.get(key)
      if (existing !== undefined && existing.signature === sig) return existing.element
      const element = messageView(message, context)
      existing?.element.replaceWith(element)
      this.rendered.set(key, { element, signature: sig })
      return element
    })
    for (const key of [...this.rendered.keys()]) if (!keep.has(key)) { this.rendered.get(key)?.element.remove(); this.rendered.delete(key) }
    // Append in order: moves only what is out of place (appending an element already last is a no-op).
    elements.forEach((element, index) => { if (this.log.children[index] !== element) this.log.insertBefore(element, this.log.children[index] ?? null) })
    if (pinned) this.log.scrollTop = this.log.scrollHeight
    if (pinned) this.markRead()
  }

  renderHeader (): void {
    const conversation = this.current === null ? undefined : this.client.conversations.get(this.current)
    if (conversation === undefined) return
    const me = this.client.userId ?? ''
    let subtitle: HTMLElement
    if (conversation.type === 'group') {
      subtitle = h('details', { class: 'members' },
        h('summary', {}, `${conversation.members.length} members`),
        h('ul', {}, ...conversation.members.map(member => h('li', {}, displayName(member.user), member.role !== 'member' ? ` (${member.role})` : ''))),
        h('p', { class: 'buttons' },
          h('button', { type: 'button', class: 'secondary', onclick: () => { this.addPeople(conversation.id) } }, 'Add people'),
          h('button', { type: 'button', class: 'secondary', onclick: () => { void this.leave(conversation.id) } }, 'Leave group')))
    } else {
      const peer = peerOf(conversation, me)
      const presence = peer === null ? undefined : this.client.extras.presence(peer.id) ?? { online: peer.online, lastSeenAt: peer.lastSeenAt }
      subtitle = h('p', { class: 'presence' }, presence === undefined ? '' : lastSeen(presence.online, presence.lastSeenAt))
    }
    fill(this.header,
      h('button', { type: 'button', class: 'back secondary', 'aria-label': 'Back to conversations', onclick: this.back }, '←'),
      h('h2', {}, titleOf(conversation, me)),
      subtitle)
  }

  setTyping (names: string[]): void {
    this.typingLine.textContent = names.length === 0 ? '' : `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} typing…`
  }

  private context (conversationId: string): MessageContext {
    const conversation = this.client.conversations.get(conversationId)
    const names = new Map(conversation?.members.map(member => [member.userId, member.user.username]) ?? [])
    return {
      me: this.client.userId ?? '',
      isGroup: conversation?.type === 'group',
      nameOf: userId => names.get(userId) ?? 'someone',
      tick: seq => this.client.receipts.stateOf(conversationId, seq),
      imageUrl: async attachment => await this.attachments.url(attachment),
      download: attachment => { void this.attachments.save(attachment).catch(error => { this.onError(describeError(error)) }) },
      edit: async (messageId, body) => { await this.client.session.request('PATCH', `/api/messages/${messageId}`, { body }).catch(error => { this.onError(describeError(error)) }) },
      remove: async messageId => { await this.client.session.request('DELETE', `/api/messages/${messageId}`).catch(error => { this.onError(describeError(error)) }) },
      retry: clientMsgId => { this.client.retry(conversationId, clientMsgId) },
      discard: clientMsgId => { this.client.discard(conversationId, clientMsgId) }
    }
  }

  private async loadOlder (): Promise<void> {
    const conversationId = this.current
    if (conversationId === null || this.loadingOlder || this.hasOlder.get(conversationId) !== true) return
    this.loadingOlder = true
    const before = this.log.scrollHeight
    try {
      this.hasOlder.set(conversationId, await this.client.loadOlder(conversationId))
      // Keep what the reader was looking at in place: the new page went above it.
      this.log.scrollTop += this.log.scrollHeight - before
    } catch (error) {
      this.onError(describeError(error))
    } finally {
      this.loadingOlder = false
    }
  }

  private markRead (): void {
    if (this.current !== null && document.visibilityState === 'visible') void this.client.conversations.markRead(this.current).catch(() => {})
  }

  private atBottom (): boolean { return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 48 }

  private addPeople (conversationId: string): void {
    openPeopleDialog(this.client, {
      title: 'Add people',
      action: 'Add',
      withName: false,
      submit: async ({ userIds }) => { await this.client.conversations.addMembers(conversationId, userIds) }
    })
  }

  private async leave (conversationId: string): Promise<void> {
    try {
      await this.client.conversations.leave(conversationId)
      this.close()
    } catch (error) {
      this.onError(describeError(error))
    }
  }

  private showEmpty (): void {
    fill(this.element, h('div', { class: 'pane-empty' }, h('p', {}, 'Pick a conversation, or find someone to talk to.')))
  }
}

function keyOf (message: TimelineMessage): string {
  return message.status === 'stored' ? `m:${message.id}` : `l:${message.clientMsgId}`
}
