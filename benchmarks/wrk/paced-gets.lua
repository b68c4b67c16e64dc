-- Paced GET /analytics load: each connection asks for the current hour (95%) or one of the last 24 hours (5%), then
-- waits DELAY_MS, so the offered rate is about connections * 1000 / DELAY_MS. Used beside a POST load to measure GET
-- latency under a mixed load (benchmarks/get-under-load.sh).
local delay_ms = tonumber(os.getenv("DELAY_MS") or "10")

function delay()
  return delay_ms
end

function request()
  if math.random(100) <= 95 then
    return wrk.format("GET", "/analytics")
  end
  local past = (os.time() - math.random(1, 24) * 3600) * 1000
  return wrk.format("GET", "/analytics?timestamp=" .. past)
end

function done(summary, latency, requests)
  io.write(string.format("TB_P50_US %d\nTB_P99_US %d\nTB_P999_US %d\n", latency:percentile(50),
      latency:percentile(99), latency:percentile(99.9)))
end
