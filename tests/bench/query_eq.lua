-- query_eq.lua: GET {url}?ql=select * where category = 'bench'&limit=10,
-- an indexed equality query whose first page is ten entities; the same
-- request every time.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

wrk.path = wrk.path .. "?ql=select%20*%20where%20category%20%3D%20%27bench%27&limit=10"
