/**
 * A tiny typed event emitter (no `node:events`, so the SDK runs in browsers as it is). A listener that throws is
 * the app's bug, not the SDK's: it is reported through `queueMicrotask` and never breaks the emit loop.
 */
export type Listener<A extends unknown[]> = (...args: A) => void

export class Emitter<Events extends { [K in keyof Events]: unknown[] }> {
  private readonly listeners = new Map<keyof Events, Set<Listener<any>>>()

  on<K extends keyof Events> (event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event)
    if (set === undefined) this.listeners.set(event, set = new Set())
    set.add(listener)
    return () => { this.off(event, listener) }
  }

  off<K extends keyof Events> (event: K, listener: Listener<Events[K]>): void {
    this.listeners.get(event)?.delete(listener)
  }

  protected emit<K extends keyof Events> (event: K, ...args: Events[K]): void {
    for (const listener of [...this.listeners.get(event) ?? []]) {
      try {
        listener(...args)
      } catch (error) {
        queueMicrotask(() => { throw error })
      }
    }
  }
}
