-- loop: a 30,000,000-iteration integer while loop summing i
local i = 0
local sum = 0
while i < 30000000 do
  sum = sum + i
  i = i + 1
end
print(sum)
