/**
 * Multipart uploads, shared by POST /api/attachments and the multipart form of POST .../messages: the plugin
 * registration with Parley's limits, and one reader that streams the single `file` part to a store callback
 * while collecting the text fields around it, translating parser errors into Parley's error codes.
 */
import fastifyMultipart, { type MultipartFile } from '@fastify/multipart'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError, badRequest, type ErrorCode } from '../../shared/errors.js'

/** Largest text field (a message body travels in one); the service applies MESSAGE_MAX_BYTES after this. */
const MAX_FIELD_BYTES = 1024 * 1024

/** Registers @fastify/multipart in the calling (encapsulated) scope: one file of at most `maxFileBytes`. */
export async function registerMultipart (scope: FastifyInstance, maxFileBytes: number): Promise<void> {
  await scope.register(fastifyMultipart, {
    limits: { fileSize: maxFileBytes, files: 1, fields: 10, parts: 12, fieldSize: MAX_FIELD_BYTES, headerPairs: 100 }
  })
}

export const notMultipart = (): AppError =>
  new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data with the file in the field "file"')

/** @fastify/multipart's own errors, in Parley's vocabulary. */
const PLUGIN_ERRORS: Record<string, ErrorCode> = {
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_REQ_FILE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_FILES_LIMIT: 'TOO_MANY_FILES',
  FST_PARTS_LIMIT: 'TOO_MANY_PARTS',
  FST_FIELDS_LIMIT: 'TOO_MANY_PARTS',
  FST_PROTO_VIOLATION: 'VALIDATION_ERROR',
  FST_INVALID_JSON_FIELD_ERROR: 'VALIDATION_ERROR',
  // The client went away mid-body: nobody reads the answer, but it is not our fault either.
  FST_MP_PREMATURE_CLOSE: 'INVALID_MULTIPART'
}

function translate (error: unknown): unknown {
  if (error instanceof AppError) return error
  const code = (error as { code?: string })?.code
  const known = code !== undefined ? PLUGIN_ERRORS[code] : undefined
  if (known !== undefined) return new AppError(known, (error as Error).message)
  // busboy reports malformed bodies (no boundary, a cut-off part) as plain Errors; anything else is ours: 500.
  if (error instanceof Error && error.constructor === Error) return badRequest('INVALID_MULTIPART', `Malformed multipart body: ${error.message}`)
  return error
}

export interface ReadMultipartOptions<T> {
  /** Names of the text fields accepted; any other field is 400. */
  fields: readonly string[]
  /** Stores the `file` part; gets the fields that came before it. */
  onFile: (file: MultipartFile, fieldsBefore: Readonly<Record<string, string>>) => Promise<T>
  /** Undoes `onFile` when the rest of the body turns out bad. */
  discard: (stored: T) => Promise<void>
}

/**
 * Reads the whole multipart body: exactly one file part named `file` (400 FILE_REQUIRED without it) and the
 * allowed text fields, each at most once. 415 when the request is not multipart.
 */
export async function readMultipart<T> (request: FastifyRequest, options: ReadMultipartOptions<T>): Promise<{ fields: Record<string, string>, stored: T }> {
  if (!request.isMultipart()) throw notMultipart()
  const fields: Record<string, string> = Object.create(null)
  let stored: { value: T } | null = null
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') throw badRequest('UNEXPECTED_FILE', `Send the file in the field "file", not "${part.fieldname}"`)
        stored = { value: await options.onFile(part, { ...fields }) }
        continue
      }
      const name = part.fieldname
      if (!options.fields.includes(name)) throw badRequest('VALIDATION_ERROR', `Unknown field "${name}"`, [{ field: `body.${name}`, message: 'is not allowed' }])
      if (name in fields) throw badRequest('VALIDATION_ERROR', `The field "${name}" is sent more than once`, [{ field: `body.${name}`, message: 'is repeated' }])
      if (part.valueTruncated) throw new AppError('PAYLOAD_TOO_LARGE', `The field "${name}" is over ${MAX_FIELD_BYTES} bytes`)
      // A part sent as application/json is parsed by the plugin: objects such as {"$gt": ""} must not pass as text.
      if (typeof part.value !== 'string') throw badRequest('VALIDATION_ERROR', `The field "${name}" must be text`, [{ field: `body.${name}`, message: 'must be a string' }])
      fields[name] = part.value
    }
  } catch (error) {
    // Refused mid-body (e.g. not a member): stop parsing and let the rest of the body drain, as Node does for
    // bodies nobody reads, so a client still sending finishes its upload and reads this answer on a live connection.
    if (!request.raw.complete) {
      request.raw.unpipe()
      request.raw.resume()
    }
    if (stored !== null) await options.discard(stored.value).catch(() => {})
    throw translate(error)
  }
  if (stored === null) throw badRequest('FILE_REQUIRED', 'Send the file in the multipart field "file"')
  return { fields, stored: stored.value }
}
