/**
 * The Lua scripts behind RedisPresenceStore. Each runs atomically in Redis, so "first socket cluster-wide",
 * "last socket cluster-wide" and "this dead instance is reaped" are decided once, by one caller. Every online or
 * offline transition is published from inside the script on `parley:presence`, so instances receive them in the
 * order Redis applied them (their mirrors converge on the same state).
 *
 * Keys (standalone Redis; the scripts name keys they compute, which Redis Cluster would refuse):
 * - `parley:presence:user:<userId>`            hash: instanceId -> that instance's socket count for the user
 * - `parley:presence:online`                   set: users with at least one field
 * - `parley:presence:instances`                zset: instanceId -> its last heartbeat (Redis clock, ms)
 * - `parley:presence:instance:<id>:users`      set: users holding a field of that instance (what reaping walks)
 */

import type { Redis } from 'ioredis'

/** The channel transitions are published on: `cluster.subscribe('presence', ...)` hears it. */
export const PRESENCE_CHANNEL = 'parley:presence'

const COMMON = `
local prefix = 'parley:presence:'
local online_key = prefix .. 'online'
local instances_key = prefix .. 'instances'
local function now_ms ()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function users_key (id) return prefix .. 'instance:' .. id .. ':users' end
local function user_key (userId) return prefix .. 'user:' .. userId end
local function announce (userId, online)
  redis.call('PUBLISH', '${PRESENCE_CHANNEL}', cjson.encode({ userId = userId, online = online }))
end
-- Sets this instance's count for a user (0 removes the field). Returns 1 (came online), -1 (went offline) or 0.
local function set_count (id, userId, count)
  local key = user_key(userId)
  local existed = redis.call('EXISTS', key) == 1
  if count > 0 then
    redis.call('HSET', key, id, count)
    redis.call('SADD', users_key(id), userId)
    if existed then return 0 end
    redis.call('SADD', online_key, userId)
    announce(userId, true)
    return 1
  end
  redis.call('HDEL', key, id)
  redis.call('SREM', users_key(id), userId)
  if not existed or redis.call('EXISTS', key) == 1 then return 0 end
  redis.call('SREM', online_key, userId)
  announce(userId, false)
  return -1
end
-- Removes every field of an instance and unregisters it; returns the users that thereby went offline.
local function drop_instance (id)
  local offline = {}
  for _, userId in ipairs(redis.call('SMEMBERS', users_key(id))) do
    if set_count(id, userId, 0) == -1 then table.insert(offline, userId) end
  end
  redis.call('DEL', users_key(id))
  redis.call('ZREM', instances_key, id)
  return offline
end
`

/**
 * ARGV: instanceId, userId, count. Returns {transition, registered}: transition 1 / -1 / 0 as set_count;
 * registered 0 when the instance was missing from the registry (reaped while alive, or Redis lost its data): it
 * is registered again and the caller re-announces all its sockets.
 */
export const SET_COUNT = COMMON + `
local id = ARGV[1]
local registered = 1
if not redis.call('ZSCORE', instances_key, id) then
  registered = 0
  redis.call('ZADD', instances_key, now_ms(), id)
end
return { set_count(id, ARGV[2], tonumber(ARGV[3])), registered }
`

/** ARGV: instanceId. Refreshes the heartbeat; returns 0 (and registers nothing) when the instance is unknown. */
export const HEARTBEAT = COMMON + `
if not redis.call('ZSCORE', instances_key, ARGV[1]) then return 0 end
redis.call('ZADD', instances_key, now_ms(), ARGV[1])
return 1
`

/**
 * ARGV: instanceId, then userId, count pairs: this instance's whole state. Replaces its fields with exactly
 * these (fields of users no longer here are removed), registers it with a fresh heartbeat. Returns
 * {usersThatCameOnline, usersThatWentOffline}.
 */
export const SYNC = COMMON + `
local id = ARGV[1]
redis.call('ZADD', instances_key, now_ms(), id)
local wanted = {}
for i = 2, #ARGV, 2 do wanted[ARGV[i]] = tonumber(ARGV[i + 1]) end
local came, went = {}, {}
for _, userId in ipairs(redis.call('SMEMBERS', users_key(id))) do
  if wanted[userId] == nil and set_count(id, userId, 0) == -1 then table.insert(went, userId) end
end
for userId, count in pairs(wanted) do
  if set_count(id, userId, count) == 1 then table.insert(came, userId) end
end
return { came, went }
`

/** ARGV: instanceId. Graceful leave: every field of this instance goes; returns the users that went offline. */
export const LEAVE = COMMON + `
return drop_instance(ARGV[1])
`

/**
 * ARGV: the caller's instanceId, ttlMs, most instances per call. Reaps other instances whose heartbeat is older
 * than ttlMs (each is reaped by exactly one caller: the script is atomic and unregisters it; the caller never reaps
 * itself, its own heartbeat repairs a stale entry). Returns a flat list userId, lastHeartbeatMs of the users that
 * went offline.
 */
export const REAP = COMMON + `
local dead = redis.call('ZRANGEBYSCORE', instances_key, '-inf', now_ms() - tonumber(ARGV[2]), 'LIMIT', 0, tonumber(ARGV[3]) + 1)
local result = {}
for _, id in ipairs(dead) do
  if id ~= ARGV[1] then
    local last = redis.call('ZSCORE', instances_key, id)
    for _, userId in ipairs(drop_instance(id)) do
      table.insert(result, userId)
      table.insert(result, last)
    end
  end
end
return result
`

/** The scripts as typed calls on a client (defined once per client; ioredis falls back to EVAL after NOSCRIPT). */
export interface PresenceCommands {
  set: (instanceId: string, userId: string, count: number) => Promise<[number, number]>
  heartbeat: (instanceId: string) => Promise<number>
  /** `state`: userId, count pairs. */
  sync: (instanceId: string, state: string[]) => Promise<[string[], string[]]>
  leave: (instanceId: string) => Promise<string[]>
  reap: (instanceId: string, ttlMs: number, batch: number) => Promise<string[]>
}

const SCRIPTS = { set: SET_COUNT, heartbeat: HEARTBEAT, sync: SYNC, leave: LEAVE, reap: REAP }

export function presenceCommands (redis: Redis): PresenceCommands {
  const client = redis as unknown as Record<string, (...args: string[]) => Promise<any>>
  const call = (name: keyof typeof SCRIPTS): (...args: string[]) => Promise<any> => {
    const command = `parleyPresence${name[0].toUpperCase()}${name.slice(1)}`
    if (!(command in redis)) redis.defineCommand(command, { numberOfKeys: 0, lua: SCRIPTS[name] })
    return async (...args) => await client[command](...args)
  }
  const [set, heartbeat, sync, leave, reap] = (['set', 'heartbeat', 'sync', 'leave', 'reap'] as const).map(call)
  return {
    set: async (instanceId, userId, count) => await set(instanceId, userId, String(count)),
    heartbeat: async instanceId => await heartbeat(instanceId),
    sync: async (instanceId, state) => await sync(instanceId, ...state),
    leave: async instanceId => await leave(instanceId),
    reap: async (instanceId, ttlMs, batch) => await reap(instanceId, String(ttlMs), String(batch))
  }
}
