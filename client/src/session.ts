/**
 * The session: the token pair, refreshed over REST (`POST /api/auth/refresh`) before the access token expires.
 * Listeners (the connection) hear of every new access token, to send `auth_refresh` on the live socket. A 401
 * from refresh ends the session for good (`ended`): nothing retries after that.
 */
import { Emitter } from './emitter.js'
import type { SessionEnd, Tokens } from './types.js'

/** What the SDK reads of a fetch answer: `headers` (Retry-After) for uploads, `blob` for downloads. */
export interface FetchResponseLike {
  status: number
  json: () => Promise<any>
  headers?: { get: (name: string) => string | null }
  blob?: () => Promise<Blob>
}

export type FetchLike = (input: string, init?: { method?: string, headers?: Record<string, string>, body?: string | FormData }) => Promise<FetchResponseLike>

export interface SessionOptions {
  /** The server's base URL, e.g. `https://chat.example.com`. */
  url: string
  /** Default `globalThis.fetch`. */
  fetch?: FetchLike
  /**
   * How long before the access token's expiry to refresh it, in ms. Default: a third of its lifetime, at most
   * 60 s (a 15-minute token is renewed a minute early, a 3-second one after 2 s).
   */
  refreshLeadMs?: number
}

interface SessionEvents {
  token: [accessToken: string]
  ended: [end: SessionEnd]
}

/** The REST error of a failed call: its HTTP status and the server's code. */
export class ApiError extends Error {
  /** @param retryAfterMs the answer's `Retry-After` in ms (429s carry one), else null */
  constructor (readonly status: number, readonly code: string, message: string, readonly retryAfterMs: number | null = null) {
    super(message)
  }
}

/** A `Retry-After` header (seconds, or an HTTP date) in ms from now; null when absent or unreadable. */
export function retryAfterHeaderMs (value: string | null | undefined, now = Date.now()): number | null {
  if (value === null || value === undefined || value.trim() === '') return null
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(value)
  return Number.isNaN(at) ? null : Math.max(0, at - now)
}

/** When a JWT expires (ms since the epoch), read from its payload; null when it carries no `exp`. */
export function expiryOf (token: string): number | null {
  const part = token.split('.')[1]
  if (part === undefined) return null
  try {
    const json = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown }
    return typeof json.exp === 'number' ? json.exp * 1000 : null
  } catch {
    return null
  }
}

export class Session extends Emitter<SessionEvents> {
  private tokens: Tokens | null = null
  private timer: ReturnType<typeof setTimeout> | null = null
  private refreshing: Promise<boolean> | null = null
  private readonly fetch: FetchLike
  /** The signed-in user's id (from login, or `GET /api/users/me` after useTokens). */
  userId: string | null = null
  endedWith: SessionEnd | null = null

  constructor (private readonly options: SessionOptions) {
    super()
    // Bound: a browser refuses a fetch called as a method of another object ("Illegal invocation").
    this.fetch = options.fetch ?? (globalThis.fetch.bind(globalThis) as unknown as FetchLike)
  }

  get accessToken (): string | null { return this.tokens?.accessToken ?? null }
  get refreshToken (): string | null { return this.tokens?.refreshToken ?? null }

  async login (credentials: { login: string, password: string }): Promise<void> {
    const body = await this.call('POST', '/api/auth/login', credentials, false)
    this.userId = body.user.id
    this.take({ accessToken: body.accessToken, refreshToken: body.refreshToken })
  }

  async useTokens (tokens: Tokens): Promise<void> {
    this.take(tokens)
    const me = await this.request('GET', '/api/users/me')
    this.userId = me.id
  }

  /**
   * Renews the pair now; true when it worked. A 401 ends the session; other failures (network, 5xx, 429) leave
   * it as it was and retry on the timer. Concurrent callers share one request (a refresh token works once).
   */
  async refresh (): Promise<boolean> {
    if (this.refreshing !== null) return await this.refreshing
    this.refreshing = this.doRefresh().finally(() => { this.refreshing = null })
    return await this.refreshing
  }

  /** A REST call with the access token; JSON in and out; throws ApiError unless 2xx. */
  async request (method: string, path: string, body?: unknown): Promise<any> {
    return await this.withFreshToken(async () => await this.call(method, path, body, true))
  }

  /**
   * A multipart POST (`form` as it is: fetch sets the boundary) with the access token, refreshed once on
   * TOKEN_EXPIRED like `request`; the JSON answer. Throws ApiError unless 2xx (with `retryAfterMs` from the answer).
   */
  async upload (path: string, form: FormData): Promise<any> {
    const res = await this.withFreshToken(async () => await this.raw('POST', path, form))
    return await res.json()
  }

  /**
   * GET with the access token (refreshed once on TOKEN_EXPIRED), the body as a Blob: for files, which an `<img>` or
   * a link cannot fetch with the header. `path` is a path (`/api/attachments/:id`) or a URL on this server; the
   * token is never sent anywhere else.
   */
  async download (path: string): Promise<Blob> {
    const res = await this.withFreshToken(async () => await this.raw('GET', this.pathOf(path)))
    if (res.blob === undefined) throw new Error('The fetch given to the client has no blob()')
    return await res.blob()
  }

  /** Ends the session here (the app logged out, or the server said so); stops the refresh timer. */
  end (end: SessionEnd): void {
    if (this.endedWith !== null) return
    this.endedWith = end
    this.stop()
    this.emit('ended', end)
  }

  stop (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private async doRefresh (): Promise<boolean> {
    if (this.tokens === null || this.endedWith !== null) return false
    try {
      const body = await this.call('POST', '/api/auth/refresh', { refreshToken: this.tokens.refreshToken }, false)
      this.take({ accessToken: body.accessToken, refreshToken: body.refreshToken })
      return true
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        this.end({ reason: error.code, message: error.message })
      } else {
        this.schedule(5000)
      }
      return false
    }
  }

  private take (tokens: Tokens): void {
    this.tokens = tokens
    this.emit('token', tokens.accessToken)
    const expiry = expiryOf(tokens.accessToken)
    if (expiry === null) return
    const lifetime = expiry - Date.now()
    const lead = this.options.refreshLeadMs ?? Math.min(60_000, Math.max(lifetime, 0) / 3)
    this.schedule(lifetime - lead)
  }

  private schedule (ms: number): void {
    this.stop()
    if (this.endedWith !== null) return
    // setTimeout overflows past 2^31 - 1 ms (24.8 days); waking early only reschedules the refresh.
    this.timer = setTimeout(() => { void this.refresh() }, Math.min(Math.max(ms, 0), 2_000_000_000))
  }

  /** Runs `call`; on TOKEN_EXPIRED (the app slept, or tokens were handed over late) refreshes once and runs it again. */
  private async withFreshToken<T> (call: () => Promise<T>): Promise<T> {
    try {
      return await call()
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'TOKEN_EXPIRED' || !await this.refresh()) throw error
      return await call()
    }
  }

  /** `url` as a path on this server: a path as it is, an absolute URL only under the server's base URL. */
  private pathOf (url: string): string {
    if (url.startsWith('/') && !url.startsWith('//')) return url
    const base = this.options.url.replace(/\/+$/, '')
    if (url.startsWith(`${base}/`)) return url.slice(base.length)
    throw new Error(`Not a URL of this server (${base}): the access token is not sent elsewhere`)
  }

  /** An authorized call whose 2xx answer is returned as it is (not read); any other status throws ApiError. */
  private async raw (method: string, path: string, body?: FormData): Promise<FetchResponseLike> {
    const headers: Record<string, string> = {}
    if (this.tokens !== null) headers.authorization = `Bearer ${this.tokens.accessToken}`
    const res = await this.fetch(`${this.options.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) })
    if (res.status >= 200 && res.status < 300) return res
    const json = await res.json().catch(() => null)
    throw new ApiError(res.status, json?.code ?? 'HTTP_ERROR', json?.message ?? `HTTP ${res.status}`,
      retryAfterHeaderMs(res.headers?.get('retry-after')))
  }

  private async call (method: string, path: string, body: unknown, authorized: boolean): Promise<any> {
    const headers: Record<string, string> = {}
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (authorized && this.tokens !== null) headers.authorization = `Bearer ${this.tokens.accessToken}`
    const res = await this.fetch(`${this.options.url}${path}`, {
      method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {})
    })
    const json = res.status === 204 ? null : await res.json().catch(() => null)
    if (res.status >= 200 && res.status < 300) return json
    throw new ApiError(res.status, json?.code ?? 'HTTP_ERROR', json?.message ?? `HTTP ${res.status}`,
      retryAfterHeaderMs(res.headers?.get('retry-after')))
  }
}
