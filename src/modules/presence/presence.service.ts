/**
 * Presence: online while any socket of the user is connected. The first socket pushes `presence` online to the
 * rooms of the user's conversations; the last one stores `lastSeenAt` and pushes offline to the rooms that socket
 * was in. `query` answers presence_query. With a shared store (cluster), transitions the store finds by itself
 * (a crashed instance's users, state re-announced after a Redis outage) are stored and pushed here too, to the
 * rooms of all the user's conversations. Throws AppErrors only.
 */
import type { Notifier } from '../../realtime/contracts.js'
import type { PresenceQueryResult } from '../../realtime/events.js'
import type { UserModel } from '../../storage/models/user.model.js'
import type { PresenceStore, PresenceTransition } from './presence.store.js'

export interface PresenceServiceOptions {
  store: PresenceStore
  User: UserModel
  notifier: Notifier
  /** The conversations of a user, for transitions with no socket at hand (reaped instances). Default: none. */
  conversationIdsOf?: (userId: string) => Promise<string[]>
  /** Which of these users share a conversation with the asker: only theirs is answered. Default: only the asker. */
  contactsAmong?: (userId: string, candidateIds: string[]) => Promise<Set<string>>
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
  private readonly notifier: Notifier
  private readonly conversationIdsOf: (userId: string) => Promise<string[]>
  private readonly contactsAmong: (userId: string, candidateIds: string[]) => Promise<Set<string>>

  constructor (options: PresenceServiceOptions) {
    this.store = options.store
    this.User = options.User
    this.notifier = options.notifier
    this.conversationIdsOf = options.conversationIdsOf ?? (async () => [])
    this.contactsAmong = options.contactsAmong ?? (async (userId, ids) => new Set(ids.filter(id => id === userId)))
    this.store.onTransitions?.(async transitions => { await this.transitioned(transitions) })
  }

  /** Where online state lives (the plugin's choice: this instance's memory, or Redis with a cluster). */
  get presenceStore (): PresenceStore {
    return this.store
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
    // Reconnected meanwhile (another device or instance, or the same one quickly): the online push stands.
    if (await this.onlineNow(socket.userId)) return
    this.push(socket, false, lastSeenAt.toISOString())
  }

  /**
   * Transitions a shared store found by itself: one instance hears each, stores it and pushes it everywhere.
   * Batched (a dead instance may take thousands of users with it): one write per distinct time, one online read.
   */
  async transitioned (transitions: PresenceTransition[]): Promise<void> {
    const offline = transitions.filter(change => !change.online)
    const byTime = new Map<number, string[]>()
    for (const { userId, at } of offline) byTime.set(at.getTime(), [...byTime.get(at.getTime()) ?? [], userId])
    for (const [time, userIds] of byTime) await this.User.updateMany({ _id: { $in: userIds } }, { $set: { lastSeenAt: new Date(time) } })
    // Back online meanwhile (another device or instance): the online push stands.
    const stillOnline = offline.length > 0 ? await this.store.onlineAmong(offline.map(change => change.userId)) : new Set<string>()
    const cameOnline = transitions.filter(change => change.online).map(change => change.userId)
    const stored = cameOnline.length > 0 ? await this.User.find({ _id: { $in: cameOnline } }, { lastSeenAt: 1 }).lean() : []
    const lastSeen = new Map(stored.map(user => [String(user._id), user.lastSeenAt instanceof Date ? user.lastSeenAt.toISOString() : null]))
    for (const { userId, online, at } of transitions) {
      if (!online && stillOnline.has(userId)) continue
      const lastSeenAt = online ? lastSeen.get(userId) ?? null : at.toISOString()
      this.notifier.toConversations(await this.conversationIdsOf(userId), 'presence', { userId, online, lastSeenAt })
    }
  }

  /**
   * Online state and lastSeenAt of each requested user, as `askerId` may see them: users who share no conversation
   * with the asker (and unknown ids) answer offline with null, exactly like a stranger looks in the pushes.
   */
  async query (askerId: string, userIds: string[]): Promise<PresenceQueryResult> {
    const asked = [...new Set(userIds)]
    const visible = await this.contactsAmong(askerId, asked)
    const ids = asked.filter(id => visible.has(id))
    const [online, users] = await Promise.all([
      this.store.onlineAmong(ids),
      this.User.find({ _id: { $in: ids } }, { lastSeenAt: 1, deletedAt: 1 }).lean()
    ])
    const byId = new Map(users.map(user => [String(user._id), user]))
    const result: PresenceQueryResult = {}
    for (const id of asked) {
      const user = byId.get(id)
      result[id] = {
        online: user !== undefined && user.deletedAt == null && online.has(id),
        lastSeenAt: user?.lastSeenAt instanceof Date ? user.lastSeenAt.toISOString() : null
      }
    }
    return result
  }

  private async onlineNow (userId: string): Promise<boolean> {
    return (await this.store.onlineAmong([userId])).has(userId)
  }

  private push (socket: PresenceSocket, online: boolean, lastSeenAt: string | null): void {
    this.notifier.toConversations(socket.conversationIds, 'presence', { userId: socket.userId, online, lastSeenAt },
      { exceptSocketId: socket.socketId })
  }
}
