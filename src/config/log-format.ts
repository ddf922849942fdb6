/**
 * How the process logs: JSON lines (pino's own format, for production and log collectors) or readable text through
 * pino-pretty (a dev dependency, run by pino on a worker thread) when a person is reading a terminal.
 */
import { createRequire } from 'node:module'
import type { LoggerOptions } from 'pino'
import type { AppConfig } from './load-config.js'

type LogSettings = Pick<AppConfig, 'env' | 'logLevel' | 'logFormat'>

/** Whether pino-pretty can be loaded here (it is absent after `npm ci --omit=dev`). */
export function prettyAvailable (): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty')
    return true
  } catch {
    return false
  }
}

/** `pretty` or `json` for these settings: LOG_FORMAT=auto means text only in development on a terminal. */
export function chosenLogFormat (settings: LogSettings, isTerminal: boolean, canPretty: boolean): 'json' | 'pretty' {
  const wanted = settings.logFormat === 'auto' ? (settings.env === 'development' && isTerminal ? 'pretty' : 'json') : settings.logFormat
  return wanted === 'pretty' && canPretty ? 'pretty' : 'json'
}

/** pino options (also Fastify's `logger`) for the process's stdout. */
export function loggerOptions (settings: LogSettings, isTerminal = process.stdout.isTTY === true, canPretty = prettyAvailable()): LoggerOptions {
  if (chosenLogFormat(settings, isTerminal, canPretty) === 'json') return { level: settings.logLevel }
  return {
    level: settings.logLevel,
    transport: {
      target: 'pino-pretty',
      options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', colorize: isTerminal }
    }
  }
}
