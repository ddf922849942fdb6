/** How people and conversations are named in the app. */
import type { Conversation } from '../../client/src/index.js'

type User = Conversation['members'][number]['user']

export function displayName (user: User): string {
  const full = [user.firstName, user.lastName].filter(part => part !== null && part !== undefined && part !== '').join(' ')
  return full !== '' ? `${full} (@${user.username})` : `@${user.username}`
}

/** The other member of a direct conversation (ourselves for a conversation with only us left). */
export function peerOf (conversation: Conversation, me: string): User | null {
  return conversation.members.find(member => member.userId !== me)?.user ?? null
}

export function titleOf (conversation: Conversation, me: string): string {
  if (conversation.type === 'group') return conversation.name ?? 'Group'
  const peer = peerOf(conversation, me)
  return peer === null ? 'Conversation' : displayName(peer)
}
