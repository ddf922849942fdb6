/**
 * The gateway's measurements (realtime/realtime-metrics.ts) as Prometheus metrics. Label values come from fixed
 * lists (the contract's event names, the outcome classes below), never from what a client sends, and every
 * labelled child is bound once here, so the hot path only counts and observes.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { clientEvents, serverEvents } from '../../realtime/events.schemas.js'
import type { ClientEventName, ServerEventName } from '../../realtime/events.js'
import type { EventProbe, RealtimeMetrics } from '../../realtime/realtime-metrics.js'
import { ERROR_STATUS, type ErrorCode } from '../../shared/errors.js'

/** An ack's outcome: `ok`, or its error code's class (by the HTTP status the code has on the REST facade). */
export const OUTCOMES = ['ok', 'bad_request', 'unauthorized', 'forbidden', 'not_found', 'conflict', 'rate_limited', 'client_error', 'server_error'] as const
export type Outcome = typeof OUTCOMES[number]

const CLASS_BY_STATUS: Partial<Record<number, Outcome>> = { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 429: 'rate_limited' }

export function outcomeOf (code: ErrorCode | null): Outcome {
  if (code === null) return 'ok'
  const status = ERROR_STATUS[code]
  return CLASS_BY_STATUS[status] ?? (status >= 500 ? 'server_error' : 'client_error')
}

const OUTCOME_OF_CODE = Object.fromEntries(Object.keys(ERROR_STATUS).map(code => [code, outcomeOf(code as ErrorCode)])) as Record<ErrorCode, Outcome>

/** The `event` label of an event name no runner serves (unknown names are the client's, so unbounded). */
export const OTHER_EVENT = 'other'

const ACK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const FANOUT_BUCKETS = [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]

/** A labelled counter child, bound once. */
interface Counted { inc: () => void }

export function socketMetrics (registry: Registry): RealtimeMetrics {
  const registers = [registry]
  let countSockets = (): number => 0
  registry.registerMetric(new Gauge({
    name: 'parley_sockets_connected',
    help: 'Sockets connected to this instance (authenticated, served by the gateway)',
    registers: [],
    collect () { this.set(countSockets()) }
  }))
  const events = new Counter({
    name: 'parley_socket_events_total',
    help: 'Client events received, by event and outcome (ok, or the error code\'s class)',
    labelNames: ['event', 'outcome'] as const,
    registers
  })
  const acks = new Histogram({
    name: 'parley_socket_ack_seconds',
    help: 'Time from an event reaching its runner (validation, handler) to its ack being sent',
    labelNames: ['event'] as const,
    buckets: ACK_BUCKETS,
    registers
  })
  const emits = new Counter({
    name: 'parley_socket_emits_total',
    help: 'Server events emitted through the notifier (one per emit to rooms, whatever the sockets it reaches)',
    labelNames: ['event'] as const,
    registers
  })
  const fanout = new Histogram({
    name: 'parley_message_fanout',
    help: 'Sockets on this instance a new message (re_message, re_message_file) was delivered to',
    buckets: FANOUT_BUCKETS,
    registers
  })

  const outcomeCounters = (event: string): Record<Outcome, Counted> =>
    Object.fromEntries(OUTCOMES.map(outcome => [outcome, events.labels(event, outcome)])) as Record<Outcome, Counted>
  const countersByEvent = new Map([...Object.keys(clientEvents), OTHER_EVENT].map(event => [event, outcomeCounters(event)]))
  const other = countersByEvent.get(OTHER_EVENT) as Record<Outcome, Counted>
  const emitCounters = Object.fromEntries(Object.keys(serverEvents).map(event => [event, emits.labels(event)])) as Record<ServerEventName, Counted>

  return {
    countSockets (count) { countSockets = count },
    clientEvent (name: ClientEventName): EventProbe {
      const counters = countersByEvent.get(name) ?? other
      const latency = acks.labels(name)
      return {
        acked (startedAt, code) {
          latency.observe((performance.now() - startedAt) / 1000)
          counters[code === null ? 'ok' : OUTCOME_OF_CODE[code]].inc()
        }
      }
    },
    refused (name, code) {
      const counters = countersByEvent.get(name) ?? other
      counters[OUTCOME_OF_CODE[code]].inc()
    },
    emitted (name) { emitCounters[name].inc() },
    messageFanout (sockets) { fanout.observe(sockets) }
  }
}
