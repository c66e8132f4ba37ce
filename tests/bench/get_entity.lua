-- get_entity.lua: GET {url}/{uuid}, cycling through the uuids listed one a
-- line in the file named by the first script argument (wrk ... -- FILE).
-- Each thread starts at a different place in the list.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

uuids, i = {}, 0          -- globals: get_entity_token.lua reuses them

function init(args)
   for line in io.lines(args[1]) do
      if line ~= "" then uuids[#uuids + 1] = line end
   end
   assert(#uuids > 0, "no uuids in " .. tostring(args[1]))
   i = ((id or 1) - 1) * math.floor(#uuids / 2)
end

function request()
   i = i % #uuids + 1
   return wrk.format("GET", wrk.path .. "/" .. uuids[i])
end
