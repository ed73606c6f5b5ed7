-- pingpong: 1000000 round trips between two coroutines. Lua's coroutines are asymmetric (one
-- cannot resume another that is waiting on it), so the main program carries each message
-- across: the pinger yields i, the ponger turns it into i + 1, which goes back to the pinger.
-- That is two coroutine switches per round trip, as with two tasks and two channels.
local n = 1000000
local create, resume, yield, status = coroutine.create, coroutine.resume, coroutine.yield, coroutine.status
local ponger = create(function(v)
  while true do
    v = yield(v + 1)
  end
end)
local pinger = create(function()
  local sum = 0
  for i = 0, n - 1 do
    sum = sum + yield(i)
  end
  return sum
end)
local _, msg = resume(pinger)
while status(pinger) ~= "dead" do
  local _, reply = resume(ponger, msg)
  _, msg = resume(pinger, reply)
end
print(msg)
