-- wrk: Q4, scripts adding ledger entries; every request a distinct entry on one of many
-- findings, so lost or duplicated writes show in the row count afterwards. FINDINGS: how many
-- findings the data has (100,000 unless the run generated fewer).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

local run = os.getenv("RUN") or tostring(os.time())
local findings = tonumber(os.getenv("FINDINGS") or "") or 100000
local threads = {}
local counter = 0
local id = 0
function setup(thread)
  id = id + 1
  thread:set("tid", id)
  table.insert(threads, thread)
end
function init(args) ok = 0; bad = 0 end
-- PACE_MS: each connection waits so long before each write (the mixed run's paced writer:
-- 2 connections at 100 ms give about 20 writes/s). Defined only when asked: wrk then times
-- every request.
local pace = tonumber(os.getenv("PACE_MS") or "")
if pace then
  function delay() return pace end
end
function request()
  counter = counter + 1
  local finding = 1 + ((tid * 7919 + counter * 104729) % findings)
  local body = string.format(
    '{"query":"mutation($f: ID!, $c: String!) { addProgressEntry(input: {findingId: $f, content: $c}) { id } }","variables":{"f":"%d","c":"bench-%s-%d-%d"}}',
    finding, run, tid, counter)
  return wrk.format(nil, nil, nil, body)
end
function response(status, headers, body)
  if status == 200 and not body:find('"errors"', 1, true) then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local o, b = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("bad") end
  io.write(string.format("ok_responses: %d\nbad_responses: %d\n", o, b))
end
