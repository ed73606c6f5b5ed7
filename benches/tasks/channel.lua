-- channel: 1000000 integers through a 128-slot ring buffer from a producer coroutine to the
-- consumer (the main program): send yields to the consumer when the buffer is full, receive
-- resumes the producer when it is empty, as a bounded channel between two tasks would.
local n, cap = 1000000, 128
local resume, yield = coroutine.resume, coroutine.yield
local buf, head, count, closed = {}, 0, 0, false
local producer

local function send(v)
  if count == cap then
    yield()
  end
  buf[(head + count) % cap + 1] = v
  count = count + 1
end

local function recv() -- nil when closed and drained
  if count == 0 then
    if closed then
      return nil
    end
    assert(resume(producer))
    if count == 0 then
      return nil
    end
  end
  local v = buf[head + 1]
  head = (head + 1) % cap
  count = count - 1
  return v
end

producer = coroutine.create(function()
  for i = 0, n - 1 do
    send(i)
  end
  closed = true
end)

local sum = 0
while true do
  local v = recv()
  if v == nil then
    break
  end
  sum = sum + v
end
print(sum)
