/**
 * The signed-in session's tokens, kept in sessionStorage so a reload stays signed in. Per tab on purpose: two tabs
 * sharing one refresh token would both refresh it, and the server treats a refresh token used twice as stolen
 * (REFRESH_TOKEN_REUSED revokes the session).
 */
import type { Tokens } from '../../client/src/index.js'

const KEY = 'parley.tokens'

export function loadTokens (): Tokens | null {
  try {
    const value = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Partial<Tokens> | null
    return typeof value?.accessToken === 'string' && typeof value.refreshToken === 'string'
      ? { accessToken: value.accessToken, refreshToken: value.refreshToken }
      : null
  } catch {
    return null
  }
}

export function saveTokens (tokens: Tokens): void { sessionStorage.setItem(KEY, JSON.stringify(tokens)) }
export function clearTokens (): void { sessionStorage.removeItem(KEY) }
