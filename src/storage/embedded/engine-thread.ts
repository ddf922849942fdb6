/**
 * Worker-thread entry of the embedded engine (engine-thread-host.ts starts it): runs startEmbeddedMongo on its own
 * event loop and heap, as a separate mongod would, so the app's loop spends no time on commands, the journal or the
 * collection of the stored documents' heap. The host talks to it only to learn its URL, ask its health and close it;
 * the app's reads and writes go through the driver over TCP as to any MongoDB.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { startEmbeddedMongo, type EmbeddedMongoOptions } from './index.js'
import type { EngineLogger } from './store.types.js'
import { toHostMessage, type HostRequest, type ThreadMessage } from './engine-thread-messages.js'

if (parentPort === null) throw new Error('engine-thread.ts runs as a worker thread only')
const port = parentPort

const post = (message: ThreadMessage): void => { port.postMessage(message) }
const logAt = (level: keyof EngineLogger) => (obj: object, msg?: string): void => { post({ kind: 'log', level, obj: toHostMessage(obj), msg }) }
const logger: EngineLogger = { debug: logAt('debug'), info: logAt('info'), warn: logAt('warn'), error: logAt('error') }

async function main (): Promise<void> {
  const engine = await startEmbeddedMongo({ ...(workerData as EmbeddedMongoOptions), logger })
  port.on('message', (request: HostRequest) => {
    if (request.kind === 'health') {
      void engine.health().then(health => post({ kind: 'health', id: request.id, state: health.state, error: health.state === 'failed' ? toHostMessage(health.error) : undefined }))
    } else {
      engine.close().then(() => { post({ kind: 'closed' }) }, (error: unknown) => { post({ kind: 'closed', error: toHostMessage(error) }) })
    }
  })
  post({ kind: 'started', url: engine.url, host: engine.host, port: engine.port })
}

main().catch((error: unknown) => { post({ kind: 'failed', error: toHostMessage(error) }) })
