/**
 * Parley's one error vocabulary. Every code a client can see, REST or socket, is listed here with the HTTP status
 * the REST facade answers it with; services throw AppErrors made by `appError(code, message)`, and the REST error
 * handler (plugins/errors.plugin.ts) and the socket ack runner (realtime/ack.ts) each map them once to their wire
 * shape. Anything that is not an AppError reaches clients as a generic INTERNAL_ERROR.
 */
export const ERROR_STATUS = {
  // 400: the request is malformed
  VALIDATION_ERROR: 400,
  INVALID_BODY: 400,
  INVALID_CURSOR: 400,
  INVALID_MULTIPART: 400,
  BAD_REQUEST: 400,
  EMPTY_MESSAGE: 400,
  EMPTY_FILE: 400,
  FILE_REQUIRED: 400,
  UNEXPECTED_FILE: 400,
  TOO_MANY_FILES: 400,
  SELF_CONVERSATION: 400,
  REPLY_NOT_FOUND: 400,
  NOT_SUPPORTED: 400,
  /** Socket only: an event name the server does not have. */
  UNKNOWN_EVENT: 400,
  // 401: no, bad, expired or revoked credentials
  UNAUTHORIZED: 401,
  INVALID_AUTHORIZATION: 401,
  INVALID_TOKEN: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_REVOKED: 401,
  INVALID_REFRESH_TOKEN: 401,
  REFRESH_TOKEN_REUSED: 401,
  SESSION_ENDED: 401,
  INVALID_CREDENTIALS: 401,
  /** The token is fine but the account is disabled or deleted (REST guard and socket handshake). */
  ACCOUNT_UNAVAILABLE: 401,
  // 403: authenticated, not allowed
  FORBIDDEN: 403,
  ACCOUNT_DISABLED: 403,
  USER_MISMATCH: 403,
  WRONG_PASSWORD: 403,
  NOT_SENDER: 403,
  /** An admin route, and the caller is not (or no longer) an admin. */
  ADMIN_ONLY: 403,
  // 404: missing, or not the caller's to see
  NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  CONVERSATION_NOT_FOUND: 404,
  MESSAGE_NOT_FOUND: 404,
  ATTACHMENT_NOT_FOUND: 404,
  // 409: conflicts with what is stored
  USERNAME_TAKEN: 409,
  EMAIL_TAKEN: 409,
  /** A username the system shows or that would impersonate it (deleted-user, admin, system, ...). */
  USERNAME_RESERVED: 409,
  ADMIN_CONFLICT: 409,
  /** An admin would demote or disable themself while no other enabled admin is left. */
  LAST_ADMIN: 409,
  MESSAGE_DELETED: 409,
  /** The group is at GROUP_MAX_MEMBERS. */
  GROUP_FULL: 409,
  // 413, 415, 416, 429
  PAYLOAD_TOO_LARGE: 413,
  /** The upload would take the user's stored attachments over UPLOAD_QUOTA_BYTES. */
  QUOTA_EXCEEDED: 413,
  TOO_MANY_PARTS: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  /** Always with `details.retryAfterSeconds`, which the REST facade sends as `Retry-After`. */
  RATE_LIMITED: 429,
  // 5xx: ours, retry later
  INTERNAL_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  /** A conversation's seq could not be claimed after repeated races: retry. */
  BUSY: 503,
  /** Socket handshake only: the instance is draining (SIGTERM); connect again (to another instance). */
  SHUTTING_DOWN: 503
} as const satisfies Record<string, number>

export type ErrorCode = keyof typeof ERROR_STATUS

export class AppError extends Error {
  /** HTTP status the REST facade answers with (sockets carry only `code` and `message`). */
  readonly statusCode: number

  constructor (
    /** Stable machine-readable code from ERROR_STATUS. */
    readonly code: ErrorCode,
    message: string,
    /** Extra, client-safe information (validation issues, retry hints). */
    readonly details?: unknown
  ) {
    super(message)
    this.name = 'AppError'
    this.statusCode = ERROR_STATUS[code]
  }
}

export function isErrorCode (code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_STATUS, code)
}

export const appError = (code: ErrorCode, message: string, details?: unknown): AppError => new AppError(code, message, details)

type CodeOf<S extends number> = { [C in ErrorCode]: (typeof ERROR_STATUS)[C] extends S ? C : never }[ErrorCode]

export const badRequest = (code: CodeOf<400>, message: string, details?: unknown): AppError => new AppError(code, message, details)
export const unauthorized = (message = 'Authentication required', code: CodeOf<401> = 'UNAUTHORIZED'): AppError => new AppError(code, message)
export const forbidden = (message = 'Not allowed', code: CodeOf<403> = 'FORBIDDEN'): AppError => new AppError(code, message)
export const notFound = (message = 'Not found', code: CodeOf<404> = 'NOT_FOUND'): AppError => new AppError(code, message)
export const conflict = (code: CodeOf<409>, message: string): AppError => new AppError(code, message)

/** 429 with the whole seconds to wait (at least 1), which the REST facade sends as `Retry-After`. */
export function rateLimited (msBeforeNext: number, what = 'attempts'): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000))
  return new AppError('RATE_LIMITED', `Too many ${what}, retry in ${retryAfterSeconds} s`, { retryAfterSeconds })
}

/** The seconds a RATE_LIMITED error asks the client to wait, if it is one. */
export function retryAfterOf (error: unknown): number | undefined {
  if (!(error instanceof AppError) || error.code !== 'RATE_LIMITED') return undefined
  return (error.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds
}
