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
  // When releases want a sweep (their grace's end), until a sweep after that time has run. Rounded to the second
  // and deduplicated, so a burst of deletes keeps a handful of entries.
  let wants: number[] = []

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
    const startedAt = Date.now()
    wants = wants.filter(at => at > startedAt)
    try {
      const removed = await attachments.sweep()
      if (removed > 0) log.info({ removed }, 'attachments: removed uploads no message carries')
      if (removed >= SWEEP_BATCH) next = 0
      // Releases whose grace ends later than this sweep began: sweep again then, not at the interval.
      if (wants.length > 0) next = Math.min(next, Math.max(0, Math.min(...wants) - Date.now()))
    } catch (error) {
      if (!stopped) log.error({ err: error }, 'attachments: orphan sweep failed')
    }
    schedule(next)
  }

  return {
    start: () => { schedule(intervalMs) },
    runWithin: ms => {
      const at = Math.ceil((Date.now() + ms) / 1000) * 1000
      if (!wants.includes(at)) wants.push(at)
      // One due later is brought forward; a sweep running now reschedules itself by `wants` when done.
      if (at < dueAt && timer !== null) schedule(at - Date.now())
    },
    stop: async () => {
      stopped = true
      if (timer !== null) clearTimeout(timer)
      await running
    }
  }
}
