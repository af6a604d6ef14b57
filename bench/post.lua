-- wrk: POST the JSON body in the file named by BODY, with a bearer TOKEN; GET when BODY is
-- empty. Counts answers that are not 200 or carry GraphQL "errors".
local body_file = os.getenv("BODY") or ""
if body_file ~= "" then
  wrk.method = "POST"
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  io.write(string.format("bad_responses: %d\n", b))
end
