/** Reading access tokens, and crafting JWTs by hand (forged, expired, alg:none) with node:crypto. */
import { createHmac } from 'node:crypto'
import { TEST_SECRET } from './build-app.js'

export interface Claims {
  sub: string
  sid: string
  iat: number
  exp: number
  [claim: string]: any
}

/** The payload of a JWT (not verified). */
export function claimsOf (token: string): Claims {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())
}

/** The session id inside an access token. */
export const sidOf = (token: string): string => claimsOf(token).sid

/** When an access token expires, in ms since the epoch. */
export const expMsOf = (token: string): number => claimsOf(token).exp * 1000

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** An HS256 JWT signed with `secret` (default TEST_SECRET), or any header, e.g. alg none with an empty signature. */
export function craftJwt (payload: Record<string, unknown>, options: { secret?: string, header?: Record<string, unknown>, signature?: string } = {}): string {
  const header = options.header ?? { alg: 'HS256', typ: 'JWT' }
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const unsigned = `${encode(header)}.${encode(payload)}`
  const signature = options.signature ?? createHmac('sha256', options.secret ?? TEST_SECRET).update(unsigned).digest('base64url')
  return `${unsigned}.${signature}`
}
