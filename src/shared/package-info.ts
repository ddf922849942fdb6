/** Where Parley's package.json is, and its version: the nearest parley package.json above a file (src/ under tsx, dist/src/ when built). */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The directory of Parley's package.json. */
export function packageRoot (from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json')
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'parley') return dir
    if (dirname(dir) === dir) throw new Error('package.json of parley not found')
  }
}

/** Parley's version from its package.json. */
export function packageVersion (): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }
  if (typeof pkg.version !== 'string') throw new Error('package.json of parley has no version')
  return pkg.version
}
