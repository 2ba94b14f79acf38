-- wrk script for bench/ingest.
--
--   wrk -t THREADS ... -s bench/ingest.lua URL -- REQUESTS_PREFIX
--
-- bench/gen_requests.py --threads THREADS writes REQUESTS_PREFIX.<k>, one
-- file per wrk thread, each a run of complete HTTP requests of equal length
-- (signed sim webhooks, every one with its own carrier message id). Thread k
-- reads its file in init() and cycles through its requests in request(), so
-- threads never send the same id. init() is kept cheap on purpose: wrk
-- runs each thread's init() on its main thread while the threads created
-- before it are already sending, and before it starts the clock.
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

-- Per-thread state (each thread has its own Lua environment): the file,
-- the length of one request, the number of requests and the next one's
-- offset.
local data, len, n, off = nil, 0, 0, 1
sent, pool = 0, 0

function init(args)
  if not args[1] then
    error("usage: -- REQUESTS_PREFIX")
  end
  local path = args[1] .. "." .. (thread_id or 0)
  local f = assert(io.open(path, "rb"))
  data = f:read("*a")
  f:close()
  local hend = data:find("\r\n\r\n", 1, true)
  local clen = hend and tonumber(data:sub(1, hend + 1):match(
    "\r\nContent%-Length: (%d+)\r\n"))
  if not clen then
    error(path .. ": does not start with an HTTP request")
  end
  len = hend + 3 + clen
  if #data % len ~= 0 then
    error(path .. ": requests are not all " .. len .. " bytes")
  end
  n = #data / len
  pool = n
end

function request()
  if off > #data then
    off = 1
  end
  local r = data:sub(off, off + len - 1)
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
