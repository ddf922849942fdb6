/**
 * `npm run bench:groups`: fan-out into one group conversation, Parley against a bare Socket.IO room broadcast, in one run.
 *  - Parley: the real app (buildApp, bench-common's startBenchApp) on the embedded engine with a temporary durable
 *    DATA_DIR; N users registered and logged in over REST (in parallel batches), then user 0 creates the group
 *    (`POST /api/conversations {type: 'group', name, memberIds}`) and adds the rest (`POST /api/conversations/:id/members`,
 *    at most 100 ids a call). Every member's socket connects; the first S members send `chat_message
 *    {conversationId, body, clientMsgId}` and every other member receives `re_message` (stored, seq'd, acked).
 *  - Bare: the realtime benchmark's relay (bench-common's startRelayServer): every socket joins one room, each
 *    message is broadcast to the room except the sender, then acked (no auth, no validation, no storage).
 * The same client code (bench-realtime-clients.ts, in a child process so the clients do not share the servers'
 * loop) and the same ~100-byte bodies drive both, with the same N sockets, in two phases: throughput (each sender
 * keeps --window messages in flight) and latency at --rate messages/s offered in total. Deliveries are counted at
 * the receivers; each member must get every acked message exactly once (lost and duplicate deliveries are counted).
 *
 * Options: --members N (500), --senders S (5), --seconds per phase (10), --rate msgs/s in total for the latency
 * phase (20, i.e. 20 × (N − 1) deliveries/s), --window in flight per sender for the throughput phase (10, as `npm run
 * bench`). Parley stores each flush of messages at a fixed cost, so a small window (few messages in flight) costs
 * it more per delivery than the bare broadcast: try --window 2 beside the default.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { GroupPhaseResult } from './bench-realtime-clients.js'
import { childClients, fmt, option, processCpu, startBenchApp, startRelayServer } from './bench-common.js'

const MEMBERS = Number(option('members', '500'))
const SENDERS = Number(option('senders', '5'))
const SECONDS = Number(option('seconds', '10'))
const RATE = Number(option('rate', '20'))
const WINDOW = Number(option('window', '10'))
/** Members per add call: the API's limit. */
const BATCH = 100
/** Registrations (register + login) in flight at once. */
const REGISTER_CONCURRENCY = 25
const AIM = 0.8

if (!(MEMBERS >= 2 && SENDERS >= 1 && SENDERS <= MEMBERS && SECONDS > 0 && RATE > 0 && WINDOW >= 1)) {
  console.error('need --members >= 2, 1 <= --senders <= members, --seconds > 0, --rate > 0, --window >= 1')
  process.exit(2)
}

interface Target {
  label: string
  url: string
  conversationId: string
  tokens: string[]
  close: () => Promise<void>
}

/** The group API does not answer as specified (it may not be built yet): main prints this and exits 1. */
class NoGroupApi extends Error {
  constructor (what: string, status: number, body: string) {
    super(`The group API is not there: ${what} answered ${status} ${body.slice(0, 300)}\n` +
      'bench:groups needs POST /api/conversations {type: "group", name, memberIds} (201) and POST /api/conversations/:id/members {userIds}.')
  }
}

async function startParley (): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-groups-'))
  const { app, url, user } = await startBenchApp(dataDir, { GROUP_MAX_MEMBERS: String(Math.max(1000, MEMBERS)) })
  const close = async (): Promise<void> => {
    await app.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    const started = performance.now()
    const users: Array<{ id: string, token: string }> = new Array(MEMBERS)
    let next = 0
    await Promise.all(Array.from({ length: REGISTER_CONCURRENCY }, async () => {
      while (next < MEMBERS) {
        const i = next++
        users[i] = await user(`member${i}`)
      }
    }))
    const owner = { authorization: `Bearer ${users[0].token}` }
    const others = users.slice(1).map(u => u.id)
    const created = await app.inject({
      method: 'POST', url: '/api/conversations', headers: owner, payload: { type: 'group', name: 'bench', memberIds: others.slice(0, BATCH) }
    })
    if (created.statusCode !== 201) throw new NoGroupApi('POST /api/conversations', created.statusCode, created.body)
    const conversationId: string = created.json().id
    let members: number = created.json().members?.length ?? 0
    for (let at = BATCH; at < others.length; at += BATCH) {
      const added = await app.inject({
        method: 'POST', url: `/api/conversations/${conversationId}/members`, headers: owner, payload: { userIds: others.slice(at, at + BATCH) }
      })
      if (added.statusCode !== 200 && added.statusCode !== 201) throw new NoGroupApi(`POST /api/conversations/${conversationId}/members`, added.statusCode, added.body)
      members = added.json().members?.length ?? members
    }
    if (members !== MEMBERS) throw new Error(`the group has ${members} members, not ${MEMBERS}`)
    console.log(`parley: ${MEMBERS} users registered and logged in, group ${conversationId} with ${members} members, in ${fmt((performance.now() - started) / 1000)} s`)
    return { label: 'parley', url, conversationId, tokens: users.map(u => u.token), close }
  } catch (error) {
    await close()
    throw error
  }
}

async function startBare (): Promise<Target> {
  const relay = await startRelayServer()
  return { label: 'bare', url: relay.url, conversationId: 'group', tokens: new Array<string>(MEMBERS).fill('none'), close: relay.close }
}

/** serverCpu / clientCpu: CPU time (user + system) per delivery in the throughput phase, µs. */
interface Results { throughput: GroupPhaseResult, latency: GroupPhaseResult, serverCpu: number, clientCpu: number }

async function measure (target: Target, load: ReturnType<typeof childClients>): Promise<Results> {
  const connectStart = performance.now()
  const opened = await load.openGroup({ label: target.label, url: target.url, conversationId: target.conversationId, tokens: target.tokens, senders: SENDERS })
  console.log(`--- ${target.label}: ${opened} sockets connected in ${fmt((performance.now() - connectStart) / 1000)} s`)
  try {
    console.log(`--- ${target.label}: throughput, ${SENDERS} senders, window ${WINDOW} per sender, ${SECONDS} s`)
    const cpuBefore = process.cpuUsage()
    const clientBefore = processCpu(load.pid)
    const throughput = await load.groupThroughput()
    const cpu = process.cpuUsage(cpuBefore)
    const deliveries = Math.max(1, throughput.deliveries)
    // Both include the drain after the window (its deliveries are not counted): a slight overestimate, the same for both servers.
    const serverCpu = (cpu.user + cpu.system) / deliveries
    const clientCpu = (processCpu(load.pid) - clientBefore) / deliveries
    console.log(`--- ${target.label}: latency at ${RATE} msgs/s offered (${fmt(RATE * (MEMBERS - 1), 0)} deliveries/s), ${SECONDS} s (+1 s warm-up)`)
    const latency = await load.groupLatency()
    return { throughput, latency, serverCpu, clientCpu }
  } finally {
    await load.closeGroup()
  }
}

async function main (): Promise<void> {
  const started = performance.now()
  const load = childClients({ seconds: SECONDS, window: WINDOW, rate: RATE })
  console.log(`group of ${MEMBERS} members, ${SENDERS} senders; clients in a child process; load average before: ${loadavg().map(v => v.toFixed(2)).join(' ')}`)
  const results: Record<string, Results> = {}
  try {
    // Parley first: if the group API is missing, nothing else runs.
    for (const start of [startParley, startBare]) {
      const target = await start()
      try {
        results[target.label] = await measure(target, load)
      } finally {
        await target.close()
      }
    }
  } finally {
    load.close()
  }
  const { parley, bare } = results
  const ratio = parley.throughput.perSecond / bare.throughput.perSecond
  const row = (name: string, value: (r: Results) => string, ratioOf?: (r: Results) => number): void => {
    const r = ratioOf !== undefined ? fmt(ratioOf(parley) / ratioOf(bare), 2) : ''
    console.log(`| ${name} | ${value(parley)} | ${value(bare)} | ${r} |`)
  }
  const codes = (phase: GroupPhaseResult): string => Object.entries(phase.errorCodes).map(([code, n]) => `${code} ${n}`).join(', ') || 'none'
  console.log('')
  console.log(`load average after: ${loadavg().map(v => v.toFixed(2)).join(' ')}; whole run ${fmt((performance.now() - started) / 1000)} s`)
  console.log(`| measurement (${MEMBERS} members, ${SENDERS} senders) | Parley | bare broadcast | Parley/bare |`)
  console.log('|---|---|---|---|')
  row(`throughput, deliveries/s (window ${WINDOW} per sender)`, r => fmt(r.throughput.perSecond, 0), r => r.throughput.perSecond)
  row('throughput, messages sent / acked', r => `${r.throughput.sent} / ${r.throughput.acked}`)
  row('throughput, latency p50 / p99, ms', r => `${fmt(r.throughput.p50, 1)} / ${fmt(r.throughput.p99, 1)}`)
  row(`latency p50 at ${RATE} msgs/s (${fmt(RATE * (MEMBERS - 1), 0)} deliveries/s), ms`, r => fmt(r.latency.p50, 2), r => r.latency.p50)
  row(`latency p99 at ${RATE} msgs/s, ms`, r => fmt(r.latency.p99, 2), r => r.latency.p99)
  row(`latency max at ${RATE} msgs/s, ms`, r => fmt(r.latency.max, 2), r => r.latency.max)
  row('latency phase, deliveries/s achieved', r => fmt(r.latency.perSecond, 0))
  row('lost / duplicate deliveries (throughput; latency)', r => `${r.throughput.lost} / ${r.throughput.duplicates}; ${r.latency.lost} / ${r.latency.duplicates}`)
  row('failed acks by code (throughput; latency)', r => `${codes(r.throughput)}; ${codes(r.latency)}`)
  row('server CPU per delivery (throughput phase), µs', r => fmt(r.serverCpu, 2), r => r.serverCpu)
  row('clients\' CPU per delivery (throughput phase), µs', r => fmt(r.clientCpu, 2), r => r.clientCpu)
  console.log('')
  const exact = [parley, bare].every(r => [r.throughput, r.latency].every(p => p.lost === 0 && p.duplicates === 0))
  console.log(`every member got every acked message exactly once: ${exact ? 'yes' : 'NO'}`)
  console.log(`aim: Parley deliveries/s >= ${AIM}x the bare broadcast: ${ratio >= AIM ? 'met' : 'NOT met'} (${fmt(ratio, 2)}x)`)
}

main().catch(error => {
  console.error(error instanceof NoGroupApi ? error.message : error)
  process.exit(1)
})
