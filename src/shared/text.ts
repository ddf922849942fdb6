/** Text helpers shared by the domains' keys and searches. */

/** `text` with every regex metacharacter escaped, for a literal prefix match (`^${escapeRegex(text)}`): linear. */
export function escapeRegex (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')
}

/** The case-insensitive key of a name (username, email, group name): trimmed, NFKC, lower case. */
export function normalizeKey (value: string): string {
  return value.trim().normalize('NFKC').toLowerCase()
}
