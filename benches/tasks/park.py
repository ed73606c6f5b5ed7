# park: 1000000 asyncio tasks all awaiting one asyncio.Event that is never set; once they are
# all waiting, print and leave at once with os._exit (asyncio.run would otherwise cancel
# every task first). run.sh measures the peak RSS, minus that of n = 0.
import asyncio
import os
import sys


async def main():
    n = 1000000
    gate = asyncio.Event()
    started = 0
    all_started = asyncio.get_running_loop().create_future()

    async def receiver():
        nonlocal started
        started += 1
        if started == n:
            all_started.set_result(None)
        await gate.wait()

    tasks = [asyncio.create_task(receiver()) for _ in range(n)]
    if n:
        await all_started
    await asyncio.sleep(0)  # the last task reaches its wait
    print("parked", len(tasks))
    sys.stdout.flush()
    os._exit(0)


asyncio.run(main())
