-- get_page.lua: GET {url}?limit=10, the first page of ten entities of a
-- collection; the same request every time.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

wrk.path = wrk.path .. "?limit=10"
