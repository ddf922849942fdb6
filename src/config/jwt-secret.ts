/**
 * Secrets that are not secret: values printed in this repository (the old docker-compose fallback, the test kit's,
 * benchmarks' and docs' examples) and trivially weak ones. Anyone who has read the repository can forge tokens
 * signed with them, so `loadConfig` refuses them in every NODE_ENV except `test` (where the test kit's own fixed
 * secrets are the point). The length minimum (32) is the schema's.
 */

/** Example secrets that appear in this repository, its history or its docs. */
export const KNOWN_EXAMPLE_SECRETS: readonly string[] = [
  // docker-compose.yml's fallback before it required JWT_SECRET.
  'dev-only-secret-change-me-0123456789abcdef',
  // test/helpers/build-app.ts TEST_SECRET, test/cluster/processes.test.ts, scripts/bench-*.ts.
  'test-secret-that-is-long-enough-0123456789',
  'cluster-test-secret-that-is-long-enough-0123',
  'bench-secret-that-is-long-enough-0123456789',
  'bench-cluster-secret-that-is-long-enough-0123456789'
]

/** Placeholder words people leave in example values ("change-me", "your-secret-here"). */
const PLACEHOLDER = /change[-_ ]?me|replace[-_ ]?me|your[-_ ]?(jwt[-_ ]?)?secret|example|placeholder/i

/** Fewer distinct characters than this is a pattern, not a random secret (random 32 hex chars have ~15). */
const MIN_DISTINCT_CHARACTERS = 8

/** Why `secret` must not sign tokens, or null when it may. */
export function weakSecretReason (secret: string): string | null {
  if (KNOWN_EXAMPLE_SECRETS.includes(secret)) return 'is an example value published in Parley\'s repository'
  if (PLACEHOLDER.test(secret)) return 'looks like a placeholder (change-me, example, ...)'
  if (new Set(secret).size < MIN_DISTINCT_CHARACTERS) {
    return `has fewer than ${MIN_DISTINCT_CHARACTERS} distinct characters`
  }
  return null
}
