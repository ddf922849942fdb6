/**
 * Every pattern applied to client input runs in linear time: adversarial inputs (long runs of spaces, dots, tabs,
 * digits) through the real functions and through real requests finish far below what a backtracking pattern costs.
 * A quadratic scan of 100 KB takes seconds here; a linear one a few milliseconds, so the bounds leave 10x+ either way.
 */
import t from 'tap'
import { contentDisposition, sanitizeFileName } from '../../src/modules/attachments/file-name.js'
import { parseRange } from '../../src/modules/attachments/http-range.js'
import { tokenFromHeader } from '../../src/plugins/auth.plugin.js'
import { normalizeToken } from '../../src/realtime/socket-auth.js'
import { directChat } from '../helpers/conversations.js'
import { api, bearer } from '../helpers/rest.js'
import { download, pngFixture, upload, uploaded } from '../modules/attachments/attachment-helpers.js'

const KB100 = 100 * 1024
/** Linear work on 100 KB is a few ms; the quadratic patterns these replace took 2-10 s. */
const FUNCTION_BOUND_MS = 200
/** A whole request (auth, multipart, GridFS) around the adversarial part. */
const REQUEST_BOUND_MS = 1000

function elapsed<T> (fn: () => T): { ms: number, value: T | Error } {
  const start = performance.now()
  let value: T | Error
  try {
    value = fn()
  } catch (error) {
    value = error as Error
  }
  return { ms: performance.now() - start, value }
}

async function elapsedAsync<T> (fn: () => Promise<T>): Promise<{ ms: number, value: T }> {
  const start = performance.now()
  const value = await fn()
  return { ms: performance.now() - start, value }
}

const run = (unit: string, length = KB100): string => unit.repeat(Math.ceil(length / unit.length)).slice(0, length)

/** Runs that make `[\s.]+$`-style or `\s*(\d*)\s*`-style patterns backtrack: a long run, then a character that breaks the match. */
const ADVERSARIAL_NAMES: Record<string, string> = {
  spaces: `a${run(' ')}x`,
  dots: `a${run('.')}x`,
  tabs: `a${run('\t')}x`,
  'dots and spaces': `a${run('. ')}x`,
  'mixed whitespace': `a${run(' \t.\u00a0\u3000')}x`,
  'trailing spaces and dots': `a${run(' .')}`,
  'leading spaces and dots': `${run(' .')}a`,
  slashes: `a${run('/ ')}x`,
  'reserved characters': `a${run('<> :')}x`,
  'long extension': `${run('a', 50_000)}.${run(' ', 50_000)}x`
}

t.test('sanitizeFileName and contentDisposition are linear on adversarial names', async t => {
  for (const [label, raw] of Object.entries(ADVERSARIAL_NAMES)) {
    const { ms, value } = elapsed(() => sanitizeFileName(raw))
    t.ok(ms < FUNCTION_BOUND_MS, `${label}: ${ms.toFixed(1)} ms`)
    t.type(value, 'string', label)
    t.ok((value as string).length <= 200 && (value as string).length > 0, `${label}: a bounded, non-empty name`)
    const header = elapsed(() => contentDisposition(raw))
    t.ok(header.ms < FUNCTION_BOUND_MS, `${label} contentDisposition: ${header.ms.toFixed(1)} ms`)
  }
})

t.test('parseRange is linear on adversarial Range headers', async t => {
  const headers: Record<string, string> = {
    'spaces after =': `bytes=${run(' ')}x`,
    'spaces after -': `bytes=1-${run(' ')}x`,
    'spaces before -': `bytes=1${run(' ')}x`,
    'spaces around =': `bytes${run(' ')}=${run(' ')}x`,
    digits: `bytes=${run('1')}x`,
    'digits and commas': `bytes=${run('1,')}`,
    'digits then dash run': `bytes=${run('1-')}`,
    tabs: `bytes=0-${run('\t')}1x`
  }
  for (const [label, header] of Object.entries(headers)) {
    const { ms, value } = elapsed(() => parseRange(header, 1000))
    t.ok(ms < FUNCTION_BOUND_MS, `${label}: ${ms.toFixed(1)} ms`)
    t.equal(value, null, `${label}: malformed, so the whole file`)
  }
})

t.test('the Authorization header and the socket token prefix are linear', async t => {
  const headers = [`Bearer${run(' ')}x y`, `Bearer ${run('a', 50_000)}${run(' \t', 50_000)}b`, `jwt${run('\t ')}`, run(' ')]
  for (const header of headers) {
    const rest = elapsed(() => tokenFromHeader(header))
    t.ok(rest.ms < FUNCTION_BOUND_MS, `tokenFromHeader: ${rest.ms.toFixed(1)} ms`)
    const socket = elapsed(() => normalizeToken(header))
    t.ok(socket.ms < FUNCTION_BOUND_MS, `normalizeToken: ${socket.ms.toFixed(1)} ms`)
  }
})

t.test('real requests with adversarial input answer quickly', async t => {
  const { app, alice } = await directChat(t)
  // busboy reads part headers up to 80 KB: a 60 KB file name reaches the name cleaner.
  for (const unit of [' ', '. ', ' \t.']) {
    const filename = `a${run(unit, 60 * 1024)}x.png`
    const { ms, value: res } = await elapsedAsync(async () => await upload(app, alice, [{ filename, data: pngFixture(10) }]))
    t.equal(res.statusCode, 201, `upload ${JSON.stringify(unit)}`)
    t.ok(ms < REQUEST_BOUND_MS, `upload with a 60 KB ${JSON.stringify(unit)} name: ${ms.toFixed(1)} ms`)
    t.ok(res.json().name.length <= 200)
  }

  const file = await uploaded(app, alice, { filename: 'a.png', data: pngFixture(10) })
  for (const range of [`bytes=${run(' ')}x`, `bytes=0-${run(' ')}x`, `bytes=${run('1,')}`]) {
    const { ms, value: res } = await elapsedAsync(async () => await download(app, alice, file.id, { range }))
    t.equal(res.statusCode, 200, 'a malformed Range is ignored')
    t.ok(ms < REQUEST_BOUND_MS, `download with a 100 KB Range: ${ms.toFixed(1)} ms`)
  }

  for (const authorization of [`Bearer${run(' ')}x y`, `Bearer ${run('a', 50_000)}${run(' ', 50_000)}b`]) {
    const { ms, value: res } = await elapsedAsync(async () => await app.inject({ method: 'GET', url: '/api/users/me', headers: { authorization } }))
    t.equal(res.statusCode, 401)
    t.ok(ms < REQUEST_BOUND_MS, `a 100 KB Authorization header: ${ms.toFixed(1)} ms`)
  }

  // The search is escaped and anchored (`^literal`): the longest accepted one is quick, a longer one a 400.
  for (const search of [run('.*', 64), run(' ', 64), run('(a+)+', 64), run('a', KB100)]) {
    const { ms, value: res } = await elapsedAsync(async () =>
      await app.inject({ method: 'GET', url: `/api/users?search=${encodeURIComponent(search)}`, headers: bearer(alice.accessToken) }))
    t.ok(res.statusCode === 200 || res.statusCode === 400, `search answers ${res.statusCode}`)
    t.ok(ms < REQUEST_BOUND_MS, `users search of ${search.length} chars: ${ms.toFixed(1)} ms`)
  }
  t.equal((await api(app, alice)('GET', '/api/users?search=.*')).json().items.length, 0, 'a pattern is searched as text')
})
