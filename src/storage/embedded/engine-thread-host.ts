/**
 * Starts the embedded engine on a worker thread of its own (engine-thread.ts) and hands back the same EmbeddedMongo
 * handle as startEmbeddedMongo: the URL the driver connects to, its health, close. The engine's logs come back to
 * the host's logger. If the thread dies the engine is gone: its connections drop and the driver reports the server
 * unavailable, as with a crashed mongod; health() says so.
 */
import { Worker } from 'node:worker_threads'
import type { EmbeddedMongo, EmbeddedMongoOptions, EngineHealth } from './index.js'
import type { EngineLogger } from './store.types.js'
import { fromThreadError, type HostRequest, type ThreadMessage } from './engine-thread-messages.js'

/**
 * The thread's entry beside this file: engine-thread.js when built; engine-thread.ts when this runs from source
 * (tests, `npm run dev`), whose thread then needs tsx's loader too (a worker does not inherit loader hooks).
 */
function entry (): { script: URL | string, eval: boolean } {
  if (!import.meta.url.endsWith('.ts')) return { script: new URL('./engine-thread.js', import.meta.url), eval: false }
  const thread = new URL('./engine-thread.ts', import.meta.url).href
  const tsx = import.meta.resolve('tsx/esm/api')
  return { script: `import(${JSON.stringify(tsx)}).then(tsx => { tsx.register(); return import(${JSON.stringify(thread)}) })`, eval: true }
}

/** How long close() waits for the thread to close the engine before stopping it. */
const CLOSE_TIMEOUT_MS = 8000

export async function startEmbeddedMongoThread (options: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  const { logger, ...workerOptions } = options
  const log: EngineLogger | undefined = logger
  const { script, eval: isEval } = entry()
  const worker = new Worker(script, { workerData: workerOptions, name: 'embedded-mongo', eval: isEval })
  let exited: Error | null = null
  let nextId = 0
  const healthWaiters = new Map<number, (health: EngineHealth) => void>()
  let onClosed: ((error?: Error) => void) | null = null
  let closingRequested = false

  const started = new Promise<{ url: string, host: string, port: number }>((resolve, reject) => {
    worker.on('message', (message: ThreadMessage) => {
      switch (message.kind) {
        case 'started': resolve(message); break
        case 'failed': reject(fromThreadError(message.error)); break
        case 'log': log?.[message.level](message.obj as object, message.msg); break
        case 'health': {
          const waiter = healthWaiters.get(message.id)
          healthWaiters.delete(message.id)
          waiter?.(message.state === 'ok' ? { state: 'ok' } : { state: 'failed', error: fromThreadError(message.error) })
          break
        }
        case 'closed': onClosed?.(message.error !== undefined ? fromThreadError(message.error) : undefined); break
      }
    })
    worker.on('error', error => {
      exited ??= error
      log?.error({ err: error }, 'embedded mongo: engine thread failed')
      reject(error)
    })
    worker.on('exit', code => {
      // Nothing restarts the engine: /ready stays red (health below) until the process is restarted.
      if (!closingRequested && exited === null) log?.error({ code }, 'embedded mongo: the engine thread exited; the database is gone until a restart')
      exited ??= new Error(`embedded engine thread exited (code ${code})`)
      reject(exited)
      for (const waiter of healthWaiters.values()) waiter({ state: 'failed', error: exited })
      healthWaiters.clear()
      onClosed?.()
    })
  })
  let address: { url: string, host: string, port: number }
  try {
    address = await started
  } catch (error) {
    await worker.terminate()
    throw error
  }
  const request = (message: HostRequest): void => { worker.postMessage(message) }

  let closing: Promise<void> | undefined
  return {
    url: address.url,
    host: address.host,
    port: address.port,
    health: async () => {
      if (exited !== null) return { state: 'failed', error: exited }
      const id = nextId++
      return await new Promise<EngineHealth>(resolve => {
        healthWaiters.set(id, resolve)
        request({ kind: 'health', id })
      })
    },
    close: async () => {
      closing ??= (async () => {
        closingRequested = true
        if (exited === null) {
          const closed = new Promise<Error | undefined>(resolve => { onClosed = resolve })
          request({ kind: 'close' })
          // A thread that hangs is stopped anyway: its journal holds every acknowledged write already.
          const timer = setTimeout(() => { onClosed?.(new Error(`no answer to close within ${CLOSE_TIMEOUT_MS} ms`)) }, CLOSE_TIMEOUT_MS)
          const error = await closed
          clearTimeout(timer)
          if (error !== undefined) log?.error({ err: error }, 'embedded mongo: closing the engine failed')
        }
        await worker.terminate()
      })()
      await closing
    }
  }
}
