-- wrk: GET a random patron's recommendations (or homepage) per request.
-- Patrons are read from users.txt (one id per line) in the working folder.
local users = {}
local path_fmt = os.getenv("TL_PATH") or "/v1/users/%s/recommendations?n=10"
for line in io.lines("users.txt") do users[#users + 1] = line end
math.randomseed(os.time())
request = function()
    local u = users[math.random(#users)]
    return wrk.format("GET", string.format(path_fmt, u))
end
