-- strings: append a short string 1,000,000 times, then print the length.
-- In Lua `s = s .. "x"` copies the whole string every time (strings are immutable and
-- hashed/interned), which is quadratic; the idiomatic way to build a long string is a
-- buffer table joined once with table.concat.
local parts = {}
for i = 1, 1000000 do
  parts[#parts + 1] = "x"
end
local s = table.concat(parts)
print(#s)
