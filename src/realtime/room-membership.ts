/**
 * Moving users' sockets into and out of conversation rooms, on every instance, confirmed.
 *
 * A membership change is applied to this instance's sockets at once and, in a cluster, sent to every other instance
 * (`serverSideEmit` through the adapter); the call resolves when each has answered that it applied it. So once a
 * removal's ack has gone out, no instance still holds the removed user's sockets in the room: a message emitted after
 * that (a send that was in flight during the removal included) cannot reach them, and an added user's sockets are in
 * the room before the next send anywhere.
 *
 * A socket that is reading its rooms (at connect, or in the resync after a Redis outage) could miss a change made
 * while the read runs: the read may predate the change while the change found no room to leave yet. Such reads run
 * under `whileReading`, which collects the user's changes applied meanwhile for the caller to replay after joining.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { ParleyServer, ParleySocket } from './socket-types.js'
import { conversationRoom, userRoom } from './rooms.js'
import { withTimeout } from '../shared/with-timeout.js'

export interface RoomChange {
  op: 'join' | 'leave'
  userIds: string[]
  conversationId: string
}

/** The inter-server event carrying a RoomChange (its ack: this instance applied it). */
export const ROOM_CHANGE_EVENT = 'room_change'

function isRoomChange (value: unknown): value is RoomChange {
  if (typeof value !== 'object' || value === null) return false
  const { op, userIds, conversationId } = value as Record<string, unknown>
  return (op === 'join' || op === 'leave') && typeof conversationId === 'string' &&
    Array.isArray(userIds) && userIds.every(id => typeof id === 'string')
}

export interface MembershipOptions {
  /** The cluster, or null for a single instance. */
  cluster: { isUp: () => boolean } | null
  /** Longest wait for the other instances' answers (the adapter's own timeout fires first; this one is a backstop). */
  confirmTimeoutMs: number
  log: FastifyBaseLogger
}

export class RoomMembership {
  /** Per user: the change logs of the room reads running now. */
  private readonly readers = new Map<string, Set<RoomChange[]>>()
  private readonly cluster: MembershipOptions['cluster']
  private readonly confirmTimeoutMs: number
  private readonly log: FastifyBaseLogger

  constructor (private readonly io: ParleyServer, { cluster, confirmTimeoutMs, log }: MembershipOptions) {
    this.cluster = cluster
    this.confirmTimeoutMs = confirmTimeoutMs
    this.log = log
    if (cluster === null) return
    io.on(ROOM_CHANGE_EVENT, (change: unknown, ack: (applied: boolean) => void) => {
      const valid = isRoomChange(change)
      if (valid) this.applyLocally(change)
      else log.warn({ change }, 'ignored a malformed room change from another instance')
      if (typeof ack === 'function') ack(valid)
    })
  }

  /** Applies the change here and, in a cluster, waits until every other instance has applied it. */
  async change (change: RoomChange): Promise<void> {
    if (change.userIds.length === 0) return
    this.applyLocally(change)
    // Redis down: the other instances repair their sockets' rooms from the database when it is back (resync.ts).
    if (this.cluster === null || !this.cluster.isUp()) return
    try {
      // The adapter swallows a failed publish without calling back: hence the backstop.
      await withTimeout(this.io.serverSideEmitWithAck(ROOM_CHANGE_EVENT, change), this.confirmTimeoutMs, 'no answer from the adapter')
    } catch (error) {
      // An instance did not answer in time: it is cut off from Redis and resyncs when it is back. The change itself
      // is already stored.
      this.log.warn({ err: error, op: change.op, conversationId: change.conversationId }, 'room change: not every instance confirmed')
    }
  }

  /** Runs a read of a user's rooms; also returns the changes for that user applied while it ran, in order. */
  async whileReading<T> (userId: string, read: () => Promise<T>): Promise<{ value: T, changes: RoomChange[] }> {
    const changes: RoomChange[] = []
    let logs = this.readers.get(userId)
    if (logs === undefined) this.readers.set(userId, logs = new Set())
    logs.add(changes)
    try {
      return { value: await read(), changes }
    } finally {
      logs.delete(changes)
      if (logs.size === 0) this.readers.delete(userId)
    }
  }

  private applyLocally (change: RoomChange): void {
    for (const userId of change.userIds) this.readers.get(userId)?.forEach(log => log.push(change))
    const users = this.io.in(change.userIds.map(userRoom)).local
    const room = conversationRoom(change.conversationId)
    if (change.op === 'join') users.socketsJoin(room)
    else users.socketsLeave(room)
  }
}

/** Replays, on one socket, the changes collected while its rooms were read. */
export function replayRoomChanges (socket: ParleySocket, changes: RoomChange[]): void {
  for (const change of changes) {
    const room = conversationRoom(change.conversationId)
    if (change.op === 'join') void socket.join(room)
    else void socket.leave(room)
  }
}
