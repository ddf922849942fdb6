import { Type, type Static } from 'typebox'
import { IsoDate, ObjectIdString, PageQuery, SearchText } from '../../shared/schemas.js'

export { errorResponses } from '../../shared/schemas.js'

export const Username = Type.String({ minLength: 3, maxLength: 32, pattern: '^[A-Za-z0-9_.-]+$', description: '3-32 of A-Z a-z 0-9 _ . -; unique regardless of case' })
export const Email = Type.String({ format: 'email', maxLength: 254, description: 'unique regardless of case' })
export const Password = Type.String({ minLength: 8, maxLength: 1024 })
export const PersonName = Type.String({ maxLength: 64 })

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
  search: Type.Optional(SearchText(64, 'prefix of a username, first or last name (case-insensitive)')),
  ...PageQuery
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
