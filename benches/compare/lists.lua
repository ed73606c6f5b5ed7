-- lists: list and dict workload
-- 1. build a list of 1,000,000 integers by appending, then sum it
-- 2. build a table of 100,000 string keys -> integers, look each key up and sum
-- 3. make 200,000 pseudo-random integers with an LCG, sort them, take a few positions
-- then print a checksum
local n = 1000000
local nums = {}
for i = 0, n - 1 do
  nums[#nums + 1] = i
end
local list_sum = 0
for _, x in ipairs(nums) do
  list_sum = list_sum + x
end

local m = 100000
local dict = {}
local dict_len = 0
for i = 0, m - 1 do
  dict["k" .. i] = i * 2
  dict_len = dict_len + 1 -- Lua tables have no O(1) key count
end
local dict_sum = 0
for i = 0, m - 1 do
  dict_sum = dict_sum + dict["k" .. i]
end

local k = 200000
local rand = {}
local seed = 42
for i = 0, k - 1 do
  seed = (seed * 1103515245 + 12345) % 2147483648
  rand[#rand + 1] = seed
end
table.sort(rand)
local sorted_sum = rand[1] + rand[k // 2 + 1] + rand[k]

print(list_sum + dict_sum + sorted_sum + #nums + dict_len)
