# spawn: 1000000 asyncio tasks, each adding 1 to a shared counter. They are started in chunks
# of 10000, each chunk joined with a wait-group-like future set by its last task: started all
# at once, 1000000 live tasks make CPython's cyclic garbage collector run over and over
# (about 7 s instead of under 3 s).
import asyncio


async def main():
    n = 1000000
    chunk = 10000
    count = 0
    loop = asyncio.get_running_loop()
    for _ in range(n // chunk):
        remaining = chunk
        done = loop.create_future()

        async def work():
            nonlocal count, remaining
            count += 1
            remaining -= 1
            if remaining == 0:
                done.set_result(None)

        for _ in range(chunk):
            asyncio.create_task(work())
        await done
    print(count)


asyncio.run(main())
