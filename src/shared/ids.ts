import { Types } from 'mongoose'

const OBJECT_ID = /^[0-9a-fA-F]{24}$/

/** A 24-hex ObjectId (any letter case), or null for anything else, which then names nothing: 404. */
export function objectId (id: string): Types.ObjectId | null {
  return OBJECT_ID.test(id) ? new Types.ObjectId(id) : null
}
