/**
 * Schemas several domains use: ids, dates, the REST error body. Ids are declared as TypeBox codecs that decode to
 * lower case, so an id in any letter case names the same thing everywhere (validation.ts applies the decoding at
 * the edge, REST and socket alike, before a service sees the value).
 */
import { Type, type TSchema } from 'typebox'

const lowerCase = (value: string): string => value.toLowerCase()

/**
 * A resource id in a path or body (conversation, message, attachment): a bounded string. Anything that is not a
 * 24-hex ObjectId names nothing, so the service answers 404 exactly as for an id the caller may not see; objects
 * such as `{"$gt": ""}` are not strings, so validation refuses them before they reach a query.
 */
export const IdString = Type.Codec(Type.String({ minLength: 1, maxLength: 64 })).Decode(lowerCase).Encode(value => value)

/** A strict 24-hex ObjectId (user ids in paths: malformed is a 400), any letter case, decoded to lower case. */
export const ObjectIdString = Type.Codec(Type.String({ pattern: '^[0-9a-fA-F]{24}$', description: '24-hex ObjectId' }))
  .Decode(lowerCase).Encode(value => value)

export const IsoDate = Type.String({ format: 'date-time' })

/** Free text used in a query (a search prefix): bounded, and without NUL, which MongoDB refuses in a regex. */
export const SearchText = (maxLength: number, description: string) =>
  Type.String({ maxLength, pattern: '^[^\\u0000]*$', description })

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

/** The contract's REST error body, for the OpenAPI description of error answers. */
export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Unknown())
}, { description: 'Error' })

/** `{ 400: ErrorResponse, 401: ErrorResponse, ... }` for a route's `response` schema. */
export function errorResponses (...statuses: number[]): Record<number, typeof ErrorResponse> {
  return Object.fromEntries(statuses.map(status => [status, ErrorResponse]))
}

/** `?limit=&cursor=` of every list (default 50, max 200; the cursor is opaque). */
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 }))
}
