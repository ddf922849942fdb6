/**
 * The open conversation: header (title, presence or members, group actions), the message log (keyed: an element
 * is rebuilt only when its message changed; older history loads when scrolled to the top), typing line, composer.
 */
import type { ParleyClient, TimelineMessage } from '../../client/src/index.js'
import { describeError, fill, h, lastSeen } from './dom.js'
import { messageView, setTick, signature, type MessageContext } from './message-view.js'
import { displayName, titleOf } from './names.js'
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
  readonly attachments: AttachmentCache
  private loadingOlder = false
  private headerSignature = ''
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
    this.headerSignature = ''
    fill(this.log)
    fill(this.typingLine)
    fill(this.element, this.header, this.log, this.typingLine, composer(this.client, conversationId, this.onError))
    this.renderHeader()
    ;(this.element.querySelector('textarea') as HTMLTextAreaElement | null)?.focus()
    if (!this.hasOlder.has(conversationId)) {
      try {
        this.hasOlder.set(conversationId, await this.client.loadOlder(conversationId))
      } catch (error) {
        this.onError(`Could not load the history: ${describeError(error)}`) // tried again at the next open
      }
    }
    if (this.current !== conversationId) return
    this.renderMessages(conversationId, true)
    void this.client.receipts.refresh(conversationId).catch(() => {})
  }

  /** Forgets what was loaded of a conversation we are no longer in (a later re-add loads its history afresh). */
  forget (conversationId: string): void { this.hasOlder.delete(conversationId) }

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
      // Unchanged, or being edited (a rebuild would throw the open edit box away): ticks change in place.
      if (existing !== undefined && (existing.signature === sig || existing.element.querySelector('.edit') !== null)) {
        if (message.status === 'stored' && message.senderId === context.me) setTick(existing.element, context.tick(message.seq))
        return existing.element
      }
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
    // A first page that does not fill the log gives nothing to scroll: load more until it does.
    if (this.log.scrollHeight <= this.log.clientHeight && this.hasOlder.get(conversationId) === true) void this.loadOlder()
  }

  renderHeader (): void {
    const conversation = this.current === null ? undefined : this.client.conversations.get(this.current)
    if (conversation === undefined) return
    const me = this.client.userId ?? ''
    const presence = conversation.type === 'group' ? null : this.presenceOf(conversation.members.find(member => member.userId !== me)?.user)
    // Rebuilt only when what it shows changed: an open member list and the focus stay as they are.
    const signature = JSON.stringify([conversation.id, conversation.name, conversation.members.map(m => [m.userId, m.role, m.user.username]), presence])
    if (signature === this.headerSignature) return
    this.headerSignature = signature
    const wasOpen = this.header.querySelector('details')?.open === true
    let subtitle: HTMLElement
    if (conversation.type === 'group') {
      subtitle = h('details', { class: 'members', open: wasOpen },
        h('summary', {}, `${conversation.members.length} members`),
        h('ul', {}, ...conversation.members.map(member => h('li', {}, displayName(member.user), member.role !== 'member' ? ` (${member.role})` : ''))),
        h('p', { class: 'buttons' },
          h('button', { type: 'button', class: 'secondary', onclick: () => { this.addPeople(conversation.id) } }, 'Add people'),
          h('button', { type: 'button', class: 'secondary', onclick: () => { void this.leave(conversation.id) } }, 'Leave group')))
    } else {
      subtitle = h('p', { class: 'presence' }, presence === null ? '' : lastSeen(presence.online, presence.lastSeenAt))
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
      preview: (img, attachment) => { this.attachments.preview(img, attachment) },
      download: attachment => { void this.attachments.save(attachment).catch(error => { this.onError(describeError(error)) }) },
      edit: async (messageId, body) => { await this.client.session.request('PATCH', `/api/messages/${messageId}`, { body }).catch(error => { this.onError(describeError(error)) }) },
      remove: async messageId => { await this.client.session.request('DELETE', `/api/messages/${messageId}`).catch(error => { this.onError(describeError(error)) }) },
      retry: clientMsgId => { this.client.retry(conversationId, clientMsgId) },
      discard: clientMsgId => { this.client.discard(conversationId, clientMsgId) }
    }
  }

  private presenceOf (user: { id: string, online: boolean, lastSeenAt: string | null } | undefined): { online: boolean, lastSeenAt: string | null } | null {
    if (user === undefined) return null
    return this.client.extras.presence(user.id) ?? { online: user.online, lastSeenAt: user.lastSeenAt }
  }

  private async loadOlder (): Promise<void> {
    const conversationId = this.current
    if (conversationId === null || this.loadingOlder || this.hasOlder.get(conversationId) !== true) return
    this.loadingOlder = true
    const before = this.log.scrollHeight
    try {
      this.hasOlder.set(conversationId, await this.client.loadOlder(conversationId))
      // Keep what the reader was looking at in place: the new page went above it (not if another one is open now).
      if (this.current === conversationId) this.log.scrollTop += this.log.scrollHeight - before
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
      this.forget(conversationId)
      this.back()
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
