/**
 * `--help` for the processes that read the environment (`npm start -- --help`, `npm run db -- --help`): every
 * variable of the schema that validates them, with its default and what it accepts, read from that schema.
 */
import type { TObject, TSchema } from 'typebox'

interface Described extends TSchema { type?: string, default?: unknown, pattern?: string, minimum?: number, maximum?: number, minLength?: number, anyOf?: Array<{ const?: unknown }>, const?: unknown }

/** What a variable accepts, in a few words. */
function accepts (schema: Described): string {
  if (Array.isArray(schema.anyOf) && schema.anyOf.every(option => option.const !== undefined)) {
    return schema.anyOf.map(option => String(option.const)).join(' | ')
  }
  if (schema.type === 'integer' || schema.type === 'number') {
    const range = schema.minimum !== undefined || schema.maximum !== undefined ? ` ${schema.minimum ?? ''}..${schema.maximum ?? ''}` : ''
    return `${schema.type === 'integer' ? 'whole number' : 'number'}${range}`
  }
  if (schema.pattern !== undefined) return `text matching ${schema.pattern}`
  if (schema.minLength !== undefined) return `text of at least ${schema.minLength} characters`
  return 'text'
}

/** The comment above each `NAME=` line of a .env.example text, as one line per variable. */
export function envExampleNotes (text: string): Map<string, string> {
  const notes = new Map<string, string>()
  let comment: string[] = []
  let afterAssignment = false
  for (const line of text.split('\n')) {
    const assignment = /^([A-Z][A-Z0-9_]*)=/.exec(line)
    if (line.startsWith('#')) {
      // Variables listed together share the comment above them; the next comment starts afresh.
      if (afterAssignment) comment = []
      comment.push(line.replace(/^#\s?/, ''))
    } else if (assignment !== null) {
      notes.set(assignment[1], comment.join(' '))
    } else {
      comment = []
    }
    afterAssignment = assignment !== null
  }
  return notes
}

/**
 * The help text: a usage line, then each variable of the schema with its default and accepted values (both from the
 * schema) and, when `notes` has one, what it does (from .env.example).
 */
export function configHelp (schema: TObject, usage: string, notes = new Map<string, string>()): string {
  const properties = schema.properties as Record<string, Described>
  const lines = Object.keys(properties).flatMap(name => {
    const property = properties[name]
    const fallback = property.default !== undefined ? `default ${JSON.stringify(String(property.default))}` : 'unset by default'
    const note = notes.get(name)
    return [`  ${name}  (${fallback}; ${accepts(property)})`, ...(note !== undefined && note !== '' ? [`      ${note}`] : [])]
  })
  return [usage, '', 'Configuration, from environment variables (empty counts as unset):', ...lines].join('\n') + '\n'
}

/** True when the process was asked for help. */
export const wantsHelp = (argv: readonly string[] = process.argv.slice(2)): boolean => argv.includes('--help') || argv.includes('-h')
