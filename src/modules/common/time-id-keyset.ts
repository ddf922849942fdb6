/**
 * Keyset paging on (a time field, _id), a total order: the cursor is the last item's position, and the next page is
 * what comes strictly after it in the walk's direction. Used by the admin history and the audit log.
 */
import type { Types } from 'mongoose'
import { cursorObjectId, cursorTime, decodeCursor, encodeCursor } from './opaque-cursor.js'

export interface TimeIdPosition { at: Date, id: Types.ObjectId }

export function encodeTimeId (at: Date, id: Types.ObjectId): string {
  return encodeCursor({ t: at.getTime(), id: String(id) })
}

/** The position a cursor of encodeTimeId holds (400 INVALID_CURSOR for anything else). */
export function decodeTimeId (cursor: string): TimeIdPosition {
  return decodeCursor(cursor, position => {
    const at = cursorTime(position.t)
    const id = cursorObjectId(position.id)
    return at !== null && id !== null ? { at, id } : null
  })
}

/**
 * The conditions for "after `position`" walking `field` ascending or descending (then _id the same way): a range
 * that narrows the index walk, and the $or, checked on what it yields, that breaks ties on the time by _id.
 */
export function afterTimeId (field: string, position: TimeIdPosition, order: 'asc' | 'desc'): object[] {
  const [reach, past] = order === 'asc' ? ['$gte', '$gt'] : ['$lte', '$lt']
  return [{ [field]: { [reach]: position.at } }, { $or: [{ [field]: { [past]: position.at } }, { _id: { [past]: position.id } }] }]
}
