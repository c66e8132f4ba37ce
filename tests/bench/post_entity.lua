-- post_entity.lua: POST {url} with a small JSON entity.  A custom
-- collection's name is unique, so each request names its entity after the
-- run tag (first script argument), the wrk thread and a counter.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local tag, n = "run", 0

function init(args)
   tag = (args[1] or "run") .. "-" .. (id or 1)
end

function request()
   n = n + 1
   return wrk.format(nil, nil, nil, string.format(
      '{"name":"post-%s-%d","title":"posted by the benchmark","category":"bench","n":%d,"active":true}',
      tag, n, n))
end
