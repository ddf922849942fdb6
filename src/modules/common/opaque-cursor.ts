/**
 * List cursors (`?cursor=`): the position after the last item, as base64url JSON. Opaque to clients; anything
 * that does not decode to what the list expects is a 400 INVALID_CURSOR, never a query with odd values.
 */
import { badRequest } from '../../shared/errors.js'

export function encodeCursor (position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url')
}

/** `read` returns the typed position, or null when the decoded object is not one this list made. */
export function decodeCursor<T> (cursor: string, read: (position: Record<string, unknown>) => T | null): T {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const position = read(parsed as Record<string, unknown>)
      if (position !== null) return position
    }
  } catch {}
  throw badRequest('INVALID_CURSOR', 'The cursor is not one this API returned')
}
