-- POST /analytics/batch with 1 000-event NDJSON bodies (wrk -s benchmarks/wrk/batch-events.lua), for
-- benchmarks/batch-ingest.sh. Environment: BODY_FILE, bodies separated by lines "---", sent in turn; IDS=1 gives every
-- event of every request an id of its own (the bodies' @ID@ markers are replaced), so no request is a resend.
local bodies = {}
for body in (assert(io.open(os.getenv("BODY_FILE"), "rb")):read("*a") .. "---\n"):gmatch("(.-)%-%-%-\n") do
    bodies[#bodies + 1] = body
end
local ids = os.getenv("IDS") == "1"
local thread_id = 0
local sent = 0

function setup(thread)
    thread_id = thread_id + 1
    thread:set("thread_id", thread_id)
end

function request()
    sent = sent + 1
    local payload = bodies[sent % #bodies + 1]
    if ids then
        local n = 0
        payload = payload:gsub("@ID@", function()
            n = n + 1
            return thread_id .. "-" .. sent .. "-" .. n
        end)
    end
    return wrk.format("POST", nil, {["Content-Type"] = "application/x-ndjson"}, payload)
end

function done(summary, latency, requests)
    io.write(string.format("TB_REQUESTS %d\nTB_OK %d\nTB_SECONDS %.3f\n", summary.requests,
        summary.requests - summary.errors.status, summary.duration / 1e6))
end
