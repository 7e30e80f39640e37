/**
 * Issue #7: the live counters of the §4.3b/§4.10 limits shared by several SIP nodes in
 * Redis (E2P_REDIS_URL). Each operation is ONE Lua script, atomic in Redis: `admit` reads
 * the client's live calls, the user's attempts of the sliding minute and the spend of the
 * sliding hour, records the attempt and takes the slot — one round trip, so two nodes can
 * never both take the last slot. The same arithmetic as the in-memory store
 * (admission-store.ts, limits.ts: whole seconds rounded up × µ€/min ÷ 60, rounded up).
 *
 * Keys (under a prefix, `e2p:policy:` by default): `live:<client>` (sorted set admission →
 * start ms), `att:<client>:<user>` (attempt → ms, expires after the minute),
 * `spend:<client>` (hash admission → "started,answered,rate,ended"), `adm:<admission>`
 * (client, start, rate, node, answered, ended), `node:<node>` (the node's live admissions),
 * `spendclients`. Keys are computed inside the scripts: one Redis server (or a primary with
 * replicas), not a Redis Cluster.
 *
 * A node that dies leaves its admissions behind. Each node refreshes `alive:<node>` (TTL
 * 30 s) every 5 s; the minute sweep of every node drops the admissions of the nodes whose
 * key lapsed (`reapDeadNodes`); at start a node drops its own (`recoverNode`, like the CDR
 * crash recovery: give each node its own E2P_SIP_NODE_ID); and any admission stops
 * counting after the maximum call duration (4 h, §4.10 — as a lost `ended` does).
 */
import { Redis } from 'ioredis';
import type { AdmissionStore, EndedCall } from './admission-store.ts';
import { ATTEMPT_WINDOW_MS, MAX_CALL_MS, SPEND_WINDOW_MS } from './limits.ts';

const COMMON = `
local MAXCALL = ${MAX_CALL_MS}
local HOUR = ${SPEND_WINDOW_MS}
local function spendOf(p, c, now, reset)
  local from = math.max(now - HOUR, reset)
  local key = p .. 'spend:' .. c
  local all = redis.call('HGETALL', key)
  local total = 0
  for i = 1, #all, 2 do
    local started, answered, rate, ended = string.match(all[i + 1], '^(%d+),(%d+),(%d+),(%d*)$')
    started = tonumber(started); answered = tonumber(answered); rate = tonumber(rate)
    local e = nil
    if ended ~= '' then e = tonumber(ended) elseif started + MAXCALL < now then e = started + MAXCALL end
    if e ~= nil and e <= now - HOUR then
      redis.call('HDEL', key, all[i])
    else
      local s = math.max(answered, from)
      local en = now
      if e ~= nil and e < now then en = e end
      if en > s then
        total = total + math.floor((math.ceil((en - s) / 1000) * rate + 59) / 60)
      end
    end
  end
  return total
end
`;

const ADMIT = `${COMMON}
local p, id, c, u = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now = tonumber(ARGV[5])
local check, barred, slot, rate = ARGV[6] == '1', ARGV[7] == '1', ARGV[8] == '1', ARGV[9]
local maxConc, maxAtt, maxSpend, reset = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local node = ARGV[14]
local liveKey = p .. 'live:' .. c
redis.call('ZREMRANGEBYSCORE', liveKey, '-inf', '(' .. (now - MAXCALL))
local live = redis.call('ZCARD', liveKey)
local attempts = 0
if u ~= '' then
  local ak = p .. 'att:' .. c .. ':' .. u
  redis.call('ZREMRANGEBYSCORE', ak, '-inf', now - ${ATTEMPT_WINDOW_MS})
  attempts = redis.call('ZCOUNT', ak, '(' .. math.max(now - ${ATTEMPT_WINDOW_MS}, reset), '+inf')
  redis.call('ZADD', ak, now, id)
  redis.call('PEXPIRE', ak, ${ATTEMPT_WINDOW_MS + 1000})
end
local sp = 0
if check then sp = spendOf(p, c, now, reset) end
local admitted = not barred and not (check and (attempts + 1 > maxAtt or sp > maxSpend))
if admitted and slot then
  if check and live + 1 > maxConc then
    admitted = false
  else
    redis.call('ZADD', liveKey, now, id)
    redis.call('PEXPIRE', liveKey, MAXCALL)
    redis.call('HSET', p .. 'adm:' .. id, 'c', c, 's', ARGV[5], 'r', rate, 'n', node)
    redis.call('PEXPIRE', p .. 'adm:' .. id, MAXCALL)
    redis.call('SADD', p .. 'node:' .. node, id)
  end
end
return {admitted and 1 or 0, live, attempts, sp}
`;

const RELEASE = `
local p, id = ARGV[1], ARGV[2]
local v = redis.call('HMGET', p .. 'adm:' .. id, 'c', 'n')
if v[1] then
  redis.call('ZREM', p .. 'live:' .. v[1], id)
  redis.call('SREM', p .. 'node:' .. v[2], id)
  redis.call('DEL', p .. 'adm:' .. id)
end
return 1
`;

const ANSWERED = `
local p, id, at = ARGV[1], ARGV[2], ARGV[3]
local k = p .. 'adm:' .. id
local v = redis.call('HMGET', k, 'c', 's', 'r', 'a', 'e')
if v[1] and not v[4] and not v[5] then
  redis.call('HSET', k, 'a', at)
  if v[3] ~= '' then
    redis.call('HSET', p .. 'spend:' .. v[1], id, v[2] .. ',' .. at .. ',' .. v[3] .. ',')
    redis.call('PEXPIRE', p .. 'spend:' .. v[1], ${MAX_CALL_MS + SPEND_WINDOW_MS})
    redis.call('SADD', p .. 'spendclients', v[1])
  end
end
return 1
`;

const ENDED = `
local p, id, at = ARGV[1], ARGV[2], ARGV[3]
local k = p .. 'adm:' .. id
local v = redis.call('HMGET', k, 'c', 's', 'r', 'a', 'e', 'n')
if not v[1] or v[5] then return false end
redis.call('HSET', k, 'e', at)
redis.call('PEXPIRE', k, ${SPEND_WINDOW_MS})
redis.call('ZREM', p .. 'live:' .. v[1], id)
redis.call('SREM', p .. 'node:' .. v[6], id)
local spent = 0
if v[3] ~= '' and v[4] then
  redis.call('HSET', p .. 'spend:' .. v[1], id, v[2] .. ',' .. v[4] .. ',' .. v[3] .. ',' .. at)
  spent = 1
end
return {v[1], spent}
`;

const SPEND = `${COMMON}
return spendOf(ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
`;

/** Clients with an answered spend call not ended (and not older than the maximum call). */
const LIVE_SPEND = `${COMMON}
local p, now = ARGV[1], tonumber(ARGV[2])
local out = {}
for _, c in ipairs(redis.call('SMEMBERS', p .. 'spendclients')) do
  local all = redis.call('HGETALL', p .. 'spend:' .. c)
  local live = false
  for i = 2, #all, 2 do
    local started, ended = string.match(all[i], '^(%d+),%d+,%d+,(%d*)$')
    if ended == '' and tonumber(started) + MAXCALL >= now then live = true end
  end
  if live then table.insert(out, c) elseif #all == 0 then redis.call('SREM', p .. 'spendclients', c) end
end
return out
`;

/** Drops a node's admissions (those calls are gone; their spend stops now). */
const DROP_NODE = `
local function dropNode(p, node, now)
  local ids = redis.call('SMEMBERS', p .. 'node:' .. node)
  for _, id in ipairs(ids) do
    local v = redis.call('HMGET', p .. 'adm:' .. id, 'c', 's', 'r', 'a', 'e')
    if v[1] then
      redis.call('ZREM', p .. 'live:' .. v[1], id)
      if v[3] ~= '' and v[4] and not v[5] then
        redis.call('HSET', p .. 'spend:' .. v[1], id, v[2] .. ',' .. v[4] .. ',' .. v[3] .. ',' .. now)
      end
      redis.call('DEL', p .. 'adm:' .. id)
    end
  end
  redis.call('DEL', p .. 'node:' .. node)
  return #ids
end
`;

/** At start: what a previous run of this node left. */
const RECOVER = `${DROP_NODE}
return dropNode(ARGV[1], ARGV[2], ARGV[3])
`;

/** This node is alive for ARGV[3] ms more. */
const HEARTBEAT = `
redis.call('SET', ARGV[1] .. 'alive:' .. ARGV[2], '1', 'PX', ARGV[3])
redis.call('SADD', ARGV[1] .. 'nodes', ARGV[2])
return 1
`;

/** Every node whose heartbeat lapsed: its admissions are dropped (a node that died). */
const REAP = `${DROP_NODE}
local p, now = ARGV[1], ARGV[2]
local dropped = 0
for _, node in ipairs(redis.call('SMEMBERS', p .. 'nodes')) do
  if redis.call('EXISTS', p .. 'alive:' .. node) == 0 then
    dropped = dropped + dropNode(p, node, now)
    redis.call('SREM', p .. 'nodes', node)
  end
end
return dropped
`;

type Script = (...args: (string | number)[]) => Promise<unknown>;

export interface RedisAdmissionStore extends AdmissionStore {
  /** Drops what a previous run of this node left (call once at start); returns how many admissions. */
  recoverNode(atMs: number): Promise<number>;
  /** Drops the admissions of every node whose heartbeat lapsed (the minute sweep calls it); returns how many. */
  reapDeadNodes(atMs: number): Promise<number>;
  /** Stops this node's heartbeat (tests: a node that dies). */
  stopHeartbeat(): void;
}

export interface RedisAdmissionOptions {
  url: string;
  /** This SIP node (E2P_SIP_NODE_ID). */
  nodeId: string;
  /** Key prefix (tests use their own). */
  prefix?: string;
  /** The node says it is alive every `heartbeatMs` (5 s) for `aliveMs` (30 s): past that, other nodes drop its admissions. */
  heartbeatMs?: number;
  aliveMs?: number;
}

export function redisAdmissionStore(o: RedisAdmissionOptions): RedisAdmissionStore {
  const redis = new Redis(o.url, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
  const p = o.prefix ?? 'e2p:policy:';
  const scripts = { ADMIT, RELEASE, ANSWERED, ENDED, SPEND, LIVE_SPEND, RECOVER, HEARTBEAT, REAP };
  for (const [name, lua] of Object.entries(scripts)) redis.defineCommand(`e2p${name}`, { numberOfKeys: 0, lua });
  const run = (name: keyof typeof scripts): Script => {
    const fn = (redis as unknown as Record<string, Script>)[`e2p${name}`]!;
    return fn.bind(redis);
  };
  const admit = run('ADMIT');
  const release = run('RELEASE');
  const answered = run('ANSWERED');
  const ended = run('ENDED');
  const spend = run('SPEND');
  const liveSpend = run('LIVE_SPEND');
  const recover = run('RECOVER');
  const heartbeat = run('HEARTBEAT');
  const reap = run('REAP');
  const aliveMs = o.aliveMs ?? 30_000;
  const beat = (): void => {
    heartbeat(p, o.nodeId, aliveMs).catch(() => undefined); // Redis away: admissions fail anyway
  };
  beat();
  const timer = setInterval(beat, o.heartbeatMs ?? 5_000);
  timer.unref();
  return {
    kind: 'redis',
    async admit(r) {
      const [ok, live, attempts, sp] = (await admit(
        p,
        r.id,
        r.clientId,
        r.userId ?? '',
        r.atMs,
        r.checkLimits ? '1' : '0',
        r.barred ? '1' : '0',
        r.occupiesSlot ? '1' : '0',
        r.spendRate === null ? '' : String(r.spendRate),
        r.maxConcurrent,
        r.maxAttempts,
        r.maxSpendMicros,
        r.resetMs,
        o.nodeId,
      )) as number[];
      return { admitted: ok === 1, liveOutboundCalls: live!, userAttemptsLastMinute: attempts!, spendMicrosLastHour: sp! };
    },
    async release(id) {
      await release(p, id);
    },
    async answered(id, atMs) {
      await answered(p, id, atMs);
    },
    async ended(id, atMs): Promise<EndedCall | null> {
      const v = (await ended(p, id, atMs)) as [string, number] | null;
      return v === null ? null : { clientId: v[0], spent: v[1] === 1 };
    },
    async spend(clientId, atMs, resetMs) {
      return Number(await spend(p, clientId, atMs, resetMs));
    },
    async liveSpendClients(atMs) {
      return (await liveSpend(p, atMs)) as string[];
    },
    async recoverNode(atMs) {
      return Number(await recover(p, o.nodeId, atMs));
    },
    async reapDeadNodes(atMs) {
      return Number(await reap(p, atMs));
    },
    stopHeartbeat: () => clearInterval(timer),
    async close() {
      clearInterval(timer);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
