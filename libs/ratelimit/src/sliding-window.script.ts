/**
 * The sliding-log check, atomic in Redis (a script runs alone: no other command interleaves, so there is no
 * read-modify-write race between API processes). One call checks one or more buckets all-or-nothing.
 *
 * KEYS, per bucket i (1-based): KEYS[2i-1] = the log (sorted set: one member per counted request, score =
 * its time in ms), KEYS[2i] = the first-rejection marker (holds the app time until which further
 * rejections are not "first"; it is set on a rejection when absent or past, so one rejection per window
 * is reported — an atomic GET/SET in the same call, no extra round trip).
 * ARGV[1] = now (ms, from the app's Clock), ARGV[2] = this request's unique member, ARGV[3] = how long a
 * lease may be spent (ms); per bucket i: ARGV[3i+1] = limit, ARGV[3i+2] = window (ms), ARGV[3i+3] = how
 * many requests to count: 0 to only check, 1 for this request, k > 1 to lease k (quota-lease.ts).
 *
 * A request at time t counts while now - window < t, i.e. it ages out at exactly t + window. A leased slot
 * is counted at now + lease lifetime, the latest moment it can be spent, so it never ages out before the
 * request that spends it would have: leases cannot let more than the limit through in any window.
 * Refused requests are never logged, so a log holds at most `limit` members whatever a client sends.
 *
 * Reply: { blocked, first, count1, resetAt1, granted1, count2, … } where blocked = the index of the first
 * bucket without room (0 = allowed), first = 1 when this rejection (re)set the bucket's marker (the first
 * one within a window: audited), count = requests in the window after this call, resetAt = when the
 * (count - limit)-th oldest request ages out, i.e. when one more request will fit (0 = empty log),
 * granted = how many requests this call counted in the bucket (≤ the ask: never past the limit).
 */
export const SLIDING_WINDOW_LUA = `
local now = tonumber(ARGV[1])
local member = ARGV[2]
local leaseMs = tonumber(ARGV[3])
local n = #KEYS / 2
local counts = {}
local granted = {}
local blocked = 0
for i = 1, n do
  local log = KEYS[2 * i - 1]
  local limit = tonumber(ARGV[3 * i + 1])
  local window = tonumber(ARGV[3 * i + 2])
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
  local count = redis.call('ZCARD', log)
  counts[i] = count
  granted[i] = 0
  if blocked == 0 and count >= limit then
    blocked = i
  end
end
local first = 0
if blocked == 0 then
  for i = 1, n do
    local ask = tonumber(ARGV[3 * i + 3])
    if ask > 0 then
      local log = KEYS[2 * i - 1]
      local window = tonumber(ARGV[3 * i + 2])
      if ask == 1 then
        redis.call('ZADD', log, now, member)
        redis.call('PEXPIRE', log, window)
        granted[i] = 1
      else
        local room = tonumber(ARGV[3 * i + 1]) - counts[i]
        if ask > room then
          ask = room
        end
        for j = 1, ask do
          redis.call('ZADD', log, now + leaseMs, member .. '.' .. j)
        end
        redis.call('PEXPIRE', log, window + leaseMs)
        granted[i] = ask
      end
      counts[i] = counts[i] + granted[i]
    end
  end
else
  local window = tonumber(ARGV[3 * blocked + 2])
  local quietUntil = tonumber(redis.call('GET', KEYS[2 * blocked]) or '0')
  if quietUntil <= now then
    redis.call('SET', KEYS[2 * blocked], now + window, 'PX', window)
    first = 1
  end
end
local reply = { blocked, first }
for i = 1, n do
  local limit = tonumber(ARGV[3 * i + 1])
  local window = tonumber(ARGV[3 * i + 2])
  local resetAt = 0
  if counts[i] > 0 then
    local index = counts[i] - limit
    if index < 0 then
      index = 0
    end
    local entry = redis.call('ZRANGE', KEYS[2 * i - 1], index, index, 'WITHSCORES')
    if entry[2] then
      resetAt = tonumber(entry[2]) + window
    end
  end
  reply[#reply + 1] = counts[i]
  reply[#reply + 1] = resetAt
  reply[#reply + 1] = granted[i]
end
return reply
`;

/** The ioredis command name the script is defined under (EVALSHA, EVAL on NOSCRIPT). */
export const SLIDING_WINDOW_COMMAND = 'agentauthSlidingWindow';
