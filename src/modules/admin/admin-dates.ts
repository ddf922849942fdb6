import { badRequest } from '../../shared/errors.js'

/**
 * A query's date-time as a Date. The schema's `date-time` format lets some strings through that Date cannot hold (a
 * leap second, `23:59:60`): those are a 400 here, never an Invalid Date in a query.
 */
export function dateOf (value: string, field: string): Date {
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) throw badRequest('VALIDATION_ERROR', `\`${field}\` is not a time this server can use`)
  return date
}
