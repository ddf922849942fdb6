/**
 * Runs one client event: validates the payload against the module's compiled schema, calls the handler, and
 * answers the ack. The only place socket errors are mapped (REST has its own in the errors plugin): an AppError
 * gives its code and message, anything else a generic INTERNAL_ERROR (logged in full). Never throws.
 */
import { Compile } from 'typebox/compile'
import type { FastifyBaseLogger } from 'fastify'
import { AppError } from '../shared/errors.js'
import type { SocketContext, SocketEventDefinition } from './contracts.js'
import type { Ack } from './events.js'

/** A compiled event: call it with the socket's context and the raw arguments Socket.IO received. */
export type EventRunner = (context: SocketContext, args: unknown[]) => Promise<void>

/** How many validation issues an error ack lists at most (a huge payload must not give a huge answer). */
const MAX_ISSUES = 5

export function ackError (code: string, message: string): Ack<never> {
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

export function compileEvent (name: string, definition: SocketEventDefinition, log: FastifyBaseLogger): EventRunner {
  const validator = Compile(definition.schema)
  return async (context, args) => {
    const { payload, ack } = splitArgs(args)
    if (!isPlainObject(payload)) {
      answer(ack, ackError('VALIDATION_ERROR', `The ${name} payload must be an object`))
      return
    }
    if (!validator.Check(payload)) {
      const issues = validator.Errors(payload).slice(0, MAX_ISSUES)
        .map(issue => `${issue.instancePath === '' ? 'payload' : `payload${issue.instancePath}`} ${issue.message}`)
      answer(ack, ackError('VALIDATION_ERROR', `Invalid ${name} payload: ${issues.join('; ')}`))
      return
    }
    try {
      const data = await definition.handle(context, payload)
      answer(ack, { ok: true, data: data ?? {} })
    } catch (error) {
      if (error instanceof AppError) {
        answer(ack, ackError(error.code, error.message))
      } else {
        log.error({ err: error, event: name, userId: context.userId }, 'socket event handler failed')
        answer(ack, ackError('INTERNAL_ERROR', 'Something went wrong; try again'))
      }
    }
  }
}
