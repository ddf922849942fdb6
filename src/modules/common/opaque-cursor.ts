/**
 * List cursors (`?cursor=`): the position after the last item, as base64url JSON. Opaque to clients; anything
 * that does not decode to what the list expects is a 400 INVALID_CURSOR, never a query with odd values: each
 * field is read with one of the readers below, which range-check what they return.
 */
import type { Types } from 'mongoose'
import { badRequest } from '../../shared/errors.js'
import { objectId } from '../../shared/ids.js'

/** The largest time a JavaScript Date (and so a BSON date made from one) can hold, in ms either side of 1970. */
const MAX_TIME_MS = 8.64e15

/** A time (epoch ms) within what a Date can hold, or null. */
export function cursorTime (value: unknown): Date | null {
  return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= MAX_TIME_MS ? new Date(value) : null
}

/** A string of at most `maxLength` characters without NUL (which MongoDB refuses in some places), or null. */
export function cursorString (value: unknown, maxLength: number): string | null {
  return typeof value === 'string' && value.length <= maxLength && !value.includes('\0') ? value : null
}

/** A 24-hex ObjectId, or null. */
export function cursorObjectId (value: unknown): Types.ObjectId | null {
  return typeof value === 'string' ? objectId(value) : null
}

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
