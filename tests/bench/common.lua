-- common.lua: loaded by every bench script.  Numbers the wrk threads, counts
-- the responses outside 2xx in each thread (wrk's own "Non-2xx or 3xx"
-- count lets 3xx through), and ends the run with one line for run.sh:
--
--   BENCH requests=N seconds=S rps=R p50_us=A p99_us=B non2xx=C sockerr=D first_bad=...
--
-- p50/p99 come from the same latency histogram that --latency prints.

local threads = {}

function setup(thread)
   threads[#threads + 1] = thread
   thread:set("id", #threads)
end

bad = 0
first_bad = ""

function response(status, headers, body)
   if status < 200 or status > 299 then
      bad = bad + 1
      if bad == 1 then
         first_bad = status .. " " .. string.sub(body or "", 1, 160)
      end
   end
end

function done(summary, latency, requests)
   local non2xx, first = 0, ""
   for _, t in ipairs(threads) do
      non2xx = non2xx + (t:get("bad") or 0)
      local f = t:get("first_bad") or ""
      if first == "" then first = f end
   end
   local e = summary.errors
   local sockerr = e.connect + e.read + e.write + e.timeout
   local secs = summary.duration / 1e6
   io.write(string.format(
      "BENCH requests=%d seconds=%.2f rps=%.1f p50_us=%d p99_us=%d non2xx=%d sockerr=%d first_bad=%s\n",
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50), latency:percentile(99), non2xx, sockerr,
      (string.gsub(first, "%s", "_"))))
end
