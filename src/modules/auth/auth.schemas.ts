import { Type } from 'typebox'
import { Email, OwnUser, Password, PersonName, Username } from '../users/users.schemas.js'

export const RegisterBody = Type.Object({
  username: Username,
  email: Email,
  password: Password,
  firstName: Type.Optional(PersonName),
  lastName: Type.Optional(PersonName)
}, { additionalProperties: false })

const loginString = (description: string) => Type.String({ minLength: 1, maxLength: 254, description })

export const LoginBody = Type.Object({
  login: Type.Optional(loginString('username or email')),
  username: Type.Optional(loginString('accepted instead of login')),
  email: Type.Optional(loginString('accepted instead of login')),
  password: Type.String({ minLength: 1, maxLength: 1024 })
}, { additionalProperties: false })

const opaqueToken = (description = 'opaque token') => Type.String({ minLength: 1, maxLength: 4096, description })

export const RefreshBody = Type.Object({ refreshToken: opaqueToken() }, { additionalProperties: false })
export const VerifyBody = Type.Object({ token: opaqueToken('an access token') }, { additionalProperties: false })
export const LogoutBody = Type.Object({
  refreshToken: Type.Optional(opaqueToken('also revoke the session of this refresh token (same user)'))
}, { additionalProperties: false })

export const RegisterResponse = Type.Object({ user: OwnUser })

export const TokenPairResponse = Type.Object({
  accessToken: Type.String({ description: 'JWT (HS256) with sub, sid, jti, role' }),
  refreshToken: Type.String({ description: 'opaque; single use: each refresh returns a new one' }),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'seconds until the access token expires' }),
  user: OwnUser
})

export const VerifyResponse = Type.Object({
  valid: Type.Literal(true),
  userId: Type.String(),
  expiresAt: Type.String({ format: 'date-time' })
})
