-- wrk script of the benchmark (see bench/run.py):
--   wrk -t2 -c16 -d10s -s bench/wrk.lua http://127.0.0.1:8001 -- FILE MODE THREADS TOKEN
-- FILE has one request a line: METHOD<TAB>PATH<TAB>BODY (BODY may be empty).
-- MODE "random": each request is a line picked at random (reads, adjustments).
-- MODE "walk": thread i sends lines i, i+THREADS, i+2*THREADS, ... once each, in order (each
-- receipt consumes a purchase order); past its slice it sends its last line again (a 409).
-- Every response that is not a 2xx counts as an error; done() prints one JSON line.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file, mode, nthreads, token = args[1], args[2], tonumber(args[3]), args[4]
  walk = mode == "walk"
  math.randomseed(os.time() * 1000 + index)
  local headers = {
    ["Authorization"] = "Token " .. token,
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
  }
  requests = {}
  local n = 0
  for line in io.lines(file) do
    if not walk or n % nthreads == index then
      local method, path, body = line:match("^(%u+)\t([^\t]*)\t?(.*)$")
      if body == "" then body = nil end
      table.insert(requests, wrk.format(method, path, headers, body))
    end
    n = n + 1
  end
  position = 0
  errors = 0
  exhausted = 0
  first_error = ""
end

function request()
  if walk then
    if position < #requests then
      position = position + 1
    else
      exhausted = exhausted + 1
    end
  else
    position = math.random(#requests)
  end
  return requests[position]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    errors = errors + 1
    if first_error == "" then
      first_error = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

local function quote(text)
  return '"' .. text:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, requests)
  local errors, exhausted, first_error = 0, 0, ""
  for _, thread in ipairs(threads) do
    errors = errors + thread:get("errors")
    exhausted = exhausted + thread:get("exhausted")
    if first_error == "" then first_error = thread:get("first_error") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, '
      .. '"timeouts": %d, "exhausted": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "mean_us": %.1f, "first_error": %s}\n',
    summary.requests, summary.duration, errors, e.connect + e.read + e.write, e.timeout,
    exhausted, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, quote(first_error)))
end
