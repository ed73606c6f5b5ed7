# channel: 1000000 integers through an asyncio.Queue(128) from one task to another; None
# marks the end (asyncio.Queue cannot be closed)
import asyncio


async def main():
    n = 1000000
    ch = asyncio.Queue(128)

    async def producer():
        for i in range(n):
            await ch.put(i)
        await ch.put(None)

    task = asyncio.create_task(producer())
    total = 0
    while (v := await ch.get()) is not None:
        total += v
    await task
    print(total)


asyncio.run(main())
