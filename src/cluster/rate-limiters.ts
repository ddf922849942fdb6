/**
 * Rate limits shared by the whole cluster: RateLimiterRedis counts on the cluster's command connection, so a user
 * or an IP has one budget however the load balancer spreads their requests. While Redis is down each limiter falls
 * back to an in-memory one with the same points and window (per instance, as without a cluster), so an outage
 * loosens the limits a little but never fails a request.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Cluster } from './cluster.types.js'
import { rateLimited } from '../shared/errors.js'

/** What the login and message limiters ask for (the shape of their `createLimiter` option). */
export interface LimiterSpec {
  /** Distinguishes the limiters' keys in Redis (`parley:rl:<keyPrefix>:<key>`). */
  keyPrefix: string
  points: number
  /** Window in seconds. */
  duration: number
}

export type LimiterFactory = (spec: LimiterSpec) => RateLimiterAbstract

/** Limiters on Redis with an in-memory insurance limiter. */
export function redisLimiterFactory (cluster: Cluster): LimiterFactory {
  return spec => new RateLimiterRedis({
    storeClient: cluster.redis,
    // ioredis, not the `redis` package.
    useRedisPackage: false,
    // Not connected: use the insurance limiter at once instead of waiting for a command to fail.
    rejectIfRedisNotReady: true,
    keyPrefix: `parley:rl:${spec.keyPrefix}`,
    points: spec.points,
    duration: spec.duration,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: spec.keyPrefix, points: spec.points, duration: spec.duration })
  })
}

/** The factory for an app: shared limiters with a cluster, undefined (the in-memory default) without one. */
export function clusterLimiterFactory (app: { cluster?: Cluster | null }): LimiterFactory | undefined {
  return app.cluster != null ? redisLimiterFactory(app.cluster) : undefined
}

/** One point of `limiter` for `key` (none: no limit), or a 429 RATE_LIMITED AppError ("Too many <what>") when none is left. */
export async function consumePoint (limiter: RateLimiterAbstract | null | undefined, key: string, what: string): Promise<void> {
  if (limiter == null) return
  try {
    await limiter.consume(key)
  } catch (error) {
    if (error instanceof RateLimiterRes) throw rateLimited(error.msBeforeNext, what)
    throw error
  }
}
