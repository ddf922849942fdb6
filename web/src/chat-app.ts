/**
 * The signed-in app: top bar with the connection state, the sidebar (people search, new group, conversations)
 * and the open conversation, all fed by one ParleyClient.
 */
import { ParleyClient } from '../../client/src/index.js'
import { describeError, fill, h } from './dom.js'
import { renderConversationList } from './conversation-list.js'
import { ConversationPane } from './conversation-pane.js'
import { peopleSearch } from './people-search.js'
import { openPeopleDialog } from './group-dialog.js'

/** How long a typing indicator lasts without a repeat (the server says receivers should let it lapse). */
const TYPING_LAPSE_MS = 6000

export class ChatApp {
  private readonly status = h('p', { class: 'connection', role: 'status', 'data-state': 'connecting' }, 'Connecting…')
  private readonly alert = h('p', { class: 'alert', role: 'alert' })
  private readonly list = h('ul', { class: 'conversation-list', 'aria-label': 'Conversations' })
  private readonly pane: ConversationPane
  private readonly typing = new Map<string, Map<string, ReturnType<typeof setTimeout>>>()
  private readonly layout = h('div', { class: 'layout' })
  private readonly me = h('p', { class: 'me' })

  constructor (private readonly root: HTMLElement, readonly client: ParleyClient, private readonly signOut: () => void) {
    this.pane = new ConversationPane(client, () => { this.closeConversation() }, message => { this.showError(message) })
  }

  async start (): Promise<void> {
    const client = this.client
    const me = client.userId ?? ''
    fill(this.layout,
      h('aside', { class: 'sidebar', 'aria-label': 'Sidebar' },
        peopleSearch(client, 'Find people', user => { void this.openDirect(user.id) }),
        h('button', { type: 'button', class: 'new-group', onclick: () => { this.newGroup() } }, 'New group'),
        h('h2', { class: 'visually-hidden' }, 'Conversations'),
        this.list),
      this.pane.element)
    fill(this.root,
      h('header', { class: 'topbar' },
        h('h1', {}, 'Parley'),
        this.status,
        this.me,
        h('button', { type: 'button', class: 'secondary', onclick: this.signOut }, 'Sign out')),
      this.alert,
      this.layout)

    client.on('timeline', conversationId => { this.pane.renderMessages(conversationId) })
    client.on('connected', () => { this.setStatus('online', 'Online') })
    client.on('disconnected', () => { this.setStatus('offline', 'Connection lost: reconnecting…') })
    client.conversations.on('changed', () => { this.onListChanged() })
    client.receipts.on('changed', conversationId => { this.pane.renderMessages(conversationId) })
    client.extras.on('presence', () => { this.renderList(); this.pane.renderHeader() })
    client.extras.on('typing', ({ conversationId, userId, isTyping }) => { if (userId !== me) this.onTyping(conversationId, userId, isTyping) })
    client.on('timeline', conversationId => {
      // A message from someone ends their typing indicator.
      const last = client.messages(conversationId).at(-1)
      if (last !== undefined && last.senderId !== me) this.onTyping(conversationId, last.senderId, false)
    })
    document.addEventListener('visibilitychange', this.onVisibility)

    void client.session.request('GET', '/api/users/me').then((user: { username: string }) => { this.me.textContent = `Signed in as @${user.username}` }, () => {})
    await client.connect()
    await client.conversations.load()
    this.renderList()
  }

  /** Stops what outlives the client: listeners on the document, dialogs, object URLs (the session ended). */
  dispose (): void {
    document.removeEventListener('visibilitychange', this.onVisibility)
    for (const dialog of document.querySelectorAll('dialog')) dialog.remove()
    for (const typers of this.typing.values()) for (const timer of typers.values()) clearTimeout(timer)
    this.pane.attachments.clear()
  }

  private readonly onVisibility = (): void => {
    if (this.pane.current !== null) this.pane.renderMessages(this.pane.current)
    this.renderList()
  }

  /** The list changed; the open conversation may be gone (we left or were removed, the group was deleted). */
  private onListChanged (): void {
    const current = this.pane.current
    if (current !== null && this.client.conversations.get(current) === undefined) {
      this.pane.forget(current)
      this.closeConversation()
      this.showError('That conversation is no longer available to you.')
      return
    }
    this.renderList()
    this.pane.renderHeader()
  }

  private renderList (): void { renderConversationList(this.list, this.client, this.pane.current, id => { void this.open(id) }) }

  private async open (conversationId: string): Promise<void> {
    this.layout.classList.add('showing-pane')
    await this.pane.open(conversationId)
    this.renderList()
    this.renderTyping(conversationId)
  }

  private closeConversation (): void {
    this.layout.classList.remove('showing-pane')
    this.pane.close()
    this.renderList()
  }

  private async openDirect (userId: string): Promise<void> {
    try {
      await this.open((await this.client.conversations.openDirect(userId)).id)
    } catch (error) {
      this.showError(describeError(error))
    }
  }

  private newGroup (): void {
    openPeopleDialog(this.client, {
      title: 'New group',
      action: 'Create group',
      withName: true,
      submit: async ({ name, userIds }) => {
        const group = await this.client.conversations.createGroup({ name, memberIds: userIds })
        await this.open(group.id)
      }
    })
  }

  private onTyping (conversationId: string, userId: string, isTyping: boolean): void {
    let typers = this.typing.get(conversationId)
    if (typers === undefined) this.typing.set(conversationId, typers = new Map())
    clearTimeout(typers.get(userId))
    if (isTyping) typers.set(userId, setTimeout(() => { this.onTyping(conversationId, userId, false) }, TYPING_LAPSE_MS))
    else if (!typers.delete(userId)) return
    this.renderTyping(conversationId)
  }

  private renderTyping (conversationId: string): void {
    if (this.pane.current !== conversationId) return
    const conversation = this.client.conversations.get(conversationId)
    const names = [...this.typing.get(conversationId)?.keys() ?? []]
      .map(userId => conversation?.members.find(member => member.userId === userId)?.user.username ?? 'someone')
    this.pane.setTyping(names)
  }

  private setStatus (state: string, text: string): void {
    this.status.dataset.state = state
    this.status.textContent = text
  }

  private showError (message: string): void {
    this.alert.textContent = message
    setTimeout(() => { if (this.alert.textContent === message) this.alert.textContent = '' }, 6000)
  }
}
