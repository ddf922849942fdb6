/**
 * This instance's live sockets, by socket id and by session: a revocation finds its sockets without a scan,
 * `auth_refresh` finds the socket it rebinds, and a Redis reconnect finds every socket to resync.
 */
import type { SocketContext } from './contracts.js'
import type { ParleySocket } from './socket-types.js'

/** A served socket's state in the gateway (connection.ts): what its shared listeners read. */
export interface LiveSocket {
  socket: ParleySocket
  /** What handlers see, made at the socket's first event (contextOf); `auth_refresh` moves its sid and role with the socket's data. */
  context: SocketContext | null
  /** Its events running now (at most MAX_EVENTS_IN_FLIGHT). */
  inFlight: number
  /** While its conversation rooms are read: settles true when it may be served; then that answer. */
  ready: Promise<boolean> | boolean
  /** The rooms it was in, taken when it started disconnecting (for the disconnection listeners). */
  rooms: string[] | null
}

export class SocketRegistry {
  private readonly live = new Map<string, LiveSocket>()
  private readonly bySession = new Map<string, Set<ParleySocket>>()
  private readonly perUser = new Map<string, number>()

  add (entry: LiveSocket): void {
    this.live.set(entry.socket.id, entry)
    this.index(entry.socket.data.sid, entry.socket)
    const { userId } = entry.socket.data
    this.perUser.set(userId, (this.perUser.get(userId) ?? 0) + 1)
  }

  /** Forgets a socket that left (under its current session: auth_refresh may have moved it); its entry, if it had one. */
  remove (socket: ParleySocket): LiveSocket | undefined {
    const entry = this.live.get(socket.id)
    if (entry === undefined) return undefined
    this.live.delete(socket.id)
    this.unindex(socket.data.sid, socket)
    const left = (this.perUser.get(socket.data.userId) ?? 1) - 1
    if (left > 0) this.perUser.set(socket.data.userId, left)
    else this.perUser.delete(socket.data.userId)
    return entry
  }

  /** This instance's live sockets. */
  get size (): number {
    return this.live.size
  }

  /** This instance's sockets of a user. */
  countOfUser (userId: string): number {
    return this.perUser.get(userId) ?? 0
  }

  get (socketId: string): LiveSocket | undefined {
    return this.live.get(socketId)
  }

  /** Re-files a socket under the session its new token belongs to. */
  moveSession (socket: ParleySocket, sid: string): void {
    if (sid === socket.data.sid) return
    this.unindex(socket.data.sid, socket)
    this.index(sid, socket)
  }

  sockets (): ParleySocket[] {
    return [...this.live.values()].map(entry => entry.socket)
  }

  ofSession (sid: string): ParleySocket[] {
    return [...this.bySession.get(sid) ?? []]
  }

  private index (sid: string, socket: ParleySocket): void {
    let own = this.bySession.get(sid)
    if (own === undefined) this.bySession.set(sid, own = new Set())
    own.add(socket)
  }

  private unindex (sid: string, socket: ParleySocket): void {
    const own = this.bySession.get(sid)
    if (own === undefined) return
    own.delete(socket)
    if (own.size === 0) this.bySession.delete(sid)
  }
}
