// GridFS through the driver's GridFSBucket: upload, full and ranged download, find, delete.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import mongoose from 'mongoose'
import { startTestMongo } from '../helpers/mongo.js'

const { GridFSBucket } = mongoose.mongo
const mongo = await startTestMongo(t)
const { db } = mongo
const bucket = new GridFSBucket(db, { bucketName: 'attachments' })
const SIZE = 5 * 1024 * 1024 + 123
const data = randomBytes(SIZE)

const collect = async (stream: NodeJS.ReadableStream): Promise<Buffer> => {
  const parts: Buffer[] = []
  for await (const chunk of stream) parts.push(chunk as Buffer)
  return Buffer.concat(parts)
}

const upload = bucket.openUploadStream('photo.bin', { metadata: { owner: 'u1' } })
await pipeline(Readable.from([data.subarray(0, 1_000_000), data.subarray(1_000_000)]), upload)
const fileId = upload.id

t.test('upload writes a files document and 255 KiB chunks', async (t) => {
  const files = await bucket.find({ _id: fileId }).toArray()
  t.equal(files.length, 1)
  const f = files[0]
  t.equal(f.filename, 'photo.bin')
  t.equal(f.length, SIZE)
  t.equal(f.chunkSize, 255 * 1024)
  t.ok(f.uploadDate instanceof Date)
  t.same(f.metadata, { owner: 'u1' })
  const chunks = db.collection('attachments.chunks')
  t.equal(await chunks.countDocuments({ files_id: fileId }), Math.ceil(SIZE / (255 * 1024)))
  const last = await chunks.findOne({ files_id: fileId }, { sort: { n: -1 } })
  t.equal(last?.n, Math.ceil(SIZE / (255 * 1024)) - 1)
  t.equal(last?.data.length(), SIZE % (255 * 1024), 'the last chunk holds the remainder')
  const chunkIdx = await chunks.listIndexes().toArray()
  t.ok(chunkIdx.some((i) => i.name === 'files_id_1_n_1' && i.unique === true), 'driver created the unique chunk index')
  const fileIdx = await db.collection('attachments.files').listIndexes().toArray()
  t.ok(fileIdx.some((i) => i.name === 'filename_1_uploadDate_1'), 'driver created the files index')
})

t.test('download returns the same bytes', async (t) => {
  const back = await collect(bucket.openDownloadStream(fileId))
  t.equal(back.length, SIZE)
  t.ok(back.equals(data), 'byte for byte')
  const byName = await collect(bucket.openDownloadStreamByName('photo.bin'))
  t.ok(byName.equals(data), 'by name')
})

t.test('ranged download (start inclusive, end exclusive)', async (t) => {
  const a = await collect(bucket.openDownloadStream(fileId, { start: 1000, end: 300_000 }))
  t.equal(a.length, 299_000)
  t.ok(a.equals(data.subarray(1000, 300_000)), 'range spanning a chunk boundary')
  const b = await collect(bucket.openDownloadStream(fileId, { start: SIZE - 10, end: SIZE }))
  t.ok(b.equals(data.subarray(SIZE - 10)), 'tail')
  const c = await collect(bucket.openDownloadStream(fileId, { start: 255 * 1024 * 3, end: 255 * 1024 * 4 }))
  t.ok(c.equals(data.subarray(255 * 1024 * 3, 255 * 1024 * 4)), 'exactly one chunk')
})

t.test('small and empty files', async (t) => {
  const small = bucket.openUploadStream('small.txt')
  await pipeline(Readable.from([Buffer.from('hello')]), small)
  t.equal((await collect(bucket.openDownloadStream(small.id))).toString(), 'hello')
  const empty = bucket.openUploadStream('empty.txt')
  await pipeline(Readable.from([]), empty)
  const e = await bucket.find({ _id: empty.id }).toArray()
  t.equal(e[0]?.length, 0)
  t.equal((await collect(bucket.openDownloadStream(empty.id))).length, 0)
  t.same((await bucket.find({}, { sort: { filename: 1 } }).toArray()).map((f) => f.filename), ['empty.txt', 'photo.bin', 'small.txt'])
})

t.test('delete removes the file and its chunks', async (t) => {
  await bucket.delete(fileId)
  t.equal((await bucket.find({ _id: fileId }).toArray()).length, 0)
  t.equal(await db.collection('attachments.chunks').countDocuments({ files_id: fileId }), 0)
  const err = await collect(bucket.openDownloadStream(fileId)).then(() => null, (e: unknown) => e) as any
  t.match(String(err?.message), /FileNotFound|not found/i, 'downloading a deleted file fails')
  const err2 = await bucket.delete(fileId).then(() => null, (e: unknown) => e)
  t.ok(err2, 'deleting twice fails')
})
