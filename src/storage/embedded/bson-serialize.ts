/**
 * BSON serialisation that never returns a truncated document. bson 7's `serialize()` writes into a 17 MiB
 * internal buffer and silently cuts anything longer, returning a valid-looking but short document; every
 * large payload (journal records, wire replies) is checked against its computed size and retried with a
 * buffer big enough.
 */
import { calculateObjectSize, serialize, setInternalBufferSize, type Document } from 'bson'

/** Below this, bson's internal buffer cannot have overflowed. */
const VERIFY_SIZE_FROM = 16 * 1024 * 1024

/** Serialises `doc`; throws a RangeError when it is larger than `maxBytes`. */
export function serializeExact (doc: Document, maxBytes: number): Uint8Array {
  let bytes = serialize(doc)
  if (bytes.length < VERIFY_SIZE_FROM) return bytes
  const size = calculateObjectSize(doc)
  if (size > maxBytes) throw new RangeError(`document of ${size} bytes exceeds ${maxBytes}`)
  if (bytes.length !== size) {
    setInternalBufferSize(size) // bson keeps the bigger buffer; documents this large are rare
    bytes = serialize(doc)
  }
  if (bytes.length !== size) throw new Error(`BSON serialisation gave ${bytes.length} of ${size} bytes`)
  return bytes
}
