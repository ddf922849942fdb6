/** Single byte ranges of `Range: bytes=...` (RFC 9110 §14). */

const DIGITS = /^[0-9]*$/

/**
 * `bytes = first - last` (whitespace allowed around each token, `bytes` in any case) as its two digit strings,
 * either may be empty; null for anything else. A scan, not one pattern: `\s*(\d*)\s*` backtracks quadratically
 * over a long run of spaces, and the header is client input.
 */
function splitRange (header: string): [string, string] | null {
  const value = header.trim()
  if (value.slice(0, 5).toLowerCase() !== 'bytes') return null
  const spec = value.slice(5).trimStart()
  if (spec[0] !== '=') return null
  const dash = spec.indexOf('-')
  if (dash < 0) return null
  const first = spec.slice(1, dash).trim()
  const last = spec.slice(dash + 1).trim()
  return DIGITS.test(first) && DIGITS.test(last) ? [first, last] : null
}

/** Inclusive byte positions. */
export interface ByteRange { start: number, end: number }

/**
 * What to answer for a Range header on a representation of `size` bytes: `null` for the whole body (no header,
 * another unit, a malformed header, or several ranges, which we answer with the full 200), `'unsatisfiable'`
 * for 416, or the one range for 206.
 */
export function parseRange (header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === undefined) return null
  const parts = splitRange(header)
  if (parts === null) return null
  const [first, last] = parts
  if (first === '' && last === '') return null
  if (first === '') {
    // Suffix: the last n bytes (all of them when n >= size); n = 0 selects nothing.
    const n = Number(last)
    if (n === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(first)
  if (last !== '' && Number(last) < start) return null // invalid, so ignored
  if (start >= size) return 'unsatisfiable'
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) }
}
