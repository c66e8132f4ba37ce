-- get_entity_token.lua: get_entity.lua with a user's access token
-- (wrk ... -- UUIDS_FILE TOKEN): the same load, authorized by the user's
-- permissions instead of the guest role.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "get_entity.lua")

local headers = {}
local base_init = init

function init(args)
   base_init(args)
   headers["Authorization"] = "Bearer " .. assert(args[2], "no token argument")
end

function request()
   i = i % #uuids + 1
   return wrk.format("GET", wrk.path .. "/" .. uuids[i], headers)
end
