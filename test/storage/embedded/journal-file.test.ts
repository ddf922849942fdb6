/**
 * The journal's file layer on real files: frame format, exact BSON round trip, group commit, fail-stop on
 * write errors, and detection of torn or corrupt frames.
 */
import t, { type Test } from 'tap'
import { mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  BSONSymbol, Binary, Code, DBRef, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId,
  Timestamp, UUID, serialize, type Document
} from 'bson'
import { HEADER_BYTES, encodeHeader, journalName, mayHoldBinary, parseName, snapshotName } from '../../../src/storage/embedded/journal-format.js'
import { readFrames } from '../../../src/storage/embedded/journal-file.js'
import { JournalWriter, openSegmentForAppend } from '../../../src/storage/embedded/journal-writer.js'
import type { EngineLogger, JournalRecord } from '../../../src/storage/embedded/store.types.js'

interface LogEntry { level: string; obj: object | string; msg?: string }
function captureLogger (): EngineLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = []
  const at = (level: string) => (obj: object | string, msg?: string) => { entries.push({ level, obj, msg }) }
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-journal-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A fresh segment file with its header, and a writer on it. */
async function newWriter (dir: string, logger = captureLogger()): Promise<{ writer: JournalWriter; path: string }> {
  const path = join(dir, journalName(1))
  await writeFile(path, encodeHeader('journal', 1))
  const fh = await openSegmentForAppend(path)
  return { writer: new JournalWriter(dir, logger, fh, 1, HEADER_BYTES), path }
}

async function readAll (path: string): Promise<{ records: Document[]; offsets: number[]; result: Awaited<ReturnType<typeof readFrames>> }> {
  const records: Document[] = []
  const offsets: number[] = []
  const result = await readFrames(path, 'journal', 1, (record, offset) => { records.push(record); offsets.push(offset) })
  return { records, offsets, result }
}

/** Constructor names all the way down, so a Double that came back as an Int32 (or a number) fails. */
function typeShape (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(typeShape)
  if (value !== null && typeof value === 'object') {
    const name = value.constructor?.name ?? 'null-proto'
    if (name !== 'Object') return name
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeShape(v)]))
  }
  return typeof value
}

const everyType: Document = {
  _id: new ObjectId(),
  int32: new Int32(-7),
  double: new Double(1.5),
  integralDouble: new Double(2),
  negativeZero: new Double(-0),
  nan: new Double(NaN),
  infinity: new Double(-Infinity),
  long: Long.fromString('9223372036854775807'),
  decimal: Decimal128.fromString('1.10'),
  string: 'héllo ✓ 𝄞',
  empty: '',
  bool: false,
  nul: null,
  date: new Date(1700000000123),
  regex: /^a.*b$/im,
  regexGlobal: /x/g,
  binary: new Binary(Buffer.from([0, 1, 2, 255]), 0),
  binaryUserType: new Binary(Buffer.from('abc'), 0x80),
  uuid: new UUID(),
  timestamp: new Timestamp({ t: 5, i: 6 }),
  min: new MinKey(),
  max: new MaxKey(),
  code: new Code('function () { return 1 }'),
  codeWithScope: new Code('x', { a: new Int32(1) }),
  symbol: new BSONSymbol('sym'),
  dbref: new DBRef('users', new ObjectId(), 'otherdb'),
  array: [new Int32(1), 'two', [new Double(3)], { four: new Int32(4) }, []],
  nested: { a: { b: { c: new Int32(1), 'dotted.key': 'x', $dollar: 'y' } } },
  emptyDoc: {}
}

const everyRecord: JournalRecord[] = [
  { t: 'createColl', db: 'app', coll: 'messages', options: { capped: false, validator: { body: { $type: 'string' } } } },
  { t: 'createIndex', db: 'app', coll: 'messages', spec: { key: { conversationId: new Int32(1), seq: new Int32(-1) }, name: 'conv_seq', unique: true, partialFilterExpression: { seq: { $gt: new Int32(0) } } } },
  { t: 'put', db: 'app', coll: 'messages', doc: everyType },
  { t: 'put', db: 'app', coll: 'messages', doc: { _id: 'string-id', v: new Int32(1) } },
  { t: 'del', db: 'app', coll: 'messages', id: new ObjectId() },
  { t: 'del', db: 'app', coll: 'messages', id: { compound: new Int32(1), key: 'x' } },
  { t: 'del', db: 'app', coll: 'messages', id: Long.fromNumber(12) },
  { t: 'dropIndex', db: 'app', coll: 'messages', name: 'conv_seq' },
  { t: 'dropColl', db: 'app', coll: 'messages' },
  { t: 'dropDb', db: 'app' }
]

t.test('every record type and every BSON type round-trips exactly', async t => {
  const dir = await tempDir(t)
  const { writer, path } = await newWriter(dir)
  await writer.append(everyRecord.slice(0, 3))
  await writer.append(everyRecord.slice(3))
  await writer.close()

  const { records, result } = await readAll(path)
  t.equal(result.problem, undefined, 'no bad frame')
  t.equal(result.frames, everyRecord.length)
  t.equal(result.goodEnd, result.fileSize)
  for (const [i, original] of everyRecord.entries()) {
    t.same(typeShape(records[i]), typeShape(original), `record ${i} (${original.t}) keeps every value's type`)
    t.ok(Buffer.from(serialize(records[i])).equals(serialize(original)), `record ${i} (${original.t}) is byte-identical`)
  }
  const doc = records[2].doc as Document
  t.ok(doc.int32 instanceof Int32 && doc.double instanceof Double && doc.long instanceof Long, 'numbers stay wrapped')
  t.ok(Object.is(doc.negativeZero.value, -0), '-0 survives')
  t.ok(Number.isNaN(doc.nan.value), 'NaN survives')
  t.ok(doc.binary instanceof Binary && !Buffer.isBuffer(doc.binary), 'binary stays Binary')
  t.equal(doc.regex.flags, 'im', 'regex flags survive')
})

t.test('file names parse and format with generations', async t => {
  t.equal(journalName(7), 'journal-000007.log')
  t.equal(snapshotName(1234567), 'snapshot-1234567.bson')
  t.same(parseName('journal-000007.log'), { kind: 'journal', generation: 7 })
  t.same(parseName('snapshot-000012.bson'), { kind: 'snapshot', generation: 12 })
  t.equal(parseName('snapshot-000012.bson.tmp'), undefined)
  t.equal(parseName('journal-000007.log.torn-20'), undefined)
  t.equal(parseName('journal-000007.bson'), undefined)
  t.equal(parseName('LOCK'), undefined)
})

t.test('group commit: concurrent appends share write+fsync rounds', async t => {
  const dir = await tempDir(t)
  const { writer, path } = await newWriter(dir)
  const n = 1000
  const acks = Array.from({ length: n }, (_, i) =>
    writer.append([{ t: 'put', db: 'd', coll: 'c', doc: { _id: new Int32(i), body: 'x'.repeat(100) } }]))
  await Promise.all(acks)
  t.equal(writer.stats.appends, n)
  t.equal(writer.stats.records, n)
  t.ok(writer.stats.writes < n, `${n} appends took ${writer.stats.writes} writes`)

  // Sequential writers: while one round is being fsync'd, the others queue for the next one.
  const before = writer.stats.writes
  const workers = Array.from({ length: 50 }, async (_, w) => {
    for (let k = 0; k < 10; k++) {
      await writer.append([{ t: 'put', db: 'd', coll: 'c', doc: { _id: `w${w}-${k}` } }])
    }
  })
  await Promise.all(workers)
  const rounds = writer.stats.writes - before
  t.ok(rounds < 500, `500 appends from 50 sequential writers took ${rounds} writes`)
  await writer.close()

  const { records, result } = await readAll(path)
  t.equal(result.problem, undefined)
  t.equal(records.length, n + 500)
  t.same(records.slice(0, n).map(r => (r.doc._id as Int32).value), Array.from({ length: n }, (_, i) => i),
    'appends made in one tick are written in call order')
  t.equal(writer.stats.bytesWritten + HEADER_BYTES, result.fileSize)
})

t.test('a failed write rejects its appends and every later one (fail-stop)', async t => {
  const dir = await tempDir(t)
  const logger = captureLogger()
  const path = join(dir, journalName(1))
  await writeFile(path, encodeHeader('journal', 1))
  const fh = await open(path, 'r') // read-only: the write fails with a real EBADF
  const writer = new JournalWriter(dir, logger, fh, 1, HEADER_BYTES)
  await t.rejects(writer.append([{ t: 'dropDb', db: 'x' }]), 'append whose write failed is rejected')
  await t.rejects(writer.append([{ t: 'dropDb', db: 'y' }]), /journal unavailable/, 'later appends are rejected too')
  t.equal(writer.stats.appends, 0)
  t.ok(logger.entries.some(e => e.level === 'error'), 'the failure is logged')
  await writer.close()
  await t.rejects(writer.append([{ t: 'dropDb', db: 'z' }]), /closed/)
})

t.test('a record that cannot be serialised rejects only its own append', async t => {
  const dir = await tempDir(t)
  const { writer, path } = await newWriter(dir)
  const circular: Document = { _id: 1 }
  circular.self = circular
  await t.rejects(writer.append([{ t: 'put', db: 'd', coll: 'c', doc: circular }]), /cannot journal record/)
  const huge = { t: 'put', db: 'd', coll: 'c', doc: { _id: 2, blob: 'x'.repeat(49 * 1024 * 1024) } } as JournalRecord
  await t.rejects(writer.append([huge]), /exceeds/, 'a frame the reader would call garbage is never written')
  const large = { t: 'put', db: 'd', coll: 'c', doc: { _id: 3, blob: 'y'.repeat(20 * 1024 * 1024) } } as JournalRecord
  await writer.append([large])
  await writer.append([{ t: 'dropDb', db: 'ok' }])
  t.equal(writer.stats.appends, 2)
  await writer.close()
  const { records, result } = await readAll(path)
  t.equal(result.problem, undefined)
  t.same(records.map(r => r.t), ['put', 'dropDb'])
  t.equal((records[0].doc as Document).blob.length, 20 * 1024 * 1024, 'a frame larger than the read chunk is read whole')
})

t.test('reading stops at a torn last frame, whatever byte it was cut at', async t => {
  const dir = await tempDir(t)
  const { writer, path } = await newWriter(dir)
  for (let i = 0; i < 5; i++) await writer.append([{ t: 'put', db: 'd', coll: 'c', doc: { _id: new Int32(i), s: 'abc' } }])
  await writer.close()
  const full = await readFile(path)
  const { offsets } = await readAll(path)
  const lastStart = offsets[4]
  for (let cut = lastStart; cut < full.length; cut++) {
    await writeFile(path, full.subarray(0, cut))
    const { records, result } = await readAll(path)
    t.equal(records.length, 4, `cut at ${cut}: the four complete frames are read`)
    t.equal(result.goodEnd, lastStart, `cut at ${cut}: good data ends where the torn frame starts`)
    if (cut === lastStart) t.equal(result.problem, undefined, 'a clean cut between frames is no problem')
    else t.equal(result.problem?.offset, lastStart, `cut at ${cut}: reported at ${lastStart}`)
  }
})

t.test('corruption is detected: flipped payload byte, bad CRC, impossible length, bad header', async t => {
  const dir = await tempDir(t)
  const { writer, path } = await newWriter(dir)
  for (let i = 0; i < 3; i++) await writer.append([{ t: 'put', db: 'd', coll: 'c', doc: { _id: new Int32(i) } }])
  await writer.close()
  const full = await readFile(path)
  const { offsets } = await readAll(path)

  const flipped = Buffer.from(full)
  flipped[offsets[1] + 12] ^= 0x01
  await writeFile(path, flipped)
  let read = await readAll(path)
  t.equal(read.records.length, 1)
  t.match(read.result.problem, { offset: offsets[1], reason: /CRC mismatch/ })

  const badCrc = Buffer.from(full)
  badCrc[offsets[2] + 4] ^= 0x01
  await writeFile(path, badCrc)
  read = await readAll(path)
  t.equal(read.records.length, 2)
  t.match(read.result.problem, { offset: offsets[2], reason: /CRC mismatch/ })

  const badLength = Buffer.from(full)
  badLength.writeUInt32LE(0xfffffff0, offsets[2])
  await writeFile(path, badLength)
  read = await readAll(path)
  t.match(read.result.problem, { offset: offsets[2], reason: /invalid frame length/ })

  const zeros = Buffer.concat([full, Buffer.alloc(4096)]) // power loss can leave a zero-filled extension
  await writeFile(path, zeros)
  read = await readAll(path)
  t.equal(read.records.length, 3)
  t.match(read.result.problem, { offset: full.length, reason: /invalid frame length 0/ })

  const badMagic = Buffer.from(full)
  badMagic.write('NOTMAGIC', 0, 'latin1')
  await writeFile(path, badMagic)
  read = await readAll(path)
  t.match(read.result.problem, { offset: 0, reason: /bad magic/ })

  const newerVersion = Buffer.from(full)
  newerVersion.writeUInt32LE(99, 8)
  await writeFile(path, newerVersion)
  read = await readAll(path)
  t.match(read.result.problem, { offset: 0, reason: /unsupported format version 99/ })

  await truncate(path, 10)
  read = await readAll(path)
  t.match(read.result.problem, { offset: 0, reason: /no complete header/ })
})

t.test('decoded Binary values do not pin the read buffer; other documents decode in place', async t => {
  const cases: Array<[string, Document, boolean]> = [
    ['plain message', { _id: new ObjectId(), seq: new Int32(1), body: 'hi', at: new Date(), n: null, ok: true, l: Long.fromNumber(1) }, false],
    ['top-level binary', { _id: 1, b: new Binary(Buffer.from('x')) }, true],
    ['uuid in an array in a subdocument', { _id: 1, a: { b: [1, 'x', new UUID()] } }, true],
    ['binary after nested documents', { _id: 1, a: { b: { c: 'd' } }, e: [[]], f: new Binary(Buffer.alloc(3)) }, true],
    ['no binary, every other fixed type', { d: new Double(1), ts: new Timestamp({ t: 1, i: 2 }), dec: Decimal128.fromString('1'), mi: new MinKey(), ma: new MaxKey(), s: new BSONSymbol('s') }, false]
  ]
  for (const [name, doc, expected] of cases) {
    const payload = Buffer.from(serialize(doc))
    const padded = Buffer.concat([Buffer.alloc(7), payload, Buffer.alloc(9)])
    t.equal(mayHoldBinary(padded, 7, 7 + payload.length), expected, name)
  }

  const dir = await tempDir(t)
  const { writer, path } = await newWriter(dir)
  const records: JournalRecord[] = Array.from({ length: 50 }, (_, i) =>
    ({ t: 'put', db: 'd', coll: 'c', doc: { _id: i, pad: 'p'.repeat(1000), bin: new Binary(Buffer.from([i])) } }))
  await writer.append(records)
  await writer.close()
  const { records: read } = await readAll(path)
  const bin = (read[10].doc as Document).bin as Binary
  t.equal(bin.buffer[0], 10)
  t.ok(bin.buffer.buffer.byteLength < 2000, `the Binary's memory is its own document's (${bin.buffer.buffer.byteLength} bytes), not the read chunk`)
})
