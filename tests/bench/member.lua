-- member.lua: METHOD {url}/{prefix}{i}: membership adds or removes, each
-- thread taking every other i of [start, start + count) in turn (cycling
-- when it runs out, which re-adds or removes again).  Arguments: method,
-- prefix, start, count.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local method, prefix, first, count, i = "POST", "u", 0, 1, 0

function init(args)
   method, prefix = args[1], args[2]
   first, count = tonumber(args[3]), tonumber(args[4])
   i = (id or 1) - 1
end

function request()
   local n = first + i % count
   i = i + 2
   return wrk.format(method, wrk.path .. "/" .. prefix .. n)
end
