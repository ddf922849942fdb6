/**
 * Validation at the edge, one way for REST and sockets: a TypeBox schema is compiled once, checked, and its
 * codecs (the ids' lower-casing, shared/schemas.ts) applied to the checked value. TypeBox's own Value.Decode
 * clones and re-checks the whole value (~90 µs for a small payload), too slow for the send path; this walks only
 * the paths that hold a codec, precomputed from the schema (objects, arrays, optional properties and unions: what
 * Parley's inputs use), in place.
 */
import { IsCodec, type TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import type { FastifySchemaCompiler } from 'fastify'

type Decoder = (value: unknown) => unknown

interface SchemaShape {
  type?: unknown
  properties?: Record<string, TSchema>
  items?: TSchema
  anyOf?: TSchema[]
}

/** The decoder of a schema's codecs, or null when it has none (then nothing is walked). */
export function codecDecoder (schema: TSchema): Decoder | null {
  const shape = schema as SchemaShape
  let inner: Decoder | null = null
  if (shape.type === 'object' && shape.properties !== undefined) {
    const fields = Object.entries(shape.properties)
      .map(([key, property]) => [key, codecDecoder(property)] as const)
      .filter((entry): entry is readonly [string, Decoder] => entry[1] !== null)
    if (fields.length > 0) {
      inner = value => {
        if (typeof value !== 'object' || value === null) return value
        const record = value as Record<string, unknown>
        for (const [key, decode] of fields) if (record[key] !== undefined) record[key] = decode(record[key])
        return value
      }
    }
  } else if (shape.type === 'array' && shape.items !== undefined) {
    const item = codecDecoder(shape.items)
    if (item !== null) inner = value => Array.isArray(value) ? value.map(item) : value
  } else if (shape.anyOf !== undefined) {
    // A union (e.g. the direct or group body): decode with the first branch the value matches.
    const branches = shape.anyOf.map(branch => ({ check: Compile(branch), decode: codecDecoder(branch) }))
    if (branches.some(branch => branch.decode !== null)) {
      inner = value => {
        const branch = branches.find(candidate => candidate.check.Check(value))
        return branch?.decode != null ? branch.decode(value) : value
      }
    }
  }
  if (!IsCodec(schema)) return inner
  const decode = schema['~codec'].decode as Decoder
  return inner === null ? decode : value => decode(inner(value))
}

export interface CompiledSchema {
  /** True when the value matches (checked as sent: codecs decode only afterwards). */
  check: (value: unknown) => boolean
  /** The issues of a value that failed `check` (instancePath, message). */
  errors: (value: unknown) => Array<{ instancePath: string, message: string }>
  /** The first issues of a value that failed `check`, as `path message`. */
  issues: (value: unknown, max: number) => string[]
  /** The checked value with its codecs applied (in place). */
  decode: (value: unknown) => unknown
}

export function compileSchema (schema: TSchema): CompiledSchema {
  const validator = Compile(schema)
  const decoder = codecDecoder(schema)
  return {
    check: value => validator.Check(value),
    errors: value => validator.Errors(value),
    issues: (value, max) => validator.Errors(value).slice(0, max).map(issue => `${issue.instancePath} ${issue.message}`),
    decode: decoder ?? (value => value)
  }
}

/**
 * Fastify's validator compiler for every route: TypeBox checks (with the type provider's conversion of params,
 * query and headers from strings), then the codecs decode. Errors keep Fastify's shape for the errors plugin.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const validator = Compile(schema)
  const decode = codecDecoder(schema)
  return value => {
    const converted = httpPart === 'body' ? value : validator.Convert(value)
    if (!validator.Check(converted)) return { error: validator.Errors(converted) as unknown as Error }
    return { value: decode === null ? converted : decode(converted) }
  }
}
