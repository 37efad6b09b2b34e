-- wrk: GET /v1/search for a word of each frequency class in turn (low, middle, high: the words
-- of queries-low.txt, queries-mid.txt and queries-high.txt in the working folder), each class
-- cycling through its own words. TL_SEARCH_ARGS is appended to the query string ("&user=p1");
-- TL_SEARCH_CLASSES picks the classes ("high"; default "low mid high").
local lists = {}
local classes = os.getenv("TL_SEARCH_CLASSES") or "low mid high"
for name in classes:gmatch("%S+") do
    local l = {}
    for line in io.lines("queries-" .. name .. ".txt") do l[#l + 1] = line end
    if #l > 0 then lists[#lists + 1] = l end
end
local extra = os.getenv("TL_SEARCH_ARGS") or ""
local k = 0
setup = function(thread) thread:set("seed", math.random(1000000)) end
init = function() k = seed or 0 end
request = function()
    local l = lists[k % #lists + 1]
    local w = l[math.floor(k / #lists) % #l + 1]
    k = k + 1
    return wrk.format("GET", "/v1/search?n=10&facets=0&q=" .. w .. extra)
end
