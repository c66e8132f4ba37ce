-- mixed.lua: the soak's load, per 20 requests: 16 GET {url}/{uuid} (the
-- uuids listed one a line in the file named by the first argument), 3 POST
-- {url} of a small new entity, 1 indexed query returning up to 10.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "get_entity.lua")

local k, made = 0, 0

function request()
   k = k + 1
   local slot = k % 20
   if slot < 3 then
      made = made + 1
      return wrk.format("POST", wrk.path, { ["Content-Type"] = "application/json" },
         string.format('{"name":"soak-%d-%d","n":%d,"category":"c%d"}',
                       id or 1, made, made, made % 100))
   elseif slot == 3 then
      return wrk.format("GET", wrk.path .. "?limit=10&ql=category%20%3D%20%27c" .. (k % 100) .. "%27")
   end
   i = i % #uuids + 1
   return wrk.format("GET", wrk.path .. "/" .. uuids[i])
end
