#!/usr/bin/env bash
# Whole-process comparison of Qi's tasks, coroutines and channels with Go, Lua 5.4,
# Python 3 (asyncio) and Node.
#
#   benches/tasks/run.sh            # from anywhere inside the repository
#
# Workloads (each language does the same work and prints the same result):
#   spawn         1,000,000 tasks each adding 1 to a shared counter, joined (wait group)
#   pingpong      1,000,000 round trips between two tasks over two unbuffered channels
#   resume        1,000,000 恢复/挂起 (resume/yield) round trips of one coroutine
#   channel       1,000,000 integers through a channel of capacity 128 between two tasks
#   sleepers      10,000 tasks each sleeping 10 ms at once, all awaited
#   sleepers100k  the same with 100,000 tasks (sleepers.* with n = 100000)
#   park          1,000,000 tasks blocked on a channel receive: peak RSS minus the peak RSS
#                 of the same program with n = 0, divided by 1,000,000
#
# Qi runs with QI_THREADS=1 and 2, Go (binaries built with `go build` first) with
# GOMAXPROCS=1 and 2. For every workload the script:
#   1. runs every version once (under `timeout`) and checks they all print the same thing
#      (for sleepers, apart from the `sleep_ms` line); a difference, a non-zero exit or a
#      timeout stops the script with an error;
#   2. times each whole process with hyperfine (warm-up 1, 5 to 20 runs; a version whose
#      check run took over 1 s gets 3 runs, over 3 s 2 runs, no warm-up), or without
#      hyperfine with a simple timing loop; every hyperfine call runs under `timeout` too;
# then prints a Markdown table of wall-clock times (means; for Qi and Go the median of the
# rounds' means) with the ratios Qi/Go (same number of threads) and Qi(1)/Lua, a table of
# the sleeping part's own wall time as the sleepers programs print it (median of
# QI_TASKS_RUNS runs), and a table of bytes per parked task, measured with
# /usr/bin/time -f %M (one run each); and last, whether the project's goals are met.
# A language whose compiler or interpreter is missing is skipped with a message. Lua has
# no timers, so there is no Lua sleepers program.
#
# Qi and Go are timed in QI_TASKS_ROUNDS rounds (default 3) that take turns, each getting the
# median of its rounds' means, so that a change in the machine's speed during the script
# does not skew one Qi/Go ratio alone. Before each workload and after the last, one run of
# the Go spawn program on two threads probes how fast cache lines pass between the cores;
# the report lists the probes and marks those over twice the fastest. A probe over twice
# the fastest one so far is taken for a slow period: the script waits 15 s and probes
# again, for up to QI_TASKS_PATIENCE seconds (default 120; 0 does not wait), and then
# times the workload whatever the probe says. A workload whose probe turns out slow
# against the fastest of all (the first ones have nothing to compare with) is timed
# again at the end, after a fast probe; the report gives its last probe.
#
# Environment: QI_TASKS_RUNS (minimum hyperfine runs, default 5); GO, LUA (default lua5.4,
# then lua), PYTHON (default python3), NODE (default node) name the tools (set to "" to
# skip one); QI_TASKS_TIMER=loop uses the fallback timer even when hyperfine is installed;
# QI_TASKS_TIMEOUT (seconds, default 120) bounds every single run; CARGO_TARGET_DIR is
# honoured. The full run takes about 6 minutes on a 2-core machine. To compare two builds
# (or Qi with Go) on one workload in many alternating rounds, use rounds.py beside this.

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORKLOADS=(spawn pingpong resume channel sleepers sleepers100k)
RUNS="${QI_TASKS_RUNS:-5}"
ROUNDS="${QI_TASKS_ROUNDS:-3}"
TMO="${QI_TASKS_TIMEOUT:-120}"
PATIENCE="${QI_TASKS_PATIENCE:-120}"
# A workload made from another one by changing the line that sets n:
# VARIANT[name]="source-workload old-n new-n". park0 is the baseline of park.
declare -A VARIANT=([sleepers100k]="sleepers 10000 100000" [park0]="park 1000000 0")
PARKED=1000000
# Programs that do not exist on purpose (lua: no timers in standard Lua 5.4).
declare -A NOT_APPLICABLE=([sleepers:lua]=1 [sleepers100k:lua]=1)

die() {
    echo "错误 / error: $*" >&2
    exit 1
}

# ---------------------------------------------------------------- tools

echo "Building the release binary (cargo build --release -q)..." >&2
(cd "$ROOT" && cargo build --release -q) || die "cargo build --release failed"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
[[ "$TARGET_DIR" == /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
QI="$TARGET_DIR/release/qi"
[[ -x "$QI" ]] || die "$QI was not built"
command -v timeout >/dev/null 2>&1 || die "timeout (coreutils) is needed"

source "$HERE/../tools.sh"

# GO / LUA / PYTHON / NODE, when set, name the only tool to try.
GO_BIN="$(pick_tool GO go)"
LUA_BIN="$(pick_tool LUA lua5.4 lua)"
PY_BIN="$(pick_tool PYTHON python3)"
NODE_BIN="$(pick_tool NODE node)"

[[ -n "$GO_BIN" ]] || echo "NOTE: no Go compiler found (go, or GO=${GO:-}): skipping Go." >&2
if [[ -z "$LUA_BIN" ]]; then
    echo "NOTE: no Lua interpreter found (lua5.4 / lua, or LUA=${LUA:-}): skipping Lua." >&2
elif ! "$LUA_BIN" -v 2>&1 | grep -q 'Lua 5\.4'; then
    echo "NOTE: $LUA_BIN is not Lua 5.4 ($("$LUA_BIN" -v 2>&1)); the Lua programs need 5.4." >&2
fi
[[ -n "$PY_BIN" ]] || echo "NOTE: no python3 found (python3, or PYTHON=${PYTHON:-}): skipping Python." >&2
[[ -n "$NODE_BIN" ]] || echo "NOTE: no node found (node, or NODE=${NODE:-}): skipping Node." >&2

# Columns in table order. EXT: source extension; ENVV: the environment of the run;
# HAVE: 1 when the tool is there. The command of a column is built by command_for.
COLS=(qi1 qi2 go1 go2 lua py node)
declare -A EXT ENVV NAME HAVE
EXT=([qi1]=qi [qi2]=qi [go1]=go [go2]=go [lua]=lua [py]=py [node]=js)
ENVV=([qi1]=QI_THREADS=1 [qi2]=QI_THREADS=2 [go1]=GOMAXPROCS=1 [go2]=GOMAXPROCS=2
    [lua]= [py]= [node]=)
NAME=([qi1]="Qi(1)" [qi2]="Qi(2)" [go1]="Go(1)" [go2]="Go(2)" [lua]=Lua [py]=Python [node]=Node)
HAVE=([qi1]=1 [qi2]=1 [go1]="${GO_BIN:+1}" [go2]="${GO_BIN:+1}" [lua]="${LUA_BIN:+1}"
    [py]="${PY_BIN:+1}" [node]="${NODE_BIN:+1}")

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/src" "$TMP/go" "$TMP/out"

# source_of WORKLOAD COLUMN: the program's path
source_of() {
    if [[ -n "${VARIANT[$1]:-}" ]]; then
        echo "$TMP/src/$1.${EXT[$2]}"
    else
        echo "$HERE/$1.${EXT[$2]}"
    fi
}

# command_for WORKLOAD COLUMN: the command line (words separated by spaces, no quoting
# needed: none of the paths may contain spaces)
command_for() {
    local src
    src="$(source_of "$1" "$2")"
    case "$2" in
        qi1 | qi2) echo "$QI run $src" ;;
        go1 | go2) echo "$TMP/go/$1" ;;
        lua) echo "$LUA_BIN $src" ;;
        py) echo "$PY_BIN $src" ;;
        node) echo "$NODE_BIN $src" ;;
    esac
}

[[ "$HERE$TMP$QI$GO_BIN$LUA_BIN$PY_BIN$NODE_BIN" != *" "* ]] ||
    die "a path contains a space; this script cannot handle that"

# ---------------------------------------------------------------- machine

echo "# Qi tasks, coroutines and channels vs Go, Lua, Python asyncio and Node"
echo
cpu_field() { grep -m1 "^$1[[:space:]]*:" /proc/cpuinfo 2>/dev/null | sed 's/.*: *//'; }
echo "- Machine: $(nproc) CPUs, $(cpu_field 'model name' || true)" \
    "(family $(cpu_field 'cpu family' || true), model $(cpu_field model || true)," \
    "$(cpu_field 'cpu MHz' || true) MHz), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM"
echo "- OS: $(uname -srm); load average at the start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
if QI_REV="$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)"; then
    (cd "$ROOT" && git diff --quiet HEAD --) || QI_REV="$QI_REV + uncommitted changes"
else
    QI_REV="unknown revision"
fi
echo "- Qi: $QI_REV (release build); Qi(N) = QI_THREADS=N worker threads"
[[ -n "$GO_BIN" ]] && echo "- Go: $("$GO_BIN" version | awk '{print $3}'); Go(N) = GOMAXPROCS=N; binaries built with go build"
[[ -n "$LUA_BIN" ]] && echo "- Lua: $("$LUA_BIN" -v 2>&1 | head -1 | awk '{print $1, $2}')"
[[ -n "$PY_BIN" ]] && echo "- Python: $("$PY_BIN" --version 2>&1) (asyncio)"
[[ -n "$NODE_BIN" ]] && echo "- Node: $("$NODE_BIN" --version 2>&1)"
if [[ "${QI_TASKS_TIMER:-}" != loop ]] && command -v hyperfine >/dev/null 2>&1; then
    TIMER=hyperfine
    echo "- Timer: $(hyperfine --version), whole process; warm-up 1 and $RUNS to $((RUNS * 4)) runs" \
        "(3 runs without warm-up when one run takes over 1 s, 2 over 3 s); mean of the runs;" \
        "Qi and Go: median of $ROUNDS such means, timed in rounds that take turns"
else
    TIMER=loop
    echo "- Timer: hyperfine not found; a simple timing loop, warm-up 1, $RUNS runs" \
        "(fewer as above for slow runs); mean of the runs; Qi and Go: median of $ROUNDS" \
        "such means, timed in rounds that take turns"
fi
echo

# ---------------------------------------------------------------- sources and Go binaries

# make_variant NAME: writes the variant's sources into $TMP/src, changing the line that
# sets n (it must appear exactly once in each program)
make_variant() {
    local name="$1" from old new c src dst
    read -r from old new <<<"${VARIANT[$name]}"
    for c in qi1 go1 lua py node; do
        src="$HERE/$from.${EXT[$c]}"
        dst="$TMP/src/$name.${EXT[$c]}"
        if [[ ! -f "$src" ]]; then
            [[ -n "${NOT_APPLICABLE[$from:${EXT[$c]}]:-}" ]] || die "missing $src"
            continue
        fi
        [[ "$(grep -c "\bn = $old\b" "$src")" == 1 ]] ||
            die "$src should set n = $old on exactly one line"
        sed "s/\bn = $old\b/n = $new/" "$src" >"$dst"
    done
}
for v in "${!VARIANT[@]}"; do make_variant "$v"; done

if [[ -n "$GO_BIN" ]]; then
    echo "Building the Go programs (go build)..." >&2
    for w in "${WORKLOADS[@]}" park park0; do
        src="$(source_of "$w" go1)"
        [[ -f "$src" ]] || die "missing $src"
        "$GO_BIN" build -o "$TMP/go/$w" "$src" || die "go build $src failed"
    done
fi

# ---------------------------------------------------------------- output check

# Peak RSS is measured with /usr/bin/time -f %M when it is there.
RSS_TOOL=()
if [[ -x /usr/bin/time ]]; then
    RSS_TOOL=(/usr/bin/time -f %M -o)
else
    echo "NOTE: /usr/bin/time not found: no bytes-per-parked-task table." >&2
fi

# run_once WORKLOAD COLUMN [RSS-FILE]: runs the program once under timeout; its stdout goes
# to $TMP/out/WORKLOAD-COLUMN, its wall time in seconds to $TMP/out/WORKLOAD-COLUMN.sec and,
# when RSS-FILE is given and /usr/bin/time is there, its peak RSS in KB to RSS-FILE
run_once() {
    local w="$1" c="$2" s t rc=0 out="$TMP/out/$1-$2" rss=()
    [[ -z "${3:-}" || ${#RSS_TOOL[@]} == 0 ]] || rss=("${RSS_TOOL[@]}" "$3")
    s="$EPOCHREALTIME"
    # shellcheck disable=SC2046,SC2086  # the command line is split into words on purpose
    env ${ENVV[$c]} timeout "$TMO" "${rss[@]}" $(command_for "$w" "$c") >"$out" 2>"$out.err" || rc=$?
    t="$EPOCHREALTIME"
    awk -v s="$s" -v t="$t" 'BEGIN { print t - s }' >"$out.sec"
    if ((rc == 124)); then
        die "$(command_for "$w" "$c") (${ENVV[$c]:-no environment}) did not finish in $TMO s (hang?)"
    elif ((rc != 0)); then
        die "$(command_for "$w" "$c") (${ENVV[$c]:-no environment}) failed with exit code $rc:
$(head -c 2000 "$out.err")"
    fi
}

present() { # present WORKLOAD COLUMN: true when the column's tool is there and the program exists
    [[ -n "${HAVE[$2]}" ]] || return 1
    if [[ -z "${VARIANT[$1]:-}" && ! -f "$(source_of "$1" "$2")" ]]; then
        [[ -n "${NOT_APPLICABLE[$1:${EXT[$2]}]:-}" ]] || die "missing $(source_of "$1" "$2")"
        return 1
    fi
    [[ -f "$(source_of "$1" "$2")" || "${EXT[$2]}" == go ]]
}

cd "$HERE"
for w in "${WORKLOADS[@]}" park; do
    expected=""
    for c in "${COLS[@]}"; do
        present "$w" "$c" || continue
        echo "checking $w ${NAME[$c]} ..." >&2
        if [[ $w == park ]]; then run_once park "$c" "$TMP/park-$c.rss"; else run_once "$w" "$c"; fi
        out="$(grep -v '^sleep_ms ' "$TMP/out/$w-$c" || true)"
        if [[ -z "$expected" ]]; then
            expected="$out"
            first="$c"
        elif [[ "$out" != "$expected" ]]; then
            die "$w: ${NAME[$c]} ($(command_for "$w" "$c")) printed
  $out
but ${NAME[$first]} ($(command_for "$w" "$first")) printed
  $expected"
        fi
    done
    echo "checked $w: every version prints '${expected//$'\n'/ / }'" >&2
done

# ---------------------------------------------------------------- timing

HF_SHELL=()
if [[ $TIMER == hyperfine ]] && hyperfine --help 2>&1 | grep -q -- '--shell'; then
    HF_SHELL=(-N) # no intermediate shell
fi

# mean_ms WORKLOAD COLUMN: prints the mean wall-clock time in milliseconds
mean_ms() {
    local w="$1" c="$2" cmd sec runs=() n="$RUNS" warm=1
    cmd="$(command_for "$w" "$c")"
    sec="$(cat "$TMP/out/$w-$c.sec")"
    if awk -v s="$sec" 'BEGIN { exit !(s > 3) }'; then
        n=2 warm=0
    elif awk -v s="$sec" 'BEGIN { exit !(s > 1) }'; then
        n=3 warm=0
    fi
    if [[ $TIMER == hyperfine ]]; then
        if ((n == RUNS)); then runs=(--min-runs "$n" --max-runs $((n * 4))); else runs=(--runs "$n"); fi
        # The whole hyperfine call runs under timeout: a hang cannot block the script.
        # shellcheck disable=SC2086  # ENVV is empty or one VAR=value word
        env ${ENVV[$c]} timeout $((TMO * (n + warm + 1))) \
            hyperfine "${HF_SHELL[@]}" --warmup "$warm" "${runs[@]}" --style none \
            --export-csv "$TMP/$w-$c.csv" "$cmd" >&2 ||
            die "hyperfine failed (or timed out) on $cmd (${ENVV[$c]:-no environment})"
        # CSV: command,mean,stddev,median,user,system,min,max (seconds)
        awk -F, 'NR == 2 { printf "%.1f", $(NF - 6) * 1000 }' "$TMP/$w-$c.csv"
    else
        local i total=0 s t
        # shellcheck disable=SC2086
        ((warm == 0)) || env ${ENVV[$c]} timeout "$TMO" $cmd >/dev/null
        for ((i = 0; i < n; i++)); do
            s="$EPOCHREALTIME"
            # shellcheck disable=SC2086
            env ${ENVV[$c]} timeout "$TMO" $cmd >/dev/null || die "$cmd failed"
            t="$EPOCHREALTIME"
            total="$(awk -v a="$total" -v s="$s" -v t="$t" 'BEGIN { print a + (t - s) }')"
        done
        awk -v t="$total" -v n="$n" 'BEGIN { printf "%.1f", t / n * 1000 }'
    fi
}

ratio() { # ratio A B: A/B with two decimals, or "–" when either is missing
    if [[ -z "$1" || -z "$2" ]]; then
        printf '–'
    else
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "–" }'
    fi
}

median() { # median of the numbers given as arguments
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Qi and Go, whose ratios are the goals, are timed in ROUNDS rounds that take turns, and
# each gets the median of its rounds: a change in the machine's speed while one of them is
# timed (this 2-core VM passes cache lines between its cores about four times slower for
# minutes at a time) then hits the others as well, instead of one ratio alone.
declare -A MS PROBE

# probe LABEL: one run of the Go spawn program on two threads, its wall time in seconds
# into PROBE[LABEL] (nothing without Go)
probe() {
    [[ -n "$GO_BIN" ]] || return 0
    local s t
    s="$EPOCHREALTIME"
    GOMAXPROCS=2 timeout "$TMO" "$TMP/go/spawn" >/dev/null || die "the probe (Go spawn) failed"
    t="$EPOCHREALTIME"
    PROBE[$1]="$(awk -v s="$s" -v t="$t" 'BEGIN { printf "%.2f", t - s }')"
    echo "cross-core probe before $1: ${PROBE[$1]} s" >&2
}

FASTEST_PROBE=""
# probe_fast LABEL: probe, and while the probe is over twice the fastest so far, wait for
# the slow period to pass (up to PATIENCE seconds in all for this label)
probe_fast() {
    [[ -n "$GO_BIN" ]] || return 0
    local waited=0
    probe "$1"
    while [[ -n "$FASTEST_PROBE" ]] && (( waited < PATIENCE )) &&
        awk -v p="${PROBE[$1]}" -v f="$FASTEST_PROBE" 'BEGIN { exit !(p > 2 * f) }'; do
        echo "slow period (fastest probe ${FASTEST_PROBE} s): waiting 15 s" >&2
        sleep 15
        waited=$((waited + 15))
        probe "$1"
    done
    if [[ -z "$FASTEST_PROBE" ]] || awk -v p="${PROBE[$1]}" -v f="$FASTEST_PROBE" 'BEGIN { exit !(p < f) }'; then
        FASTEST_PROBE="${PROBE[$1]}"
    fi
}

# time_workload W: Qi and Go in rounds, the others once, into MS[W:column]
time_workload() {
    local w="$1" r c
    declare -A ROUND_MS=()
    for ((r = 1; r <= ROUNDS; r++)); do
        for c in qi1 qi2 go1 go2; do
            present "$w" "$c" || continue
            echo "timing $w ${NAME[$c]} (round $r of $ROUNDS) ..." >&2
            ROUND_MS[$c]+="$(mean_ms "$w" "$c") "
        done
    done
    for c in "${COLS[@]}"; do
        present "$w" "$c" || continue
        if [[ -n "${ROUND_MS[$c]:-}" ]]; then
            # shellcheck disable=SC2086  # one word per round
            MS[$w:$c]="$(median ${ROUND_MS[$c]})"
            echo "$w ${NAME[$c]}: rounds ${ROUND_MS[$c]}-> ${MS[$w:$c]} ms" >&2
        else
            echo "timing $w ${NAME[$c]} ..." >&2
            MS[$w:$c]="$(mean_ms "$w" "$c")"
        fi
    done
}

for w in "${WORKLOADS[@]}"; do
    probe_fast "$w"
    time_workload "$w"
done
probe_fast end
# A workload timed in a slow period that no earlier probe could reveal (the first ones)
# is timed again, once the probe is fast.
if [[ -n "$GO_BIN" ]]; then
    for w in "${WORKLOADS[@]}"; do
        if awk -v p="${PROBE[$w]}" -v f="$FASTEST_PROBE" 'BEGIN { exit !(p > 2 * f) }'; then
            echo "$w was timed in a slow period (probe ${PROBE[$w]} s): timing it again" >&2
            probe_fast "$w"
            time_workload "$w"
        fi
    done
fi

# The sleeping part's own wall time, as the program prints it: median of RUNS runs.
declare -A SLEEP
for w in sleepers sleepers100k; do
    for c in "${COLS[@]}"; do
        present "$w" "$c" || continue
        echo "sleep times of $w ${NAME[$c]} ..." >&2
        vals=()
        for ((i = 0; i < RUNS; i++)); do
            run_once "$w" "$c"
            vals+=("$(awk '$1 == "sleep_ms" { print $2 }' "$TMP/out/$w-$c")")
        done
        SLEEP[$w:$c]="$(printf '%s\n' "${vals[@]}" | sort -n | awk '{ v[NR] = $1 } END {
            if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
    done
done

# Peak RSS (KB) of park (from its check run) and of its n = 0 baseline, one run each.
declare -A RSS
if ((${#RSS_TOOL[@]})); then
    for c in "${COLS[@]}"; do
        present park "$c" || continue
        echo "peak RSS of park with n = 0, ${NAME[$c]} ..." >&2
        run_once park0 "$c" "$TMP/park0-$c.rss"
        RSS[park:$c]="$(tail -1 "$TMP/park-$c.rss")"
        RSS[park0:$c]="$(tail -1 "$TMP/park0-$c.rss")"
    done
fi

# ---------------------------------------------------------------- tables

echo "- Load average at the end of the measurements: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)" \
    "(other processes on the machine make the times, the 2-thread ones most, noisier)"
if [[ -n "$GO_BIN" ]]; then
    # label=seconds pairs, in order; a probe over twice the fastest is marked slow
    pairs=()
    for w in "${WORKLOADS[@]}" end; do pairs+=("$w=${PROBE[$w]}"); done
    printf '%s\n' "${pairs[@]}" | awk -F= '
        { label[NR] = $1; sec[NR] = $2; if (NR == 1 || $2 < min) min = $2 }
        END {
            printf "- Cross-core probe (one run of Go(2) spawn, s) before each workload and at the end:"
            for (i = 1; i <= NR; i++)
                printf " %s %s%s%s", label[i], sec[i], (sec[i] > 2 * min) ? " (slow)" : "", (i < NR) ? "," : ""
            print "; this VM passes cache lines between its cores about four times slower for" \
                " minutes at a time, and a probe over twice the fastest marks such a period"
        }'
fi
echo

cell() { # cell ARRAY-VALUE WORKLOAD COLUMN
    if [[ -n "$1" ]]; then
        printf '%s' "$1"
    elif [[ -n "${NOT_APPLICABLE[$2:${EXT[$3]}]:-}" ]]; then
        printf 'n/a'
    else
        printf 'skipped'
    fi
}

echo "## Whole-process wall-clock time (ms)"
echo
echo "| workload | Qi(1) ms | Qi(2) ms | Go(1) ms | Go(2) ms | Lua ms | Python ms | Node ms | Qi(1)/Go(1) | Qi(2)/Go(2) | Qi(1)/Lua |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for w in "${WORKLOADS[@]}"; do
    printf '| %s' "$w"
    for c in "${COLS[@]}"; do printf ' | %s' "$(cell "${MS[$w:$c]:-}" "$w" "$c")"; done
    printf ' | %s | %s | %s |\n' \
        "$(ratio "${MS[$w:qi1]:-}" "${MS[$w:go1]:-}")" \
        "$(ratio "${MS[$w:qi2]:-}" "${MS[$w:go2]:-}")" \
        "$(ratio "${MS[$w:qi1]:-}" "${MS[$w:lua]:-}")"
done
echo
echo "Ratios below 1 mean Qi is faster. Go's resume is a goroutine round trip over two unbuffered"
echo "channels (Go 1.19 has no coroutines), the same work as its pingpong. Lua has no timers: no sleepers."
echo
echo "## Sleeping part of sleepers, as printed by the program (ms, median of $RUNS runs)"
echo
echo "| workload | Qi(1) | Qi(2) | Go(1) | Go(2) | Lua | Python | Node |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for w in sleepers sleepers100k; do
    printf '| %s' "$w"
    for c in "${COLS[@]}"; do printf ' | %s' "$(cell "${SLEEP[$w:$c]:-}" "$w" "$c")"; done
    printf ' |\n'
done
echo
if ((${#RSS_TOOL[@]})); then
    echo "## Memory per parked task ($PARKED tasks blocked on a channel receive)"
    echo
    echo "| runtime | peak RSS, $PARKED parked (MB) | peak RSS, n = 0 (MB) | bytes per parked task |"
    echo "|---|---:|---:|---:|"
    for c in "${COLS[@]}"; do
        if [[ -z "${RSS[park:$c]:-}" ]]; then
            printf '| %s | skipped | skipped | skipped |\n' "${NAME[$c]}"
            continue
        fi
        awk -v name="${NAME[$c]}" -v p="${RSS[park:$c]}" -v b="${RSS[park0:$c]}" -v n="$PARKED" \
            'BEGIN { printf "| %s | %.1f | %.1f | %.0f |\n", name, p / 1024, b / 1024, (p - b) * 1024 / n }'
    done
    echo
    echo "Peak RSS from /usr/bin/time -f %M, one run each; the baseline is the same program with"
    echo "n = 0. Go: goroutines blocked on an unbuffered channel; Lua: suspended coroutines kept in a"
    echo "table; Python: asyncio tasks awaiting one Event; Node: async functions awaiting one"
    echo "never-resolved promise."
fi

# ---------------------------------------------------------------- goals

# goal TEXT VALUE OP LIMIT: one line saying whether VALUE OP LIMIT holds ("?" when missing)
goal() {
    local verdict
    if [[ -z "$2" || "$2" == "–" ]]; then
        verdict="? (not measured)"
    elif awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { exit !((op == "<=") ? v <= l : v < l) }'; then
        verdict="met"
    else
        verdict="NOT met"
    fi
    printf -- '- %s: %s %s %s → %s\n' "$1" "$2" "$3" "$4" "$verdict"
}

echo
echo "## The project's goals"
echo
for n in 1 2; do
    goal "spawn, Qi($n)/Go($n)" "$(ratio "${MS[spawn:qi$n]:-}" "${MS[spawn:go$n]:-}")" "<=" 0.5
done
for n in 1 2; do
    goal "switch (pingpong), Qi($n)/Go($n)" "$(ratio "${MS[pingpong:qi$n]:-}" "${MS[pingpong:go$n]:-}")" "<=" 0.5
done
for n in 1 2; do
    goal "resume, Qi($n)/Lua" "$(ratio "${MS[resume:qi$n]:-}" "${MS[resume:lua]:-}")" "<=" 1
done
for n in 1 2; do
    goal "channel, Qi($n)/Go($n)" "$(ratio "${MS[channel:qi$n]:-}" "${MS[channel:go$n]:-}")" "<=" 1
done
for n in 1 2; do
    p="${RSS[park:qi$n]:-}" b="${RSS[park0:qi$n]:-}"
    bytes=""
    [[ -z "$p" ]] || bytes="$(awk -v p="$p" -v b="$b" -v n="$PARKED" 'BEGIN { printf "%.0f", (p - b) * 1024 / n }')"
    goal "park, Qi($n) bytes per parked task" "$bytes" "<=" 256
done
for n in 1 2; do
    goal "sleepers 10,000, Qi($n) sleeping part in ms" "${SLEEP[sleepers:qi$n]:-}" "<" 30
    goal "sleepers 10,000, Qi($n) whole process in ms" "${MS[sleepers:qi$n]:-}" "<" 30
    goal "sleepers 100,000, Qi($n) sleeping part in ms" "${SLEEP[sleepers100k:qi$n]:-}" "<" 300
    goal "sleepers 100,000, Qi($n) whole process in ms" "${MS[sleepers100k:qi$n]:-}" "<" 300
done
