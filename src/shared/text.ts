/** Text helpers shared by the domains' searches. */

/** `text` with every regex metacharacter escaped, for a literal prefix match (`^${escapeRegex(text)}`): linear. */
export function escapeRegex (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')
}
