-- park: 1000000 suspended coroutines (each resumed once, then waiting in a yield), kept in a
-- table as a channel would keep its waiting receivers (run.sh measures the peak RSS, minus
-- that of n = 0)
local n = 1000000
local create, resume, yield = coroutine.create, coroutine.resume, coroutine.yield
local waiting = {}
local function receiver()
  return yield()
end
for i = 1, n do
  local co = create(receiver)
  assert(resume(co))
  waiting[i] = co
end
print("parked " .. n)
