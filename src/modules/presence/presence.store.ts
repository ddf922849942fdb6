/**
 * Who is online, behind a small interface so the cluster issue can swap the in-process count for a shared one
 * (Redis) without touching the presence service. A user is online while any of their sockets is connected.
 */
export interface PresenceStore {
  /** Counts a socket in; resolves true when it is the user's first (they just came online). */
  add: (userId: string, socketId: string) => Promise<boolean>
  /** Counts a socket out; resolves true when it was the user's last (they just went offline). */
  remove: (userId: string, socketId: string) => Promise<boolean>
  /** The synchronous view public user documents use (`online`); a shared store keeps a local mirror. */
  isOnline: (userId: string) => boolean
  /** Which of these users are online. */
  onlineAmong: (userIds: string[]) => Promise<Set<string>>
  /** How many users are online (metrics, admin stats). */
  count: () => Promise<number>
}

/** One instance's sockets, counted in memory: right for a single instance. */
export class LocalPresenceStore implements PresenceStore {
  /** userId -> ids of that user's connected sockets (a set, so a repeated add or remove counts once). */
  private readonly sockets = new Map<string, Set<string>>()

  async add (userId: string, socketId: string): Promise<boolean> {
    let own = this.sockets.get(userId)
    if (own === undefined) this.sockets.set(userId, own = new Set())
    own.add(socketId)
    return own.size === 1
  }

  async remove (userId: string, socketId: string): Promise<boolean> {
    const own = this.sockets.get(userId)
    if (own === undefined || !own.delete(socketId)) return false
    if (own.size > 0) return false
    this.sockets.delete(userId)
    return true
  }

  isOnline (userId: string): boolean {
    return this.sockets.has(userId)
  }

  async onlineAmong (userIds: string[]): Promise<Set<string>> {
    return new Set(userIds.filter(id => this.sockets.has(id)))
  }

  async count (): Promise<number> {
    return this.sockets.size
  }
}
