# strings: append a short string 1,000,000 times with +=, then print the length.
# CPython grows a uniquely referenced local string in place, so `s += "x"` is linear here.
# (Note: with CPython 3.11 the same += inside a `while i < N: ...; i += 1` loop is
# quadratic -- about 30 s for this size -- so the loop is the idiomatic `for ... in range`.)
def main():
    s = ""
    for _ in range(1_000_000):
        s += "x"
    print(len(s))


main()
