-- wrk: POST a batch of TL_BATCH loan events per request, for random patrons and items.
local users, items = {}, {}
for line in io.lines("users.txt") do users[#users + 1] = line end
for line in io.lines("items.txt") do items[#items + 1] = line end
local batch = tonumber(os.getenv("TL_BATCH") or "100")
local ts = 1800000000
math.randomseed(os.time())
request = function()
    local parts = {}
    for k = 1, batch do
        ts = ts + 1
        parts[k] = string.format('{"user":"%s","item":"%s","type":"view","timestamp":%d}',
                                 users[math.random(#users)], items[math.random(#items)], ts)
    end
    return wrk.format("POST", "/v1/events", {["Content-Type"] = "application/json"},
                      "[" .. table.concat(parts, ",") .. "]")
end
