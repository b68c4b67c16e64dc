-- Paced POST /analytics load for the tuning sweep: each connection waits DELAY_MS between requests, so the offered
-- rate is about connections * 1000 / DELAY_MS. With BURST=1 the delay drops to 0 (as fast as possible) for the first
-- 3 seconds of every 10, a burst many times the base rate.
local hour_ms = tonumber(os.getenv("HOUR_MS") or "") or math.floor(os.time() / 3600) * 3600000 -- default: this hour
local delay_ms = tonumber(os.getenv("DELAY_MS") or "3")
local burst = os.getenv("BURST") == "1"
-- PAST_SHARE=5 dates 5 % of the events (at random) in one of the 23 hours before HOUR_MS instead, as late events do.
local past_share = tonumber(os.getenv("PAST_SHARE") or "0")
local counter = 0

function init(args)
  counter = math.random(1, 1000000000)
end

function delay()
  if burst and os.time() % 10 < 3 then
    return 0
  end
  return delay_ms
end

function request()
  counter = counter + 1
  local kind = (counter % 10 == 0) and "click" or "impression"
  local ts = hour_ms + counter % 3600000
  if past_share > 0 and math.random(100) <= past_share then
    ts = ts - (1 + counter % 23) * 3600000
  end
  return wrk.format("POST", "/analytics?timestamp=" .. ts
      .. "&user=u" .. (counter % 100000) .. "&event=" .. kind)
end

function done(summary, latency, requests)
  io.write(string.format("TB_P50_US %d\nTB_P99_US %d\n", latency:percentile(50), latency:percentile(99)))
end
