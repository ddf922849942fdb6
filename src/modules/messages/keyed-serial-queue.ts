/**
 * Runs tasks one at a time per key, in arrival order; different keys run concurrently. Used to claim message
 * seqs per conversation: within one instance, sends to one conversation never race for the same seq (the
 * unique index and its retry stay as the guarantee across instances).
 */
export class KeyedSerialQueue {
  private readonly tails = new Map<string, Promise<void>>()

  run<T> (key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    // A failed task must not block the ones behind it.
    const result = previous.then(task, task)
    const tail = result.then(() => {}, () => {})
    this.tails.set(key, tail)
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key)
    })
    return result
  }

  /** Whether tasks for `key` are queued or running. */
  busy (key: string): boolean {
    return this.tails.has(key)
  }
}
