-- Paced GET /analytics/series load: each connection asks for the last 24 UTC hours (24 hourly buckets and their
-- total), then waits DELAY_MS, so the offered rate is about connections * 1000 / DELAY_MS. Used beside a POST load
-- (benchmarks/series-under-load.sh).
local delay_ms = tonumber(os.getenv("DELAY_MS") or "10")
-- SERIES_PATH=/healthz asks for a constant answer instead: the floor of any request's latency under the same load.
local fixed_path = os.getenv("SERIES_PATH")

function delay()
  return delay_ms
end

function request()
  if fixed_path and fixed_path ~= "" then
    return wrk.format("GET", fixed_path)
  end
  local now_ms = os.time() * 1000
  return wrk.format("GET", "/analytics/series?from=" .. (now_ms - 23 * 3600000) .. "&to=" .. now_ms)
end

function done(summary, latency, requests)
  io.write(string.format("TB_P50_US %d\nTB_P99_US %d\nTB_P999_US %d\nTB_NON2XX %d\n", latency:percentile(50),
      latency:percentile(99), latency:percentile(99.9), summary.errors.status))
end
