/**
 * This instance's live sockets, by socket id and by session: a revocation finds its sockets without a scan,
 * `auth_refresh` finds the socket it rebinds, and a Redis reconnect finds every socket to resync.
 */
import type { SocketContext } from './contracts.js'
import type { ExpiryTimer } from './socket-session.js'
import type { ParleySocket } from './socket-types.js'

export interface LiveSocket {
  socket: ParleySocket
  /** What handlers see; `auth_refresh` moves its sid and role with the socket's data. */
  context: SocketContext
  /** Disconnects the socket when its token runs out. */
  expiry: ExpiryTimer
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

  /** Forgets a socket that left (under its current session: auth_refresh may have moved it). */
  remove (socket: ParleySocket): void {
    const entry = this.live.get(socket.id)
    if (entry === undefined) return
    entry.expiry.clear()
    this.live.delete(socket.id)
    this.unindex(socket.data.sid, socket)
    const left = (this.perUser.get(socket.data.userId) ?? 1) - 1
    if (left > 0) this.perUser.set(socket.data.userId, left)
    else this.perUser.delete(socket.data.userId)
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
