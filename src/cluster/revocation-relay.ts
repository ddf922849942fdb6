/**
 * Session revocations reach every instance at once: each instance publishes the revocations it makes on
 * `parley:revocations`, and applies what the others publish (its own come back too and change nothing: the list
 * already holds them). Every instance's gateway then disconnects the session's sockets it holds. Polling MongoDB
 * (RevocationService) stays on as the fallback for anything published during a Redis outage.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Revocation, RevocationService } from '../modules/auth/revocation.service.js'
import { REVOKE_REASONS } from '../storage/models/session.model.js'
import type { Cluster } from './cluster.types.js'

export const REVOCATIONS_CHANNEL = 'revocations'

const OBJECT_ID = /^[0-9a-f]{24}$/
const REASONS = new Set<string>([...REVOKE_REASONS, 'unknown'])

/** A revocation as published: `revokedAt` is an ISO string on the wire. */
export function parseRevocation (payload: unknown): Omit<Revocation, 'local'> | null {
  if (typeof payload !== 'object' || payload === null) return null
  const { sid, userId, reason, revokedAt } = payload as Record<string, unknown>
  if (typeof sid !== 'string' || !OBJECT_ID.test(sid)) return null
  if (typeof userId !== 'string' || !OBJECT_ID.test(userId)) return null
  if (typeof reason !== 'string' || !REASONS.has(reason)) return null
  if (typeof revokedAt !== 'string') return null
  const at = new Date(revokedAt)
  if (Number.isNaN(at.getTime())) return null
  return { sid, userId, reason: reason as Revocation['reason'], revokedAt: at }
}

/** Wires the revocation list to the cluster; returns the function that unwires it. */
export function relayRevocations (cluster: Cluster, revocation: RevocationService, log: FastifyBaseLogger): () => void {
  const stopPublishing = revocation.onRevoked(r => {
    if (!r.local) return
    cluster.publish(REVOCATIONS_CHANNEL, { sid: r.sid, userId: r.userId, reason: r.reason, revokedAt: r.revokedAt.toISOString() })
  })
  const stopSubscribing = cluster.subscribe(REVOCATIONS_CHANNEL, payload => {
    const parsed = parseRevocation(payload)
    if (parsed === null) {
      log.warn({ channel: REVOCATIONS_CHANNEL }, 'cluster: malformed revocation ignored')
      return
    }
    revocation.apply(parsed)
  })
  return () => {
    stopPublishing()
    stopSubscribing()
  }
}
