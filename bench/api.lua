-- wrk script for bench/pg: POST /api/v1/messages, the same small SMS to a
-- demo patient again and again, closed loop.
--
--   wrk -t THREADS ... -s bench/api.lua URL -- API_KEY
--
-- Every request queues a new message (no Idempotency-Key), so each one is
-- validated, routed and committed with its status event; the outbox then
-- sends it at [sim] rate. done() prints the same BENCH line as
-- bench/ingest.lua (sent and pool are 0 here).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  if not args[1] then
    error("usage: -- API_KEY")
  end
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"to":"+61491570156","text":"bench/pg: your appointment ' ..
    'is at 10:30 tomorrow"}'
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d non2xx=%d connect_err=%d read_err=%d write_err=%d " ..
    "timeouts=%d duration_s=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d " ..
    "max_us=%d sent=0 pool=0\n",
    summary.requests, e.status, e.connect, e.read, e.write, e.timeout, secs,
    summary.requests / secs, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
