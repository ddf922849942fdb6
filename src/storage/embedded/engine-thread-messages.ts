/** What the embedded engine's worker thread and its host say to each other (engine-thread.ts, engine-thread-host.ts). */
import type { EngineLogger } from './store.types.js'

/** An error as it crosses threads: its message, name, code and stack (structured clone keeps few of an Error's own fields). */
export interface ThreadError { name: string, message: string, code?: unknown, stack?: string }

export type HostRequest = { kind: 'health', id: number } | { kind: 'close' }

export type ThreadMessage =
  | { kind: 'started', url: string, host: string, port: number }
  | { kind: 'failed', error: unknown }
  | { kind: 'log', level: keyof EngineLogger, obj: unknown, msg?: string }
  | { kind: 'health', id: number, state: 'ok' | 'failed', error?: unknown }
  | { kind: 'closed', error?: unknown }

const isError = (value: unknown): value is Error => value instanceof Error

/** A value safe to post: Errors (also nested one level, as pino's `err`) become plain ThreadErrors. */
export function toHostMessage (value: unknown): unknown {
  if (isError(value)) return threadError(value)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  const out: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(value)) out[key] = isError(field) ? threadError(field) : field
  return out
}

function threadError (error: Error): ThreadError {
  return { name: error.name, message: error.message, code: (error as { code?: unknown }).code, stack: error.stack }
}

/** A ThreadError back as an Error on the host's side. */
export function fromThreadError (value: unknown): Error {
  const fields = (value ?? {}) as Partial<ThreadError>
  const error = new Error(fields.message ?? 'embedded engine thread failed')
  error.name = fields.name ?? 'Error'
  if (fields.code !== undefined) (error as Error & { code?: unknown }).code = fields.code
  if (fields.stack !== undefined) error.stack = fields.stack
  return error
}
