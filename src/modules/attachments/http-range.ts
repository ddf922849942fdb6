/** Single byte ranges of `Range: bytes=...` (RFC 9110 §14). */

/** Inclusive byte positions. */
export interface ByteRange { start: number, end: number }

/**
 * What to answer for a Range header on a representation of `size` bytes: `null` for the whole body (no header,
 * another unit, a malformed header, or several ranges, which we answer with the full 200), `'unsatisfiable'`
 * for 416, or the one range for 206.
 */
export function parseRange (header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === undefined) return null
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (match === null) return null
  const [, first, last] = match
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
