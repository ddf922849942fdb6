/** Upload names: what a client sends is a hint for humans, never a path or markup we trust. */

/** Longest stored name, in characters (the extension is kept when a longer name is cut). */
export const MAX_NAME_LENGTH = 200
const MAX_EXTENSION_LENGTH = 16

// C0/C1 controls and DEL, plus bidi overrides/isolates (they can disguise "exe.txt" as "txt.exe").
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufeff]/g
// Reserved on Windows and in Content-Disposition quoting.
const RESERVED = /[<>:"|?*]/g
// The name is client input of up to ~80 KB (busboy's part-header limit): only single-class, one-pass patterns touch
// it (each character is looked at a bounded number of times). Trimming is a scan: `[\s.]+$` retries from every
// position of a run that does not reach the end, quadratic in the run's length (seconds for tens of KB).
const SPACE = /^\s$/
const isTrimmed = (char: string): boolean => char === '.' || SPACE.test(char)

/** `text` without leading and trailing whitespace and dots. */
function trimSpacesAndDots (text: string): string {
  let start = 0
  let end = text.length
  while (start < end && isTrimmed(text[start])) start++
  while (end > start && isTrimmed(text[end - 1])) end--
  return text.slice(start, end)
}

/**
 * A safe display name: the last path segment only (`/` and `\` both separate), no control or bidi characters,
 * no leading dots (so no `..`, no hidden files) or trailing dots/spaces, at most MAX_NAME_LENGTH characters with
 * the extension kept. An empty result becomes `file`. Linear in the length of `raw`.
 */
export function sanitizeFileName (raw: string | undefined): string {
  let name = (raw ?? '').normalize('NFC').replace(UNSAFE, '')
  name = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1)
  name = trimSpacesAndDots(name.replace(RESERVED, '_').replace(/\.{2,}/g, '.')).replace(/\s+/g, ' ')
  const chars = Array.from(name)
  if (chars.length > MAX_NAME_LENGTH) {
    const dot = name.lastIndexOf('.')
    const extension = dot > 0 ? Array.from(name.slice(dot)) : []
    const keep = extension.length > 1 && extension.length <= MAX_EXTENSION_LENGTH ? extension : []
    name = trimSpacesAndDots(chars.slice(0, MAX_NAME_LENGTH - keep.length).join('')) + keep.join('')
  }
  return name === '' ? 'file' : name
}

/**
 * `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266 / RFC 5987): old
 * clients read the plain one, current ones the exact UTF-8 name.
 */
export function contentDisposition (name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_')
  const encoded = encodeURIComponent(name).replace(/['()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`
}
