/**
 * What the gateway reports about its sockets and events, for whoever measures them. The metrics plugin decorates
 * `app.realtimeMetrics` with a Prometheus implementation (plugins/metrics/socket-metrics.ts) before the gateway is
 * registered; without it the gateway reports to `noRealtimeMetrics`. The realtime code never sees Prometheus.
 * Everything here is on the hot path: implementations bind their per-event state once (`clientEvent`) and do no
 * more than count and time per call.
 */
import type { ErrorCode } from '../shared/errors.js'
import type { ClientEventName, ServerEventName } from './events.js'

/** One client event's measurements, bound once when its runner is compiled (ack.ts). */
export interface EventProbe {
  /** The runner sent the event's ack (`code` null for `ok: true`); `startedAt` is the runner's `performance.now()`. */
  acked: (startedAt: number, code: ErrorCode | null) => void
}

export interface RealtimeMetrics {
  /** How to read this instance's connected sockets (read at scrape time, not per connect). */
  countSockets: (count: () => number) => void
  clientEvent: (name: ClientEventName) => EventProbe
  /** An event answered before any runner: unknown, over the user's budget, too many in flight. `name` is the client's. */
  refused: (name: string, code: ErrorCode) => void
  /** One server event emitted through the notifier (one per emit, whatever the number of sockets it reaches). */
  emitted: (name: ServerEventName) => void
  /** The sockets on this instance a new message (`re_message`, `re_message_file`) was delivered to. */
  messageFanout: (sockets: number) => void
}

const nothing = (): void => {}
const noProbe: EventProbe = { acked: nothing }

export const noRealtimeMetrics: RealtimeMetrics = {
  countSockets: nothing,
  clientEvent: () => noProbe,
  refused: nothing,
  emitted: nothing,
  messageFanout: nothing
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by the metrics plugin when it is registered before the gateway; optional. */
    realtimeMetrics?: RealtimeMetrics
  }
}
