/**
 * The worst inputs the bad-input sweeps send (bad-input-sweep.test.ts for the user routes and socket events,
 * bad-input-admin.test.ts for the admin routes), and the REST sweep itself: every route of the app's own OpenAPI
 * description that `include` picks, with each bad id, query, body and field value.
 */
import type { FastifyInstance } from 'fastify'
import { Types } from 'mongoose'

export const deep = (): Record<string, unknown> => {
  const root: Record<string, unknown> = {}
  let cursor = root
  for (let i = 0; i < 500; i++) cursor = (cursor.a = {}) as Record<string, unknown>
  return root
}
export const unknownId = new Types.ObjectId().toHexString()
export const BAD_IDS = ['x', unknownId, unknownId.toUpperCase(), '{"$gt":""}', '%24gt', '%00', 'a%00b', '.*', '(a+)+$', 'z'.repeat(300)]
export const BAD_QUERIES = [
  'limit=abc', 'limit=-1', 'limit=1e309', 'cursor=%00', 'cursor=eyJ0IjoxZTIwfQ', 'search=%00', 'search=.*(a%2B)%2B%24',
  'search[$ne]=x', 'beforeSeq=-5', 'afterSeq=1e309', 'beforeSeq=1&afterSeq=2', 'seq=x',
  // The admin history's filters.
  'from=yesterday', 'to=%00', 'from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', 'q=%00', 'q=.*(a%2B)%2B%24', 'q=' + 'x'.repeat(5000),
  'senderId[$gt]=', 'participantId=.*', 'conversationId=%24gt', 'hasAttachment=maybe', 'includeDeleted=2', 'order=sideways',
  'action=%24where', 'actorId={}', 'role=root', 'disabled=yes'
]
export const BAD_VALUES: unknown[] = [null, true, 0, -1, 1e308, 'x', '\u0000', '.*', '$where', { $gt: '' }, { $where: '1' }, [], [{ $ne: null }], deep(), 'y'.repeat(70_000)]
export const BAD_BODIES: unknown[] = [null, [], 'text', 42, {}, deep(), { '': 1 }, { __proto__: { admin: true } }, { constructor: { prototype: { x: 1 } } }]


/** Body fields the user routes read. */
export const USER_FIELDS = ['userId', 'body', 'login', 'password', 'username', 'email', 'refreshToken', 'token', 'seq', 'type', 'attachmentIds',
  'clientMsgId', 'replyToId', 'firstName', 'currentPassword', 'newPassword', 'subject', 'conversationId', 'receiverId']

export interface SweepOptions {
  /** Which OpenAPI paths to sweep. */
  include: (path: string, method: string) => boolean
  /** The bearer token the requests carry. */
  token: string
  /** An id that exists (a conversation), tried beside the bad ones in `{id}` paths. */
  knownId: string
  /** Body fields to send each bad value in. */
  fields: string[]
}

/** Sends every bad request; resolves with the ones answered 5xx (none expected) and the count sent. */
export async function sweepRoutes (app: FastifyInstance, options: SweepOptions): Promise<{ failures: string[], requests: number }> {
  const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> }
  let requests = 0
  const failures: string[] = []
  const send = async (method: string, url: string, payload?: unknown, contentType = 'application/json'): Promise<void> => {
    requests++
    const res = await app.inject({
      method: method.toUpperCase() as 'GET',
      url,
      headers: { authorization: `Bearer ${options.token}`, 'content-type': contentType },
      ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) })
    })
    if (res.statusCode >= 500) failures.push(`${method} ${url} ${JSON.stringify(payload)?.slice(0, 80)} -> ${res.statusCode} ${res.body.slice(0, 120)}`)
  }
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const method of Object.keys(operations)) {
      if (!options.include(path, method)) continue
      const urls = path.includes('{id}') ? [...BAD_IDS, options.knownId].map(id => path.replace('{id}', id)) : [path]
      for (const url of urls) {
        await send(method, url)
        for (const query of BAD_QUERIES) await send(method, `${url}?${query}`)
        if (method === 'get') continue
        for (const body of BAD_BODIES) await send(method, url, body)
        for (const field of options.fields) for (const value of BAD_VALUES) await send(method, url, { [field]: value })
        await send(method, url, '{"body": "unterminated')
        await send(method, url, '--x\r\nContent-Disposition: form-data; name="file"; filename="a%00.txt"\r\n\r\nhi\r\n--x--\r\n', 'multipart/form-data; boundary=x')
      }
    }
  }
  return { failures, requests }
}
