/**
 * Shutdown (SIGTERM) for sockets: refuse new ones, let in-flight work finish and ack while the sockets are still
 * open, then close the transports without a Socket.IO disconnect packet, so clients see "transport close" and
 * reconnect (elsewhere, behind a load balancer) instead of "io server disconnect", after which socket.io-client
 * would stay offline.
 */
import type { FastifyBaseLogger } from 'fastify'
import { settlesWithin } from '../shared/with-timeout.js'
import type { ParleyServer } from './socket-types.js'

/** The longest the drain waits for in-flight work before closing the sockets anyway. */
export const DRAIN_TIMEOUT_MS = 10_000

export class SocketDrain {
  private readonly tasks: Array<() => Promise<void>> = []
  private started = false

  /** True from the start of the drain: the handshake then refuses new sockets with SHUTTING_DOWN. */
  get draining (): boolean { return this.started }

  /** Work to finish before the sockets close (in-flight sends), each at most DRAIN_TIMEOUT_MS. */
  add (task: () => Promise<void>): void {
    this.tasks.push(task)
  }

  async run (io: ParleyServer, log: FastifyBaseLogger): Promise<void> {
    this.started = true
    await Promise.all(this.tasks.map(async task => {
      await settlesWithin(task().catch(error => { log.error({ err: error }, 'drain task failed') }), DRAIN_TIMEOUT_MS)
    }))
    io.engine.close()
  }
}
