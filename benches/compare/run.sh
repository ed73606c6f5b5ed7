#!/usr/bin/env bash
# Whole-process comparison of Qi with Lua 5.4 and Python 3 on five small workloads.
#
#   benches/compare/run.sh            # from anywhere inside the repository
#
# For every workload (fib, loop, strings, lists, startup) it:
#   1. runs the .qi, .lua and .py versions once and checks they print exactly the same thing
#      (any difference, or a non-zero exit, stops the script with an error);
#   2. times each whole process with hyperfine (warm-up 1, at least 5 runs), or, without
#      hyperfine, with a simple timing loop (warm-up 1, 5 runs);
# and then prints a Markdown table with the mean wall-clock times and the Qi/Lua and
# Qi/Python ratios. A language whose interpreter is missing is skipped with a message.
#
# Environment: QI_COMPARE_RUNS (minimum runs, default 5); LUA (default lua5.4, then lua) and
# PYTHON (default python3) name the interpreters (set to "" to skip one); QI_COMPARE_TIMER=loop
# uses the fallback timer even when hyperfine is installed; CARGO_TARGET_DIR is honoured.
# The full run takes about a minute on a 2-core machine.

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORKLOADS=(fib loop strings lists startup)
RUNS="${QI_COMPARE_RUNS:-5}"

die() {
    echo "错误 / error: $*" >&2
    exit 1
}

# ---------------------------------------------------------------- interpreters

echo "Building the release binary (cargo build --release -q)..." >&2
(cd "$ROOT" && cargo build --release -q) || die "cargo build --release failed"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
[[ "$TARGET_DIR" == /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
QI="$TARGET_DIR/release/qi"
[[ -x "$QI" ]] || die "$QI was not built"

source "$HERE/../tools.sh"

# LUA / PYTHON, when set, name the only interpreter to try.
LUA_BIN="$(pick_tool LUA lua5.4 lua)"
PY_BIN="$(pick_tool PYTHON python3)"

# Languages in table order: name, file extension, interpreter command ("" = missing).
LANGS=(qi lua py)
declare -A CMD EXT NAME
CMD[qi]="$QI run"
EXT[qi]=qi
NAME[qi]=Qi
CMD[lua]="$LUA_BIN"
EXT[lua]=lua
NAME[lua]=Lua
CMD[py]="$PY_BIN"
EXT[py]=py
NAME[py]=Python

if [[ -z "$LUA_BIN" ]]; then
    echo "NOTE: no Lua interpreter found (lua5.4 / lua, or LUA=${LUA:-}): skipping Lua." >&2
elif ! "$LUA_BIN" -v 2>&1 | grep -q 'Lua 5\.4'; then
    echo "NOTE: $LUA_BIN is not Lua 5.4 ($("$LUA_BIN" -v 2>&1)); the Lua programs need 5.4." >&2
fi
if [[ -z "$PY_BIN" ]]; then
    echo "NOTE: no python3 found (python3, or PYTHON=${PYTHON:-}): skipping Python." >&2
fi

# ---------------------------------------------------------------- machine

echo "# Qi vs Lua vs Python: whole-process wall-clock times"
echo
cpu_field() { grep -m1 "^$1[[:space:]]*:" /proc/cpuinfo 2>/dev/null | sed 's/.*: *//'; }
echo "- Machine: $(nproc) CPUs, $(cpu_field 'model name' || true)" \
    "(family $(cpu_field 'cpu family' || true), model $(cpu_field model || true)," \
    "$(cpu_field 'cpu MHz' || true) MHz)"
echo "- OS: $(uname -srm)"
if QI_REV="$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)"; then
    (cd "$ROOT" && git diff --quiet HEAD --) || QI_REV="$QI_REV + uncommitted changes"
else
    QI_REV="unknown revision"
fi
echo "- Qi: $QI_REV (release build)"
[[ -n "$LUA_BIN" ]] && echo "- Lua: $("$LUA_BIN" -v 2>&1 | head -1 | awk '{print $1, $2}')"
[[ -n "$PY_BIN" ]] && echo "- Python: $("$PY_BIN" --version 2>&1)"
if [[ "${QI_COMPARE_TIMER:-}" != loop ]] && command -v hyperfine >/dev/null 2>&1; then
    TIMER=hyperfine
    echo "- Timer: $(hyperfine --version), warm-up 1, at least $RUNS runs; mean of the runs"
else
    TIMER=loop
    echo "- Timer: hyperfine not found; a simple timing loop, warm-up 1, $RUNS runs; mean of the runs"
fi
echo

# ---------------------------------------------------------------- output check

cd "$HERE"
for w in "${WORKLOADS[@]}"; do
    expected=""
    for l in "${LANGS[@]}"; do
        [[ -n "${CMD[$l]}" ]] || continue
        file="$w.${EXT[$l]}"
        [[ -f "$file" ]] || die "missing $HERE/$file"
        # shellcheck disable=SC2086  # CMD holds a command and its leading arguments
        if ! out="$(${CMD[$l]} "$file" 2>&1)"; then
            die "$file failed:
$out"
        fi
        if [[ -z "$expected" ]]; then
            expected="$out"
            first="$file"
        elif [[ "$out" != "$expected" ]]; then
            die "$w: $file printed
  $out
but $first printed
  $expected"
        fi
    done
    echo "checked $w: every language prints '$expected'" >&2
done

# ---------------------------------------------------------------- timing

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

HF_SHELL=()
if [[ $TIMER == hyperfine ]] && hyperfine --help 2>&1 | grep -q -- '--shell'; then
    HF_SHELL=(-N) # no intermediate shell: matters for the startup workload
fi

# mean_ms WORKLOAD LANG: prints the mean wall-clock time in milliseconds
mean_ms() {
    local w="$1" l="$2" file="$1.${EXT[$2]}"
    if [[ $TIMER == hyperfine ]]; then
        hyperfine "${HF_SHELL[@]}" --warmup 1 --min-runs "$RUNS" --style none \
            --export-csv "$TMP/$w-$l.csv" "${CMD[$l]} $file" >&2 ||
            die "hyperfine failed on $file"
        # CSV: command,mean,stddev,median,user,system,min,max (seconds)
        awk -F, 'NR == 2 { printf "%.1f", $(NF - 6) * 1000 }' "$TMP/$w-$l.csv"
    else
        # A simple timing loop. It reads bash's microsecond clock rather than using
        # /usr/bin/time, whose %e has only 10 ms resolution (too coarse for startup).
        local i total=0 s t
        # shellcheck disable=SC2086  # CMD holds a command and its leading arguments
        ${CMD[$l]} "$file" >/dev/null # warm-up
        for ((i = 0; i < RUNS; i++)); do
            s="$EPOCHREALTIME"
            # shellcheck disable=SC2086
            ${CMD[$l]} "$file" >/dev/null
            t="$EPOCHREALTIME"
            total="$(awk -v a="$total" -v s="$s" -v t="$t" 'BEGIN { print a + (t - s) }')"
        done
        awk -v t="$total" -v n="$RUNS" 'BEGIN { printf "%.1f", t / n * 1000 }'
    fi
}

ratio() { # ratio A B: A/B with two decimals, or "–" when either is missing
    if [[ -z "$1" || -z "$2" ]]; then
        printf '–'
    else
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "–" }'
    fi
}

declare -A MS
for w in "${WORKLOADS[@]}"; do
    for l in "${LANGS[@]}"; do
        [[ -n "${CMD[$l]}" ]] || continue
        echo "timing $w.${EXT[$l]} ..." >&2
        MS[$w-$l]="$(mean_ms "$w" "$l")"
    done
done

cell() { # cell WORKLOAD LANG
    local v="${MS[$1-$2]:-}"
    if [[ -n "$v" ]]; then printf '%s' "$v"; else printf 'skipped'; fi
}

echo "| workload | Qi ms | Lua ms | Python ms | Qi/Lua | Qi/Python |"
echo "|---|---:|---:|---:|---:|---:|"
for w in "${WORKLOADS[@]}"; do
    printf '| %s | %s | %s | %s | %s | %s |\n' "$w" \
        "$(cell "$w" qi)" "$(cell "$w" lua)" "$(cell "$w" py)" \
        "$(ratio "${MS[$w-qi]:-}" "${MS[$w-lua]:-}")" \
        "$(ratio "${MS[$w-qi]:-}" "${MS[$w-py]:-}")"
done
echo
echo "Ratios below 1 mean Qi is faster. Workloads: fib = recursive fib(30); loop = 30,000,000-step"
echo "while loop summing i; strings = 1,000,000 appends of \"x\" to one string; lists = 1,000,000-element"
echo "list built and summed, 100,000-key string dict filled and read back, 200,000 integers sorted;"
echo "startup = hello world."
