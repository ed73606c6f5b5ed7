-- spawn: 1000000 coroutines, each created and resumed once to add 1 to a shared counter
-- (Lua has no scheduler: a coroutine runs when it is resumed, and this one runs to its end)
local n = 1000000
local create, resume = coroutine.create, coroutine.resume
local count = 0
local function work()
  count = count + 1
end
for _ = 1, n do
  assert(resume(create(work)))
end
print(count)
