-- One PUT /organizations/self/inventory per request, with one change of a random variant
-- (or always the same variant when BENCH_HOT is set); with BENCH_API=v3 one POST /v3/movements
-- instead, with one movement and a constant identifier (as an integration sends it). Settings come
-- from the environment.
local v3 = os.getenv("BENCH_API") == "v3"
local path = os.getenv("BENCH_PATH") or (v3 and "/v3/movements" or "/organizations/self/inventory")
local token = os.getenv("BENCH_TOKEN")
local from_loc = os.getenv("BENCH_FROM")
local to_loc = os.getenv("BENCH_TO")
local variants = tonumber(os.getenv("BENCH_VARIANTS") or "10000")
local per_product = tonumber(os.getenv("BENCH_PER_PRODUCT") or "10")
local hot = tonumber(os.getenv("BENCH_HOT") or "-1")
local thread_count = 0

wrk.method = v3 and "POST" or "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
end

function init(args)
  math.randomseed(os.time() * 131 + (thread_id or 0) * 7919)
end

local template = '{"changes":[{"productUuid":"00000000-0000-4000-8000-%012x",' ..
  '"variantUuid":"00000000-0000-4000-9000-%012x","fromLocationUuid":"%s","toLocationUuid":"%s",' ..
  '"change":1}],"returnBalanceForLocationUuid":"%s"}'
if v3 then
  template = '{"movements":[{"productUuid":"00000000-0000-4000-8000-%012x",' ..
    '"variantUuid":"00000000-0000-4000-9000-%012x","from":"%s","to":"%s","change":1}],' ..
    '"identifier":"947d712a-892d-11ea-bc55-0242ac130003"}'
end

function request()
  local v = hot
  if v < 0 then v = math.random(0, variants - 1) end
  local p = math.floor(v / per_product)
  local body
  if v3 then
    body = string.format(template, p, v, from_loc, to_loc)
  else
    body = string.format(template, p, v, from_loc, to_loc, to_loc)
  end
  return wrk.format(nil, path, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
