# sleepers: 10000 asyncio tasks each sleeping 10 ms at once, all awaited with gather; the
# second line is the wall time of the sleeping part in milliseconds
import asyncio
import time


async def main():
    n = 10000
    woke = 0

    async def sleeper():
        nonlocal woke
        await asyncio.sleep(0.010)
        woke += 1

    start = time.perf_counter()
    await asyncio.gather(*(sleeper() for _ in range(n)))
    elapsed = time.perf_counter() - start
    print(woke)
    print("sleep_ms", int(elapsed * 1000))


asyncio.run(main())
