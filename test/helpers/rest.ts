/**
 * REST calls for tests, to an app (`app.inject`) or to a listening process (`fetch` to its url), so in-process and
 * real-process tests share one way of calling the API.
 */
import type { FastifyInstance } from 'fastify'

/** An app (requests go through `app.inject`) or a listening server such as a test process (through `fetch`). */
export type Target = FastifyInstance | { url: string }

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** What both transports answer with (an `app.inject` reply has more). */
export interface Reply {
  statusCode: number
  headers: Record<string, number | string | string[] | undefined>
  body: string
  json: <T = any>() => T
}

export interface RequestOptions {
  method: Method
  url: string
  headers?: Record<string, string>
  /** Sent as JSON. */
  payload?: unknown
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

function isApp (target: Target): target is FastifyInstance {
  return typeof (target as FastifyInstance).inject === 'function'
}

export async function request (target: Target, options: RequestOptions): Promise<Reply> {
  const { method, url, headers = {}, payload } = options
  if (isApp(target)) {
    return await target.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) })
  }
  const res = await fetch(`${target.url}${url}`, {
    method,
    headers: payload !== undefined ? { ...headers, 'content-type': 'application/json' } : headers,
    body: payload !== undefined ? JSON.stringify(payload) : undefined
  })
  const body = await res.text()
  return { statusCode: res.status, headers: Object.fromEntries(res.headers), body, json: () => JSON.parse(body) }
}

/** REST calls as `who` (a user or an access token): `api(app, alice)('POST', url, payload)`. */
export function api (target: FastifyInstance, who: { accessToken: string } | string): (method: Method, url: string, payload?: unknown) => ReturnType<FastifyInstance['inject']>
export function api (target: Target, who: { accessToken: string } | string): (method: Method, url: string, payload?: unknown) => Promise<Reply>
export function api (target: Target, who: { accessToken: string } | string) {
  const token = typeof who === 'string' ? who : who.accessToken
  return async (method: Method, url: string, payload?: unknown) => await request(target, { method, url, headers: bearer(token), payload })
}
