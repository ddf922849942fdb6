/** Upload names: what a client sends is a hint for humans, never a path or markup we trust. */

/** Longest stored name, in characters (the extension is kept when a longer name is cut). */
export const MAX_NAME_LENGTH = 200
const MAX_EXTENSION_LENGTH = 16

// C0/C1 controls and DEL, plus bidi overrides/isolates (they can disguise "exe.txt" as "txt.exe").
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufeff]/g
// Reserved on Windows and in Content-Disposition quoting.
const RESERVED = /[<>:"|?*]/g

/**
 * A safe display name: the last path segment only (`/` and `\` both separate), no control or bidi characters,
 * no leading dots (so no `..`, no hidden files) or trailing dots/spaces, at most MAX_NAME_LENGTH characters with
 * the extension kept. An empty result becomes `file`.
 */
export function sanitizeFileName (raw: string | undefined): string {
  let name = (raw ?? '').normalize('NFC').replace(UNSAFE, '')
  name = name.split(/[/\\]/).pop() ?? ''
  name = name.replace(RESERVED, '_').replace(/\.{2,}/g, '.').replace(/^[\s.]+/, '').replace(/[\s.]+$/, '').replace(/\s+/g, ' ')
  const chars = Array.from(name)
  if (chars.length > MAX_NAME_LENGTH) {
    const dot = name.lastIndexOf('.')
    const extension = dot > 0 ? Array.from(name.slice(dot)) : []
    const keep = extension.length > 1 && extension.length <= MAX_EXTENSION_LENGTH ? extension : []
    name = chars.slice(0, MAX_NAME_LENGTH - keep.length).join('').replace(/[\s.]+$/, '') + keep.join('')
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
