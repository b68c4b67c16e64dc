-- GET /analytics for the current hour (no timestamp), as dashboards poll it.
wrk.method = "GET"
wrk.path = "/analytics"

function done(summary, latency, requests)
  io.write(string.format("TB_P50_US %d\nTB_P99_US %d\n", latency:percentile(50), latency:percentile(99)))
end
