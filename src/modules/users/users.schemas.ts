import { Type, type Static } from 'typebox'

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

export const ObjectIdString = Type.String({ pattern: '^[0-9a-fA-F]{24}$', description: '24-hex ObjectId' })
export const Username = Type.String({ minLength: 3, maxLength: 32, pattern: '^[A-Za-z0-9_.-]+$', description: '3-32 of A-Z a-z 0-9 _ . -; unique regardless of case' })
export const Email = Type.String({ format: 'email', maxLength: 254, description: 'unique regardless of case' })
export const Password = Type.String({ minLength: 8, maxLength: 1024 })
export const PersonName = Type.String({ maxLength: 64 })
const IsoDate = Type.String({ format: 'date-time' })

export const PublicUser = Type.Object({
  id: Type.String(),
  username: Type.String(),
  firstName: Type.String(),
  lastName: Type.String(),
  online: Type.Boolean(),
  lastSeenAt: Type.Union([IsoDate, Type.Null()]),
  /** A deleted account: its messages stay, shown as from a deleted user. */
  deleted: Type.Boolean()
})
export type PublicUser = Static<typeof PublicUser>

export const OwnUser = Type.Object({
  ...PublicUser.properties,
  email: Type.String(),
  role: Type.Union([Type.Literal('user'), Type.Literal('admin')]),
  createdAt: IsoDate
})
export type OwnUser = Static<typeof OwnUser>

export const UserList = Type.Object({
  items: Type.Array(PublicUser),
  nextCursor: Type.Union([Type.String(), Type.Null()])
})

export const UserIdParams = Type.Object({ id: ObjectIdString })

export const SearchQuery = Type.Object({
  search: Type.Optional(Type.String({ maxLength: 64, description: 'prefix of a username, first or last name (case-insensitive)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 }))
}, { additionalProperties: false })

export const UpdateMeBody = Type.Object({
  firstName: Type.Optional(PersonName),
  lastName: Type.Optional(PersonName),
  email: Type.Optional(Email),
  username: Type.Optional(Username)
}, { additionalProperties: false, minProperties: 1 })
export type UpdateMeBody = Static<typeof UpdateMeBody>

export const ChangePasswordBody = Type.Object({
  currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
  newPassword: Password
}, { additionalProperties: false })

export const DeleteMeBody = Type.Object({
  password: Type.String({ minLength: 1, maxLength: 1024 })
}, { additionalProperties: false })
