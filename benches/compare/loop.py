# loop: a 30,000,000-iteration integer while loop summing i
# (module-level code in Python uses dict-based globals; a function with locals is the
# idiomatic, faster form, and matches Lua's `local`s and Qi's registers)
def main():
    i = 0
    total = 0
    while i < 30_000_000:
        total += i
        i += 1
    print(total)


main()
