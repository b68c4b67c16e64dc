-- POST /analytics/batch with 1 000-event NDJSON bodies (wrk -s benchmarks/wrk/batch-events.lua), for
-- benchmarks/batch-ingest.sh and benchmarks/soak.sh. Environment: BODY_FILE, bodies separated by lines "---", sent in
-- turn; IDS=1 gives every event of every request an id of its own (the bodies' @ID@ markers are replaced), so no
-- request is a resend; IDS=uuid makes those ids random UUIDv4s, as browsers and most SDKs send them; KEYS=1 sends
-- every request with an Idempotency-Key of its own. A body's @TS@ markers become timestamps within the 10 s before
-- the request is sent.
local bodies = {}
for body in (assert(io.open(os.getenv("BODY_FILE"), "rb")):read("*a") .. "---\n"):gmatch("(.-)%-%-%-\n") do
    bodies[#bodies + 1] = body
end
local ids = os.getenv("IDS") == "1"
local uuids = os.getenv("IDS") == "uuid"
local keys = os.getenv("KEYS") == "1"
local hex = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"}
local variant = {"8", "9", "a", "b"}

local function uuid4()
    local t = {}
    for i = 1, 32 do
        t[i] = hex[math.random(16)]
    end
    t[13] = "4"
    t[17] = variant[math.random(4)]
    return table.concat(t, "", 1, 8) .. "-" .. table.concat(t, "", 9, 12) .. "-" .. table.concat(t, "", 13, 16)
        .. "-" .. table.concat(t, "", 17, 20) .. "-" .. table.concat(t, "", 21, 32)
end
local thread_id = 0
local sent = 0

function setup(thread)
    thread_id = thread_id + 1
    thread:set("thread_id", thread_id)
end

function init(args)
    math.randomseed(os.time() * 1000 + thread_id)
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
    elseif uuids then
        payload = payload:gsub("@ID@", uuid4)
    end
    local now_ms = os.time() * 1000
    payload = payload:gsub("@TS@", function()
        return string.format("%d", now_ms - math.random(0, 10000))
    end)
    local headers = {["Content-Type"] = "application/x-ndjson"}
    if keys then
        headers["Idempotency-Key"] = uuid4()
    end
    return wrk.format("POST", nil, headers, payload)
end

function done(summary, latency, requests)
    io.write(string.format("TB_REQUESTS %d\nTB_OK %d\nTB_SECONDS %.3f\n", summary.requests,
        summary.requests - summary.errors.status, summary.duration / 1e6))
end
