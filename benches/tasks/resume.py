# resume: 1000000 generator send / yield round trips of one generator (the first one is the
# send(None) that starts it)
def coroutine():
    x = 0
    while True:
        x = yield x + 1


def main():
    n = 1000000
    c = coroutine()
    v = c.send(None)
    for _ in range(n - 1):
        v = c.send(v)
    print(v)


main()
