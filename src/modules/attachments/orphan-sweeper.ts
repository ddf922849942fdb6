/**
 * The periodic orphan sweep: AttachmentsService.sweep on an unref'd timer (never keeps the process alive), again
 * at once while batches come back full, stopped and awaited on close. Every instance may run one: the sweep's
 * deletes are conditional.
 */
import type { FastifyBaseLogger } from 'fastify'
import { SWEEP_BATCH, type AttachmentsService } from './attachments.service.js'

export interface OrphanSweeper {
  start: () => void
  /** Runs a sweep within `ms` (files were released), unless one is due sooner. */
  runWithin: (ms: number) => void
  /** Stops the timer and waits for a sweep in progress. */
  stop: () => Promise<void>
}

export function orphanSweeper (attachments: AttachmentsService, intervalMs: number, log: FastifyBaseLogger): OrphanSweeper {
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> | null = null
  let stopped = false
  let dueAt = Infinity

  const schedule = (ms: number): void => {
    if (stopped || intervalMs <= 0) return
    if (timer !== null) clearTimeout(timer)
    dueAt = Date.now() + ms
    timer = setTimeout(() => {
      timer = null
      dueAt = Infinity
      running = run()
    }, ms)
    timer.unref()
  }
  const run = async (): Promise<void> => {
    let next = intervalMs
    try {
      const removed = await attachments.sweep()
      if (removed > 0) log.info({ removed }, 'attachments: removed uploads no message carries')
      if (removed >= SWEEP_BATCH) next = 0
    } catch (error) {
      if (!stopped) log.error({ err: error }, 'attachments: orphan sweep failed')
    }
    schedule(next)
  }

  return {
    start: () => { schedule(intervalMs) },
    runWithin: ms => {
      // A sweep running now reschedules itself when done; one due later is brought forward.
      if (Date.now() + ms < dueAt && timer !== null) schedule(ms)
    },
    stop: async () => {
      stopped = true
      if (timer !== null) clearTimeout(timer)
      await running
    }
  }
}
