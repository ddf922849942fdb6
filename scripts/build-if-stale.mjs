// `npm start` and `npm run db` run this first: it runs `npm run build` only when a source file is newer than the
// last build made here (dist/.build-stamp), as make would. Unchanged, a start goes straight to serving instead of
// spending seconds in tsc. Plain JavaScript because it runs before anything is compiled.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const INPUTS = ['src', 'scripts', 'client/src', 'client/package.json', 'web', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']
const STAMP = join('dist', '.build-stamp')

/** The latest modification time under `path` (0 when it does not exist). */
function newest (path) {
  let stat
  try { stat = statSync(path) } catch { return 0 }
  if (!stat.isDirectory()) return stat.mtimeMs
  let latest = stat.mtimeMs // a deleted file changes its directory's time
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)))
  return latest
}

const built = newest(STAMP)
const changed = Math.max(...INPUTS.map(newest))
if (built > 0 && changed <= built) process.exit(0)

console.log(built === 0 ? 'build: no build yet, building' : 'build: sources changed since the last build, building')
const result = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' })
if (result.status !== 0) process.exit(result.status ?? 1)
writeFileSync(STAMP, `${new Date().toISOString()}\n`)
