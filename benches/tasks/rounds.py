#!/usr/bin/env python3
"""Alternating rounds of whole-process runs, for A/B comparisons on a noisy machine.

    python3 benches/tasks/rounds.py PROGRAM ROUNDS CONFIG [CONFIG ...]

A CONFIG is `BINARY:THREADS`. A Qi binary runs `BINARY run --线程 THREADS PROGRAM`; a
binary whose path contains `/go` or ends in `.go-bin` runs alone with GOMAXPROCS=THREADS
(a Go program built from the same workload, e.g. `go build -o /tmp/spawn.go-bin
benches/tasks/spawn.go`). Each round runs every config once, in order, so that a change in
the machine's speed hits all of them alike. For each config the script prints the median
wall time, its best (shortest) run, the median CPU time (user + system, from wait4) and,
per round, its ratio to the first config: median and quartiles; and the ratio of its best
run to the first config's best. (The best runs are those the machine's slow phases missed:
on a machine that is slow for minutes at a time, their ratio is the steadier figure.)

The VMs this project is measured on vary by 10-30% between runs of the same binary, and
for minutes at a time; a single A/B pair says little. Examples:

    # two builds of qi, two workers, 21 rounds
    python3 benches/tasks/rounds.py benches/tasks/spawn.qi 21 /tmp/old-qi:2 target/release/qi:2
    # Qi against Go on the spawn workload
    python3 benches/tasks/rounds.py benches/tasks/spawn.qi 21 /tmp/spawn.go-bin:2 target/release/qi:2
"""

import os
import statistics
import subprocess
import sys
import time


def command(binary, threads, program):
    if "/go" in binary or binary.endswith(".go-bin"):
        return [binary], dict(os.environ, GOMAXPROCS=threads)
    return [binary, "run", "--线程", threads, program], dict(os.environ)


def run_once(cmd, env):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    if status != 0:
        sys.exit(f"{' '.join(cmd)}: exit status {status}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def quartiles(values):
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 4], statistics.median(ordered), ordered[(3 * n) // 4]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    program, rounds, configs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    walls = {c: [] for c in configs}
    cpus = {c: [] for c in configs}
    for _ in range(rounds):
        for config in configs:
            binary, threads = config.rsplit(":", 1)
            wall, cpu = run_once(*command(binary, threads, program))
            walls[config].append(wall)
            cpus[config].append(cpu)
    first = configs[0]
    for config in configs:
        q1, median, q3 = quartiles(walls[config])
        ratios = [a / b for a, b in zip(walls[config], walls[first])]
        r1, rm, r3 = quartiles(ratios)
        best = min(walls[config])
        print(
            f"{config}: wall median {median:.1f} ms (q1 {q1:.1f}, q3 {q3:.1f}), "
            f"best {best:.1f} ms, cpu median {statistics.median(cpus[config]):.1f} ms; "
            f"per-round ratio to the first: median {rm:.2f} (q1 {r1:.2f}, q3 {r3:.2f}); "
            f"ratio of the best runs {best / min(walls[first]):.2f}"
        )


if __name__ == "__main__":
    main()
