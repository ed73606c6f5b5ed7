-- resume: 1000000 coroutine.resume / coroutine.yield round trips of one coroutine
local n = 1000000
local resume, yield = coroutine.resume, coroutine.yield
local co = coroutine.create(function()
  local x = 0
  while true do
    x = yield(x + 1)
  end
end)
local v = 0
for _ = 1, n do
  local _
  _, v = resume(co, v)
end
print(v)
