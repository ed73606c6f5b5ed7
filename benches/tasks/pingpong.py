# pingpong: 1000000 round trips between two asyncio tasks over two asyncio.Queue(maxsize=1)
# (asyncio has no unbuffered channel; with strict alternation a one-slot queue does the same)
import asyncio


async def main():
    n = 1000000
    ping = asyncio.Queue(maxsize=1)
    pong = asyncio.Queue(maxsize=1)

    async def echo():
        for _ in range(n):
            v = await ping.get()
            await pong.put(v + 1)

    task = asyncio.create_task(echo())
    total = 0
    for i in range(n):
        await ping.put(i)
        total += await pong.get()
    await task
    print(total)


asyncio.run(main())
