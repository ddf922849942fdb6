/**
 * `npm test`: runs node-tap over test/ (extra arguments pass through, e.g. a file or --grep), streams its
 * output, and ends with the plain line CI reads: `N passed, N failed[, N skipped]`, counted in assertions.
 * The exit code is tap's own (non-zero on any failure or on coverage below the thresholds in package.json).
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

const args = process.argv.slice(2)
// With no files named, tap runs its `include` globs from package.json (test/**/*.test.ts, not the helpers).
const child = spawn(process.execPath, ['node_modules/tap/dist/esm/run.mjs', ...args], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, FORCE_COLOR: '0' }
})

let summary: { pass: number; fail: number; skip: number } | null = null
createInterface({ input: child.stdout }).on('line', line => {
  process.stdout.write(line + '\n')
  // tap's closing comment, e.g. `# { total: 5, pass: 4, fail: 1, skip: 2 }`
  const match = /^# \{ total: (\d+)(.*)\}$/.exec(line)
  if (match !== null) {
    const count = (name: string): number => Number(new RegExp(`${name}: (\\d+)`).exec(match[2])?.[1] ?? 0)
    summary = { pass: count('pass'), fail: count('fail'), skip: count('skip') + count('todo') }
  }
})

child.on('close', code => {
  const result = summary ?? { pass: 0, fail: code === 0 ? 0 : 1, skip: 0 }
  // A non-zero exit with no failed assertion (a crashed file, coverage below threshold) still counts as a failure.
  const failed = result.fail === 0 && code !== 0 ? 1 : result.fail
  process.stdout.write(`${result.pass} passed, ${failed} failed${result.skip > 0 ? `, ${result.skip} skipped` : ''}\n`)
  process.exit(code ?? 1)
})
