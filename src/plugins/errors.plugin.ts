import fp from 'fastify-plugin'
import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance } from 'fastify'
import { AppError, retryAfterOf } from '../shared/errors.js'

/** The contract's REST error body. */
export interface ErrorBody {
  statusCode: number
  error: string
  code: string
  message: string
  details?: unknown
}

export function errorBody (statusCode: number, code: string, message: string, details?: unknown): ErrorBody {
  const body: ErrorBody = { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', code, message }
  if (details !== undefined) body.details = details
  return body
}

/** Fastify's own client-error codes, renamed into Parley's vocabulary. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_BODY',
  FST_ERR_VALIDATION: 'VALIDATION_ERROR'
}

function toBody (error: FastifyError): ErrorBody | null {
  if (error instanceof AppError) return errorBody(error.statusCode, error.code, error.message, error.details)
  if (error.validation !== undefined) {
    const details = error.validation.map(issue => ({
      field: `${error.validationContext ?? 'body'}${issue.instancePath.replaceAll('/', '.')}`,
      message: issue.message ?? 'is invalid'
    }))
    return errorBody(400, 'VALIDATION_ERROR', error.message, details)
  }
  if (error instanceof SyntaxError) return errorBody(400, 'INVALID_BODY', 'The body is not valid JSON')
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) {
    return errorBody(status, FASTIFY_CODES[error.code] ?? (error.code ?? 'BAD_REQUEST'), error.message)
  }
  return null
}

/**
 * Maps every error to the contract's shape once, for all routes. Client errors keep their message; anything
 * else is logged in full and answered with a generic 500 that leaks nothing.
 */
async function errorsPlugin (app: FastifyInstance): Promise<void> {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const body = toBody(error)
    if (body !== null) {
      // Every 429 says when to come back, whichever route answered it.
      const retryAfter = retryAfterOf(error)
      if (retryAfter !== undefined) void reply.header('Retry-After', String(retryAfter))
      request.log.info({ code: body.code, statusCode: body.statusCode }, body.message)
      return reply.status(body.statusCode).send(body)
    }
    request.log.error({ err: error }, 'unhandled error')
    return reply.status(500).send(errorBody(500, 'INTERNAL_ERROR', 'Something went wrong on our side'))
  })

  app.setNotFoundHandler((request, reply) => {
    return reply.status(404).send(errorBody(404, 'NOT_FOUND', `Route ${request.method} ${request.url.split('?')[0]} not found`))
  })
}

export default fp(errorsPlugin, { name: 'errors', fastify: '5.x' })
