/** The sidebar's conversation list: latest activity first, last message, unread badge, online dot for direct chats. */
import type { Conversation, ParleyClient } from '../../client/src/index.js'
import { fill, h, shortTime } from './dom.js'
import { peerOf, titleOf } from './names.js'

export function renderConversationList (list: HTMLElement, client: ParleyClient, current: string | null, open: (id: string) => void): void {
  const me = client.userId ?? ''
  const focused = (document.activeElement as HTMLElement | null)?.closest('.conversation-item')?.getAttribute('data-id') ?? null
  // The open conversation counts as read only while it can be seen (a hidden tab keeps its badge).
  const seen = document.visibilityState === 'visible' ? current : null
  const items = client.conversations.list().map(conversation => {
    const online = onlineOf(client, conversation, me)
    const unread = conversation.id === seen ? 0 : conversation.unreadCount
    const last = conversation.lastMessage
    const snippet = last === null ? 'No messages yet' : last.deletedAt !== null ? 'Message deleted' : last.body !== '' ? last.body : 'File'
    return h('li', {},
      h('button', {
        type: 'button',
        class: `conversation-item${conversation.id === current ? ' current' : ''}`,
        'data-id': conversation.id,
        'aria-current': conversation.id === current ? 'true' : null,
        onclick: () => { open(conversation.id) }
      },
      h('span', { class: `dot${online === true ? ' online' : ''}`, 'aria-label': online === null ? 'group' : online ? 'online' : 'offline' }, conversation.type === 'group' ? '#' : ''),
      h('span', { class: 'title' }, titleOf(conversation, me)),
      h('span', { class: 'snippet' }, snippet),
      h('time', { class: 'when', datetime: conversation.lastActivityAt }, shortTime(conversation.lastActivityAt)),
      unread > 0 ? h('span', { class: 'badge', 'aria-label': `${unread} unread` }, String(unread)) : null))
  })
  fill(list, ...(items.length > 0 ? items : [h('li', { class: 'empty' }, 'No conversations yet: find someone above.')]))
  // The list is rebuilt on every change: give the focus back to the entry that had it.
  if (focused !== null) (list.querySelector(`[data-id="${CSS.escape(focused)}"]`) as HTMLElement | null)?.focus()
}

/** The peer's presence for a direct conversation (live push first, then the list's snapshot); null for groups. */
export function onlineOf (client: ParleyClient, conversation: Conversation, me: string): boolean | null {
  if (conversation.type === 'group') return null
  const peer = peerOf(conversation, me)
  if (peer === null) return false
  return client.extras.presence(peer.id)?.online ?? peer.online
}
