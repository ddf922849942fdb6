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

/**
 * The adapter's own string for each Parley room that exists on this instance. The adapter keeps each socket's set of
 * room names: when every socket in a room holds the same string, a membership costs a set entry instead of a copy
 * of the name (a user's tabs share their user room; members online here share a conversation's). Follows the
 * adapter's create-room and delete-room events, so it holds the rooms that exist here and no others (and not the
 * per-socket rooms Socket.IO names after socket ids).
 */
export class RoomNames {
  private readonly names = new Map<string, string>()

  constructor (adapter: { on: (event: 'create-room' | 'delete-room', listener: (room: unknown) => void) => unknown }) {
    adapter.on('create-room', room => { if (isParleyRoom(room)) this.names.set(room, room) })
    adapter.on('delete-room', room => { if (isParleyRoom(room)) this.names.delete(room) })
  }

  /** The string the adapter already holds for this room name, or the name itself when the room does not exist here yet. */
  shared (name: string): string {
    return this.names.get(name) ?? name
  }

  /** Rooms known (for tests). */
  get size (): number { return this.names.size }
}

function isParleyRoom (room: unknown): room is string {
  return typeof room === 'string' && (room.startsWith(USER_PREFIX) || room.startsWith(CONVERSATION_PREFIX))
}
