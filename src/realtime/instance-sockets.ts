/**
 * Connected sockets per instance, for the admin stats: this instance counts its own, and in a cluster asks the others
 * (`serverSideEmitWithAck` through the adapter). An instance that does not answer in time is left out, not waited for.
 */
import type { ParleyServer } from './socket-types.js'
import { withTimeout } from '../shared/with-timeout.js'

export interface InstanceSockets { instanceId: string, sockets: number }

/** The inter-server event that asks an instance for its count. */
export const INSTANCE_SOCKETS_EVENT = 'instance_sockets'

export function instanceSocketsCounter (io: ParleyServer, instanceId: string, cluster: { isUp: () => boolean } | null, timeoutMs: number): () => Promise<InstanceSockets[]> {
  const own = (): InstanceSockets => ({ instanceId, sockets: io.of('/').sockets.size })
  if (cluster !== null) {
    io.on(INSTANCE_SOCKETS_EVENT, (ack: (count: InstanceSockets) => void) => { if (typeof ack === 'function') ack(own()) })
  }
  return async () => {
    if (cluster === null || !cluster.isUp()) return [own()]
    const others = await withTimeout(io.serverSideEmitWithAck(INSTANCE_SOCKETS_EVENT), timeoutMs, 'no answer from the adapter')
      .catch((error: Error & { responses?: InstanceSockets[] }) => error.responses ?? [])
    return [own(), ...others.filter(isCount)].sort((a, b) => a.instanceId.localeCompare(b.instanceId))
  }
}

function isCount (value: unknown): value is InstanceSockets {
  return typeof value === 'object' && value !== null &&
    typeof (value as InstanceSockets).instanceId === 'string' && Number.isInteger((value as InstanceSockets).sockets)
}
