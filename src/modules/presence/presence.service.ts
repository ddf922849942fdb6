/**
 * Presence: online while any socket of the user is connected. The first socket pushes `presence` online to the
 * rooms of the user's conversations; the last one stores `lastSeenAt` and pushes offline to the rooms that socket
 * was in. `query` answers presence_query. Throws AppErrors only.
 */
import type { RoomNotifier } from '../../realtime/notifier.js'
import type { PresenceQueryResult } from '../../realtime/events.js'
import type { UserModel } from '../../storage/models/user.model.js'
import type { PresenceStore } from './presence.store.js'

export interface PresenceServiceOptions {
  store: PresenceStore
  User: UserModel
  notifier: RoomNotifier
}

/** One socket, as presence sees it. */
export interface PresenceSocket {
  userId: string
  socketId: string
  /** The conversations the socket is in (its rooms), who hear about the change. */
  conversationIds: string[]
  /** The stored lastSeenAt (ISO) when it connected. */
  lastSeenAt: string | null
}

export class PresenceService {
  private readonly store: PresenceStore
  private readonly User: UserModel
  private readonly notifier: RoomNotifier

  constructor (options: PresenceServiceOptions) {
    this.store = options.store
    this.User = options.User
    this.notifier = options.notifier
  }

  isOnline (userId: string): boolean {
    return this.store.isOnline(userId)
  }

  async onlineCount (): Promise<number> {
    return await this.store.count()
  }

  async connected (socket: PresenceSocket): Promise<void> {
    if (!await this.store.add(socket.userId, socket.socketId)) return
    this.push(socket, true, socket.lastSeenAt)
  }

  async disconnected (socket: PresenceSocket): Promise<void> {
    if (!await this.store.remove(socket.userId, socket.socketId)) return
    const lastSeenAt = new Date()
    await this.User.updateOne({ _id: socket.userId }, { $set: { lastSeenAt } })
    // Reconnected meanwhile (another device, or the same one quickly): the online push stands.
    if (this.store.isOnline(socket.userId)) return
    this.push(socket, false, lastSeenAt.toISOString())
  }

  /** Online state and lastSeenAt of each requested user; unknown ids answer offline with null. */
  async query (userIds: string[]): Promise<PresenceQueryResult> {
    const ids = [...new Set(userIds)]
    const [online, users] = await Promise.all([
      this.store.onlineAmong(ids),
      this.User.find({ _id: { $in: ids } }, { lastSeenAt: 1, deletedAt: 1 }).lean()
    ])
    const byId = new Map(users.map(user => [String(user._id), user]))
    const result: PresenceQueryResult = {}
    for (const id of ids) {
      const user = byId.get(id)
      result[id] = {
        online: user !== undefined && user.deletedAt == null && online.has(id),
        lastSeenAt: user?.lastSeenAt instanceof Date ? user.lastSeenAt.toISOString() : null
      }
    }
    return result
  }

  private push (socket: PresenceSocket, online: boolean, lastSeenAt: string | null): void {
    this.notifier.toConversations(socket.conversationIds, 'presence', { userId: socket.userId, online, lastSeenAt },
      { exceptSocketId: socket.socketId })
  }
}
