/**
 * The sliding-log check, atomic in Redis (a script runs alone: no other command interleaves, so there is no
 * read-modify-write race between API processes). One call checks one or more buckets all-or-nothing.
 *
 * KEYS, per bucket i (1-based): KEYS[2i-1] = the log (sorted set: one member per counted request, score =
 * its time in ms), KEYS[2i] = the first-rejection marker (holds the app time until which further
 * rejections are not "first"; it is set on a rejection when absent or past, so one rejection per window
 * is reported — an atomic GET/SET in the same call, no extra round trip).
 * ARGV[1] = now (ms, from the app's Clock), ARGV[2] = this request's unique member; per bucket i:
 * ARGV[3i] = limit, ARGV[3i+1] = window (ms), ARGV[3i+2] = 1 to count the request, 0 to only check.
 *
 * A request at time t counts while now - window < t, i.e. it ages out at exactly t + window.
 * Refused requests are never logged, so a log holds at most `limit` members whatever a client sends.
 *
 * Reply: { blocked, first, count1, resetAt1, count2, resetAt2, … } where blocked = the index of the first
 * bucket without room (0 = allowed), first = 1 when this rejection (re)set the bucket's marker (the first
 * one within a window: audited), count = requests in the window after this call, resetAt = when the
 * (count - limit)-th oldest request ages out, i.e. when one more request will fit (0 = empty log).
 */
export const SLIDING_WINDOW_LUA = `
local now = tonumber(ARGV[1])
local member = ARGV[2]
local n = #KEYS / 2
local counts = {}
local blocked = 0
for i = 1, n do
  local log = KEYS[2 * i - 1]
  local limit = tonumber(ARGV[3 * i])
  local window = tonumber(ARGV[3 * i + 1])
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
  local count = redis.call('ZCARD', log)
  counts[i] = count
  if blocked == 0 and count >= limit then
    blocked = i
  end
end
local first = 0
if blocked == 0 then
  for i = 1, n do
    if ARGV[3 * i + 2] == '1' then
      local log = KEYS[2 * i - 1]
      redis.call('ZADD', log, now, member)
      redis.call('PEXPIRE', log, tonumber(ARGV[3 * i + 1]))
      counts[i] = counts[i] + 1
    end
  end
else
  local window = tonumber(ARGV[3 * blocked + 1])
  local quietUntil = tonumber(redis.call('GET', KEYS[2 * blocked]) or '0')
  if quietUntil <= now then
    redis.call('SET', KEYS[2 * blocked], now + window, 'PX', window)
    first = 1
  end
end
local reply = { blocked, first }
for i = 1, n do
  local limit = tonumber(ARGV[3 * i])
  local window = tonumber(ARGV[3 * i + 1])
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
end
return reply
`;

/** The ioredis command name the script is defined under (EVALSHA, EVAL on NOSCRIPT). */
export const SLIDING_WINDOW_COMMAND = 'agentauthSlidingWindow';
