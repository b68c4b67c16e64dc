-- POST /analytics load for wrk: 90% impressions, 10% clicks, USERS distinct users, in the HOURS (default 1) UTC hours
-- from HOUR_MS on (so GETs of those hours reconcile the run). Counts the 204s it receives and prints "TB_204 <n>" at the end.
local hour_ms = tonumber(os.getenv("HOUR_MS") or "") or math.floor(os.time() / 3600) * 3600000 -- default: this hour
local users = tonumber(os.getenv("USERS") or "100000")
local hours = tonumber(os.getenv("HOURS") or "1")
local threads = {}
local counter = 0
ok204 = 0

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  counter = thread_id * 1000000007
end

function request()
  counter = counter + 1
  local kind = (math.floor(counter / hours) % 10 == 0) and "click" or "impression"
  return wrk.format("POST", "/analytics?timestamp=" .. (hour_ms + (counter % hours) * 3600000 + counter % 3600000)
      .. "&user=u" .. (counter % users) .. "&event=" .. kind)
end

function response(status, headers, body)
  if status == 204 then
    ok204 = ok204 + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do
    total = total + t:get("ok204")
  end
  io.write(string.format("TB_204 %d\n", total))
  io.write(string.format("TB_P50_US %d\nTB_P99_US %d\n", latency:percentile(50), latency:percentile(99)))
end
