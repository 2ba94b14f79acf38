-- wrk script for bench/ingest.
--
--   wrk -t THREADS ... -s bench/ingest.lua URL -- REQUESTS_PREFIX
--
-- bench/gen_requests.py --threads THREADS writes REQUESTS_PREFIX.<k>, one
-- file per wrk thread, each a run of complete HTTP requests of equal length
-- (signed sim webhooks, every one with its own carrier message id). Thread k
-- maps its file in init() and cycles through its requests in request(), so
-- threads never send the same id. init() must stay cheap: wrk runs each
-- thread's init() on its main thread while the threads created before it
-- are already sending, and only then starts the clock, so a slow init()
-- inflates requests/s.
--
-- done() prints one parseable line:
--   BENCH requests=.. non2xx=.. ... p50_us=.. p99_us=.. sent=.. pool=..
-- non2xx is wrk's count of statuses > 399; sent is the number of requests
-- the threads built and pool the number of distinct ones they had, so
-- sent > pool means some carrier ids were sent twice.

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
]]
local O_RDONLY, PROT_READ, MAP_PRIVATE = 0, 1, 2

-- Per-thread state (each thread has its own Lua environment): the mapped
-- file, its size, the length of one request and the next one's offset.
local base, size, len, off = nil, 0, 0, 0
sent, pool = 0, 0

-- Maps the file rather than reading it: init() then costs next to nothing
-- whatever the file's size, and the pages are in the page cache already.
function init(args)
  if not args[1] then
    error("usage: -- REQUESTS_PREFIX")
  end
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
