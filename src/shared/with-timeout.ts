/**
 * `work`, or a rejection with `message` once `timeoutMs` has passed, whichever comes first. The timer is always
 * cleared, so a finished piece of work leaves nothing pending.
 */
export async function withTimeout<T> (work: Promise<T>, timeoutMs: number, message: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(typeof message === 'string' ? message : message())) }, timeoutMs)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Waits for `work` at most `timeoutMs`, never rejecting: true when it settled in time (a rejection counts). */
export async function settlesWithin (work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  return await withTimeout(work.then(() => true, () => true), timeoutMs, 'timeout').catch(() => false)
}
