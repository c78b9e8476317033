-- wrk script for bench/ingest.py: every request POSTs a new order to /api/v1/orders.
--
-- Environment (set by ingest.py):
--   BENCH_TOKEN     bearer token of a user allowed to create orders
--   BENCH_BODY      the order as JSON, with {{NO}} where the channel order number goes
--   BENCH_PHASE     prefix of the channel order numbers, unique per wrk run on one database
--   BENCH_DELAY_MS  mean pause (ms) after each response on a connection, drawn from an exponential
--                   distribution so connections do not fall into step; 0 = as fast as possible
-- On exit one line "BENCH_RESULT {json}" goes to stdout (latencies in microseconds).

local token = assert(os.getenv("BENCH_TOKEN"), "BENCH_TOKEN is not set")
local template = assert(os.getenv("BENCH_BODY"), "BENCH_BODY is not set")
local phase = os.getenv("BENCH_PHASE") or "w"
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")

local at = assert(string.find(template, "{{NO}}", 1, true), "BENCH_BODY lacks {{NO}}")
local head, tail = string.sub(template, 1, at - 1), string.sub(template, at + 6)

local threads = {}
local counter = 0
thread_id = 0 -- set per thread by setup()

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function init(args)
  math.randomseed(os.time() * 1000 + thread_id)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

function request()
  counter = counter + 1
  -- A new channel order number each time, so every request creates an order.
  local body = head .. phase .. "-" .. thread_id .. "-" .. counter .. tail
  return wrk.format(nil, nil, nil, body)
end

if delay_ms > 0 then
  function delay()
    -- Exponential pauses make arrivals close to a Poisson stream at the target rate.
    return math.floor(-delay_ms * math.log(1 - math.random()) + 0.5)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, '
      .. '"latency_mean_us": %.1f, "latency_max_us": %d, "p50_us": %d, "p90_us": %d, '
      .. '"p99_us": %d, "p999_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
