-- wrk script for bench/ingest.
--
--   wrk ... -s bench/ingest.lua URL -- REQUESTS_FILE THREADS
--
-- REQUESTS_FILE comes from bench/gen_requests.py: one request a line,
-- "<X-Sim-Signature>\t<JSON body>". Each wrk thread keeps the lines whose
-- index modulo THREADS is its own number, formats them once in init() and
-- cycles through them in request(), so threads never send the same id.
-- done() prints one parseable line:
--   BENCH requests=.. non2xx=.. ... p50_us=.. p99_us=.. sent=.. pool=..
-- where sent is the number of requests the threads built and pool the number
-- of distinct requests they had; sent > pool means some ids were repeated.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- Per-thread state (each thread has its own Lua environment).
local reqs = {}
local n, i = 0, 0
sent, pool = 0, 0

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  if not file or not nthreads then
    error("usage: -- REQUESTS_FILE THREADS")
  end
  local me, k = thread_id or 0, 0
  for line in io.lines(file) do
    if k % nthreads == me then
      local tab = line:find("\t", 1, true)
      if tab then
        n = n + 1
        reqs[n] = wrk.format("POST", nil, {
          ["Content-Type"] = "application/json",
          ["X-Sim-Signature"] = line:sub(1, tab - 1),
        }, line:sub(tab + 1))
      end
    end
    k = k + 1
  end
  if n == 0 then
    error("no requests for thread " .. me .. " in " .. file)
  end
  pool = n
end

function request()
  i = i + 1
  if i > n then
    i = 1
  end
  sent = sent + 1
  return reqs[i]
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
