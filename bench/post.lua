-- wrk: POST the JSON body in the file named by BODY, with a bearer TOKEN; GET when BODY is
-- empty. A BODY ending in .txt holds one body per line (bench/shapes.py), sent in turn, each
-- thread from its own line; with UNIQUE=1 every request's text is new (a `__typename` under a
-- fresh alias leads its selection), so no server has seen it before. Counts answers that are
-- not 200 or carry GraphQL "errors".
local body_file = os.getenv("BODY") or ""
local bodies = {}
if body_file ~= "" then
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if body_file:sub(-4) == ".txt" then
    for line in io.lines(body_file) do table.insert(bodies, line) end
  else
    local f = assert(io.open(body_file, "rb"))
    wrk.body = f:read("*a")
    f:close()
  end
end
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local unique = os.getenv("UNIQUE") == "1"

local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  bad = 0
  n = id * 7919
end
if #bodies > 0 then
  function request()
    n = n + 1
    local body = bodies[(n % #bodies) + 1]
    if unique then
      body = body:gsub('^{"query": "{', '{"query": "{ u' .. id .. '_' .. n .. ': __typename', 1)
    end
    return wrk.format(nil, nil, nil, body)
  end
end
function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  io.write(string.format("bad_responses: %d\n", b))
end
