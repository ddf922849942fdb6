/** Waiting in tests without asserting on time: a loaded machine only makes these slower. */

/** Whether `check` becomes true within timeoutMs (default 5000), polled every 25 ms. */
export async function eventually (check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) return false
    await sleep(25)
  }
  return true
}

/** Polls `check` until it is true; rejects after timeoutMs (default 5000) naming `what`. */
export async function waitFor (check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  if (!(await eventually(check, timeoutMs))) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** Resolves after `ms` (at once for ms <= 0). */
export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, Math.max(ms, 0)))
}
