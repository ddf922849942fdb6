/**
 * The one place room names are made and read. Every socket joins its user's room and the rooms of its
 * conversations; with the Redis adapter the same names reach sockets on every instance.
 */
const USER_PREFIX = 'user:'
const CONVERSATION_PREFIX = 'conversation:'

export const userRoom = (userId: string): string => `${USER_PREFIX}${userId}`
export const conversationRoom = (conversationId: string): string => `${CONVERSATION_PREFIX}${conversationId}`

/** Conversation ids among a socket's rooms. */
export function conversationIdsOf (rooms: Iterable<string>): string[] {
  const ids: string[] = []
  for (const room of rooms) if (room.startsWith(CONVERSATION_PREFIX)) ids.push(room.slice(CONVERSATION_PREFIX.length))
  return ids
}
