/**
 * Who is online, behind a small interface so the cluster can swap the in-process count for a shared one (Redis,
 * redis-presence.store.ts) without touching the presence service. A user is online while any of their sockets is
 * connected, on any instance.
 */

/** A change the store found by itself, not through add/remove: the service stores lastSeenAt and pushes it. */
export interface PresenceTransition {
  userId: string
  online: boolean
  /** When it happened, as well as the store knows (for a crashed instance: its last heartbeat). */
  at: Date
}

export type PresenceTransitionListener = (transitions: PresenceTransition[]) => void | Promise<void>

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
  /**
   * Shared stores only: users who went offline or online without an add/remove here (another instance crashed
   * and was reaped, or state was re-announced after a Redis outage). One instance hears each transition.
   */
  onTransitions?: (listener: PresenceTransitionListener) => void
  /** Shared stores only: joins the shared state (never throws: an unreachable backend is retried). */
  start?: () => Promise<void>
  /** Shared stores only: leaves the shared state so this instance's users go offline at once, stops timers. */
  close?: () => Promise<void>
}

/** One instance's sockets, counted in memory: right for a single instance. */
export class LocalPresenceStore implements PresenceStore {
  /** userId -> ids of that user's connected sockets (a set, so a repeated add or remove counts once). */
  private readonly sockets = new Map<string, Set<string>>()

  async add (userId: string, socketId: string): Promise<boolean> {
    return addSocket(this.sockets, userId, socketId)
  }

  async remove (userId: string, socketId: string): Promise<boolean> {
    return removeSocket(this.sockets, userId, socketId)
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

/** Adds a socket to a userId -> socket ids map; true when it is the user's first. */
export function addSocket (sockets: Map<string, Set<string>>, userId: string, socketId: string): boolean {
  let own = sockets.get(userId)
  if (own === undefined) sockets.set(userId, own = new Set())
  own.add(socketId)
  return own.size === 1
}

/** Removes a socket from a userId -> socket ids map; true when it was the user's last. */
export function removeSocket (sockets: Map<string, Set<string>>, userId: string, socketId: string): boolean {
  const own = sockets.get(userId)
  if (own === undefined || !own.delete(socketId)) return false
  if (own.size > 0) return false
  sockets.delete(userId)
  return true
}
