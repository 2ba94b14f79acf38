-- wrk script for bench/webhooks: bench/ingest.lua's requests, at a set rate.
--
--   wrk -t THREADS ... -s bench/webhooks.lua URL -- PREFIX RATE THREADS
--
-- PREFIX.<k> are the files of bench/gen_requests.py --threads THREADS, as
-- for bench/ingest.lua. RATE is the total requests per second over all
-- threads. Each thread sends RATE/THREADS a second on a fixed schedule:
-- delay() gives every request the next slot, one interval after the
-- previous one, and holds the connection until then. A request whose slot
-- has passed (the server is behind and every connection is busy) goes at
-- once, so the schedule is kept on average while the connections last;
-- when they run out the rate drops, and done() shows what was reached.
-- Connections must outnumber the requests in flight: RATE times the
-- latency, per thread.
--
-- done() prints the same BENCH line as bench/ingest.lua.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local ffi = require("ffi")
ffi.cdef [[
int open(const char *path, int flags);
int close(int fd);
void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off);
struct lb_timespec { long tv_sec; long tv_nsec; };
int clock_gettime(int clk, struct lb_timespec *ts);
]]
local O_RDONLY, PROT_READ, MAP_PRIVATE, CLOCK_MONOTONIC = 0, 1, 2, 1
local ts = ffi.new("struct lb_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local base, size, len, off = nil, 0, 0, 0
local interval, next_slot = 0, nil
sent, pool = 0, 0

function init(args)
  -- init() is not told how many threads there are: THREADS comes third.
  local rate, nthreads = tonumber(args[2] or ""), tonumber(args[3] or "")
  if not args[1] or not rate or rate <= 0 or not nthreads then
    error("usage: -- REQUESTS_PREFIX RATE THREADS")
  end
  interval = 1000 * nthreads / rate
  local path = args[1] .. "." .. (thread_id or 0)
  local f = assert(io.open(path, "rb"))
  size = f:seek("end")
  f:close()
  local fd = ffi.C.open(path, O_RDONLY)
  if fd < 0 or size == 0 then
    error(path .. ": cannot open, or empty")
  end
  local p = ffi.C.mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
  ffi.C.close(fd)
  if ffi.cast("intptr_t", p) == -1 then
    error(path .. ": mmap failed")
  end
  base = ffi.cast("const char *", p)
  local head = ffi.string(base, math.min(size, 4096))
  local hend = head:find("\r\n\r\n", 1, true)
  local clen = hend and tonumber(head:sub(1, hend + 1):match(
    "\r\nContent%-Length: (%d+)\r\n"))
  if not clen then
    error(path .. ": does not start with an HTTP request")
  end
  len = hend + 3 + clen
  if size % len ~= 0 then
    error(path .. ": requests are not all " .. len .. " bytes")
  end
  pool = size / len
end

function delay()
  local now = now_ms()
  if not next_slot then
    next_slot = now
  end
  local slot = next_slot
  next_slot = next_slot + interval
  if slot <= now then
    return 0
  end
  return math.floor(slot - now + 0.5)
end

function request()
  if off >= size then
    off = 0
  end
  local r = ffi.string(base + off, len)
  off = off + len
  sent = sent + 1
  return r
end

function done(summary, latency, requests)
  local sent_all, pool_all = 0, 0
  for _, t in ipairs(threads) do
    sent_all = sent_all + (t:get("sent") or 0)
    pool_all = pool_all + (t:get("pool") or 0)
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d non2xx=%d connect_err=%d read_err=%d write_err=%d " ..
    "timeouts=%d duration_s=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d " ..
    "max_us=%d sent=%d pool=%d\n",
    summary.requests, e.status, e.connect, e.read, e.write, e.timeout, secs,
    summary.requests / secs, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, sent_all, pool_all))
end
