/**
 * Runs one client event: validates the payload against the event's schema (events.schemas.ts), decodes it (ids to
 * lower case), calls the handler, and answers the ack. The only place socket errors are mapped (REST has its own
 * in the errors plugin): an AppError gives its code and message, anything else a generic INTERNAL_ERROR (logged in
 * full). Never throws.
 */
import type { FastifyBaseLogger } from 'fastify'
import { AppError, type ErrorCode } from '../shared/errors.js'
import { compileSchema } from '../shared/validation.js'
import type { SocketContext, SocketHandler } from './contracts.js'
import type { Ack, ClientEventName } from './events.js'
import { clientEvents } from './events.schemas.js'
import { noRealtimeMetrics, type EventProbe } from './realtime-metrics.js'

/** A compiled event: call it with the socket's context and the raw arguments Socket.IO received. */
export type EventRunner = (context: SocketContext, args: unknown[]) => Promise<void>

/** How many validation issues an error ack lists at most (a huge payload must not give a huge answer). */
const MAX_ISSUES = 5

export function ackError (code: ErrorCode, message: string): Ack<never> {
  return { ok: false, error: { code, message } }
}

/** Splits Socket.IO's arguments into the payload and the ack callback (the last argument, when a function). */
export function splitArgs (args: unknown[]): { payload: unknown, ack: ((response: unknown) => void) | null } {
  const last = args[args.length - 1]
  const ack = typeof last === 'function' ? last as (response: unknown) => void : null
  return { payload: ack !== null && args.length === 1 ? undefined : args[0], ack }
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value) &&
    !ArrayBuffer.isView(value) && !(value instanceof ArrayBuffer)
}

/** Calls the client's ack; a client that sent none simply gets nothing, and its failure is not ours. */
function answer (ack: ((response: unknown) => void) | null, response: Ack<unknown>): void {
  if (ack === null) return
  try {
    ack(response)
  } catch {}
}

/**
 * The payload without its `action`, or an error message. The contract lets client payloads carry `action` equal to
 * the event name (clients that follow "every payload carries action" send it); any other value is a mistake.
 */
function withoutAction (name: string, payload: Record<string, unknown>): Record<string, unknown> | string {
  if (!Object.hasOwn(payload, 'action')) return payload
  if (payload.action !== name) return `Invalid ${name} payload: payload/action must be "${name}" when present`
  const { action: _action, ...rest } = payload
  return rest
}

/**
 * `probe` is told about every ack the runner sends, with the time since the runner started (validation, the
 * handler and the ack itself; not the wait for the socket's rooms or budget before it).
 */
export function compileEvent<E extends ClientEventName> (name: E, handle: SocketHandler<E>, log: FastifyBaseLogger, probe: EventProbe = noRealtimeMetrics.clientEvent(name)): EventRunner {
  const schema = compileSchema(clientEvents[name].payload)
  const finish = (ack: ((response: unknown) => void) | null, response: Ack<unknown>, startedAt: number): void => {
    answer(ack, response)
    probe.acked(startedAt, response.ok ? null : response.error.code)
  }
  return async (context, args) => {
    const startedAt = performance.now()
    const { payload: raw, ack } = splitArgs(args)
    if (!isPlainObject(raw)) {
      finish(ack, ackError('VALIDATION_ERROR', `The ${name} payload must be an object`), startedAt)
      return
    }
    const payload = withoutAction(name, raw)
    if (typeof payload === 'string') {
      finish(ack, ackError('VALIDATION_ERROR', payload), startedAt)
      return
    }
    if (!schema.check(payload)) {
      const issues = schema.issues(payload, MAX_ISSUES).map(issue => `payload${issue}`)
      finish(ack, ackError('VALIDATION_ERROR', `Invalid ${name} payload: ${issues.join('; ')}`), startedAt)
      return
    }
    try {
      const data = await handle(context, schema.decode(payload) as Parameters<SocketHandler<E>>[1])
      finish(ack, { ok: true, data: data ?? {} }, startedAt)
    } catch (error) {
      if (error instanceof AppError) {
        finish(ack, ackError(error.code, error.message), startedAt)
      } else {
        log.error({ err: error, event: name, userId: context.userId }, 'socket event handler failed')
        finish(ack, ackError('INTERNAL_ERROR', 'Something went wrong; try again'), startedAt)
      }
    }
  }
}
