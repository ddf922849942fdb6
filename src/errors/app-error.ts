/**
 * Parley's one error vocabulary. Services throw AppErrors; the REST error handler and the socket ack helper
 * each map them once to their wire shape. Anything that is not an AppError reaches clients as a generic 500.
 */
export class AppError extends Error {
  constructor (
    /** HTTP status the REST facade answers with (sockets carry only `code` and `message`). */
    readonly statusCode: number,
    /** Stable machine-readable code, e.g. `USERNAME_TAKEN`. */
    readonly code: string,
    message: string,
    /** Extra, client-safe information (validation issues, retry hints). */
    readonly details?: unknown
  ) {
    super(message)
    this.name = 'AppError'
  }
}

export const badRequest = (code: string, message: string, details?: unknown): AppError => new AppError(400, code, message, details)
export const unauthorized = (message = 'Authentication required', code = 'UNAUTHORIZED'): AppError => new AppError(401, code, message)
export const forbidden = (message = 'Not allowed', code = 'FORBIDDEN'): AppError => new AppError(403, code, message)
export const notFound = (message = 'Not found', code = 'NOT_FOUND'): AppError => new AppError(404, code, message)
export const conflict = (code: string, message: string): AppError => new AppError(409, code, message)
