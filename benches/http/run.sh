#!/usr/bin/env bash
# Whole-process comparison of Qi's asynchronous I/O with Go, Node and Python asyncio.
#
#   benches/http/run.sh                 # from anywhere; Markdown on stdout, progress on stderr
#   benches/http/run.sh | tee results.md
#
# Three parts (HTTP_PARTS="http idle files" selects them):
#
#   http   Hello-world HTTP/1.1 keep-alive servers (hello.qi with HTTP服务, hello.go with
#          net/http, hello.js with Node http, hello.py on raw asyncio) under
#          `wrk -t2 -c100 -d10s --latency`, after a 3 s wrk warm-up. Each measured run starts
#          a fresh server; runs go round-robin over the servers (run 1 of every server, then
#          run 2, …) so that drift on the machine spreads over all of them. Qi and Go run
#          with their default thread count (= CPUs) and with one thread. Table: median
#          requests/s (and the range), median p50 / p99 latency, the ratio to Node, the
#          server's CPU use during the measured run, the CPU use of everything else on the
#          machine in that time (to see disturbed runs) and the server's RSS after it.
#   idle   An idle keep-alive client (idleclient.go) opens 10,000 connections to a server,
#          does one GET on each and keeps them open; 2 s after the last reply the script
#          reads the server's VmRSS from /proc/<pid>/status. Then the client sends a second
#          request on every connection and reports how many still answered (a server that
#          drops idle connections shows up there). Qi drops a connection that has been
#          silent for 30 s, Node after keepAliveTimeout (hello.js sets 60 s): the whole
#          measurement takes about 10 s.
#   files  files.qi reads 100 files of 1 MB one by one (顺序) and with one task per file
#          (并发, 创建 then 等待 each), timed inside the program with 计时(); once with the
#          files in the page cache (warm) and once after evicting them with
#          posix_fadvise(POSIX_FADV_DONTNEED) before every run (cold-ish: no root needed,
#          but the VM host may still cache the disk). Also 100 files of 4 KB (warm), where
#          the per-operation cost dominates. files.go does the same in Go for reference.
#
# On a small machine wrk runs on the same cores as the server and competes with it for
# CPU; the absolute numbers are only comparable within one run of this script, on one
# otherwise idle machine.
#
# Environment: HTTP_RUNS (measured runs per server and per configuration, default 3; the
# tables show medians), HTTP_DURATION (wrk seconds, default 10), HTTP_WARMUP (default 3),
# HTTP_CONNS (wrk connections, default 100), HTTP_WRK_THREADS (default 2), IDLE_CONNS
# (default 10000), FILES_RUNS (default 5), HTTP_PARTS (default "http idle files"),
# HTTP_MAX_OTHER / HTTP_RETRIES (a wrk run during which other processes used more than
# HTTP_MAX_OTHER % CPU, default 20, is measured again after 20 s, up to HTTP_RETRIES times,
# default 6: on a shared machine this keeps the medians to undisturbed runs; before every
# measurement the script also waits, up to 60 s, for a second in which the machine is
# less busy than that),
# GO / NODE / PYTHON / WRK name the tools (set to "" to skip one). CARGO_TARGET_DIR is
# honoured. QI_BIN=/path/to/qi uses that binary instead of building the working tree (for
# example a release build of a clean commit); QI_BIN_LABEL then names it in the output.
# The full run takes about 12 minutes on a quiet 2-core machine (longer when it has to wait
# for other work to finish).

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RUNS="${HTTP_RUNS:-3}"
DURATION="${HTTP_DURATION:-10}"
WARMUP="${HTTP_WARMUP:-3}"
CONNS="${HTTP_CONNS:-100}"
WRK_THREADS="${HTTP_WRK_THREADS:-2}"
IDLE_N="${IDLE_CONNS:-10000}"
FILES_RUNS="${FILES_RUNS:-5}"
PARTS="${HTTP_PARTS:-http idle files}"
MAX_OTHER="${HTTP_MAX_OTHER:-20}"
RETRIES="${HTTP_RETRIES:-6}"

die() {
    echo "错误 / error: $*" >&2
    exit 1
}
note() { echo "$*" >&2; }
want() { [[ " $PARTS " == *" $1 "* ]]; }

# ---------------------------------------------------------------- tools

if [[ -n "${QI_BIN:-}" ]]; then
    [[ -x "$QI_BIN" ]] || die "QI_BIN=$QI_BIN is not an executable"
    QI_SRC="$QI_BIN"
else
    note "Building the release binary (cargo build --release -q)..."
    (cd "$ROOT" && cargo build --release -q) || die "cargo build --release failed"
    TARGET_DIR="${CARGO_TARGET_DIR:-target}"
    [[ "$TARGET_DIR" == /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
    QI_SRC="$TARGET_DIR/release/qi"
    [[ -x "$QI_SRC" ]] || die "$QI_SRC was not built"
fi

source "$HERE/../tools.sh"
GO_BIN="$(pick_tool GO go)"
NODE_BIN="$(pick_tool NODE node)"
PY_BIN="$(pick_tool PYTHON python3)"
WRK_BIN="$(pick_tool WRK wrk)"
command -v curl >/dev/null 2>&1 || die "curl is needed (to check the servers)"
[[ -n "$PY_BIN" ]] || die "python3 is needed (free ports, cold-cache eviction, the Python server)"
[[ -n "$GO_BIN" ]] || note "NOTE: no Go found: skipping Go, and the idle-connection part (its client is Go)."
[[ -n "$NODE_BIN" ]] || note "NOTE: no node found: skipping Node."
if [[ -z "$WRK_BIN" ]] && want http; then
    note "NOTE: no wrk found: skipping the throughput part."
fi

TMP="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$TMP/bin" "$TMP/log"

# The binary is copied so that a rebuild in the working tree during the run changes nothing.
QI="$TMP/bin/qi"
cp "$QI_SRC" "$QI"

if [[ -n "$GO_BIN" ]]; then
    note "Building the Go programs (go build)..."
    for p in hello idleclient files; do
        (cd "$HERE" && "$GO_BIN" build -o "$TMP/bin/$p-go" "$p.go") || die "go build $p.go failed"
    done
fi

NCPU="$(nproc)"
CLK_TCK="$(getconf CLK_TCK)"

# ---------------------------------------------------------------- machine

echo "# Qi asynchronous I/O vs Go, Node and Python asyncio (whole processes)"
echo
cpu_field() { grep -m1 "^$1[[:space:]]*:" /proc/cpuinfo 2>/dev/null | sed 's/.*: *//'; }
echo "- Date: $(date '+%Y-%m-%d %H:%M %Z')"
echo "- Machine: $NCPU CPUs, $(cpu_field 'model name' || true)," \
    "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; $(uname -srm)"
if [[ -n "${QI_BIN:-}" ]]; then
    QI_REV="${QI_BIN_LABEL:-the binary QI_BIN=$QI_BIN}"
elif QI_REV="$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)"; then
    (cd "$ROOT" && git diff --quiet HEAD -- . ':(exclude)benches/http') ||
        QI_REV="$QI_REV + uncommitted changes"
else
    QI_REV="unknown revision"
fi
[[ -n "${QI_BIN:-}" ]] || QI_REV="$QI_REV (release build of the working tree)"
echo "- Qi: $QI_REV"
[[ -n "$GO_BIN" ]] && echo "- Go: $("$GO_BIN" version | awk '{print $3}')"
[[ -n "$NODE_BIN" ]] && echo "- Node: $("$NODE_BIN" --version)"
echo "- Python: $("$PY_BIN" --version 2>&1) (asyncio, default event loop)"
[[ -n "$WRK_BIN" ]] && echo "- wrk: $("$WRK_BIN" --version 2>&1 | head -1 | awk '{print $1, $2}')," \
    "\`wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s --latency\` after a ${WARMUP} s warm-up," \
    "on the same machine as the server"
echo "- Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# ---------------------------------------------------------------- helpers

free_port() {
    "$PY_BIN" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

median() { # the median of the numbers on stdin (mean of the middle two for an even count)
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) print "";
        else if (NR % 2) print v[(NR + 1) / 2];
        else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

med() { # med "N N N …": the median of a space-separated list
    tr ' ' '\n' <<<"$1" | grep . | median
}

status_kb() { # status_kb PID FIELD: a /proc/PID/status field in kB
    awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

busy_ticks() { # busy clock ticks of the whole machine (all CPUs) from /proc/stat
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

wait_quiet() { # waits (up to 60 s) for a second in which the machine is under MAX_OTHER % busy
    local i a b
    for ((i = 0; i < 60; i++)); do
        a="$(busy_ticks)"
        sleep 1
        b="$(busy_ticks)"
        (((b - a) * 100 / CLK_TCK <= MAX_OTHER)) && return 0
        ((i > 0)) || note "  waiting for other processes to quieten down (up to 60 s) ..."
    done
    note "  still busy after 60 s: measuring anyway"
}

cpu_ticks() { # user + system clock ticks of all threads of PID
    # The command name may contain spaces: count fields from the closing parenthesis.
    sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# Server columns: label, command (a %PORT% word is replaced), environment.
declare -A S_NAME S_CMD S_ENV S_HAVE
S_NAME=([qi]="Qi (QI_THREADS=$NCPU)" [qi1]="Qi (QI_THREADS=1)" [go]="Go net/http (GOMAXPROCS=$NCPU)"
    [go1]="Go net/http (GOMAXPROCS=1)" [node]="Node http" [py]="Python asyncio")
S_CMD=([qi]="$QI run $HERE/hello.qi %PORT%" [qi1]="$QI run $HERE/hello.qi %PORT%"
    [go]="$TMP/bin/hello-go %PORT%" [go1]="$TMP/bin/hello-go %PORT%"
    [node]="$NODE_BIN $HERE/hello.js %PORT%" [py]="$PY_BIN $HERE/hello.py %PORT%")
S_ENV=([qi]="QI_THREADS=$NCPU" [qi1]="QI_THREADS=1" [go]="GOMAXPROCS=$NCPU" [go1]="GOMAXPROCS=1"
    [node]="" [py]="")
S_HAVE=([qi]=1 [qi1]=1 [go]="${GO_BIN:+1}" [go1]="${GO_BIN:+1}" [node]="${NODE_BIN:+1}" [py]=1)
[[ "$HERE$TMP$QI$NODE_BIN$PY_BIN" != *" "* ]] || die "a path contains a space; this script cannot handle that"

EXPECTED_BODY="你好，世界"

# start_server KEY: starts the server on a free port; sets SERVER_PID and PORT
start_server() {
    local key="$1" i body
    PORT="$(free_port)"
    local cmd="${S_CMD[$key]//%PORT%/$PORT}"
    # shellcheck disable=SC2086  # the command line is split into words on purpose
    env ${S_ENV[$key]} $cmd >"$TMP/log/$key.out" 2>"$TMP/log/$key.err" &
    SERVER_PID=$!
    for ((i = 0; i < 200; i++)); do
        if body="$(curl -s --max-time 1 "http://127.0.0.1:$PORT/" 2>/dev/null)"; then
            [[ "$body" == "$EXPECTED_BODY" ]] ||
                die "${S_NAME[$key]} answered '$body' instead of '$EXPECTED_BODY'"
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null ||
            die "${S_NAME[$key]} ($cmd) exited: $(head -c 2000 "$TMP/log/$key.err")"
        sleep 0.05
    done
    die "${S_NAME[$key]} ($cmd) did not answer on port $PORT within 10 s"
}

stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}

to_ms() { # a wrk latency such as 812.00us, 1.23ms or 1.05s, in ms
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
        else print "" }'
}

fmt() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "") printf "–"; else printf f, v }'; }

# ---------------------------------------------------------------- part 1: throughput

HTTP_COLS=(qi qi1 go go1 node py)

if want http && [[ -n "$WRK_BIN" ]]; then
    declare -A RPS P50 P99 CPU RSS ERRS OTHER
    WRK_TIME=()
    [[ -x /usr/bin/time ]] && WRK_TIME=(/usr/bin/time -f "%U %S" -o "$TMP/wrk.time")
    # measure_http KEY RUN: one measured run on a fresh server; sets the M_* variables
    measure_http() {
        local key="$1" r="$2" t0 t1 b0 b1 out
        wait_quiet
        start_server "$key"
        "$WRK_BIN" -t"$WRK_THREADS" -c"$CONNS" -d"${WARMUP}s" "http://127.0.0.1:$PORT/" >/dev/null ||
            die "wrk warm-up against ${S_NAME[$key]} failed"
        t0="$(cpu_ticks "$SERVER_PID")" b0="$(busy_ticks)"
        out="$TMP/log/wrk-$key-$r.txt"
        "${WRK_TIME[@]}" "$WRK_BIN" -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --latency \
            "http://127.0.0.1:$PORT/" >"$out" || die "wrk against ${S_NAME[$key]} failed"
        t1="$(cpu_ticks "$SERVER_PID")" b1="$(busy_ticks)"
        M_OTHER=""
        if ((${#WRK_TIME[@]})); then
            # Everything else on the machine: all busy time − server − wrk.
            M_OTHER="$(awk -v a="$t0" -v b="$t1" -v x="$b0" -v y="$b1" -v hz="$CLK_TCK" \
                -v d="$DURATION" -v w="$(tail -1 "$TMP/wrk.time")" 'BEGIN {
                    split(w, t, " "); o = ((y - x) - (b - a)) / hz - t[1] - t[2];
                    if (o < 0) o = 0; printf "%.0f", o / d * 100 }')"
        fi
        M_RSS="$(status_kb "$SERVER_PID" VmRSS)"
        stop_server
        M_RPS="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
        [[ -n "$M_RPS" ]] || die "no Requests/sec in the wrk output for ${S_NAME[$key]}: $(cat "$out")"
        M_P50="$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")"
        M_P99="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")"
        M_CPU="$(awk -v a="$t0" -v b="$t1" -v hz="$CLK_TCK" -v d="$DURATION" \
            'BEGIN { printf "%.0f", (b - a) / hz / d * 100 }')"
        # Socket errors and non-2xx replies, if wrk saw any.
        M_ERR="$(grep -E 'Socket errors|Non-2xx' "$out" | tr -s ' ' | tr '\n' ';' || true)"
    }

    DISCARDED=0
    for ((r = 1; r <= RUNS; r++)); do
        for key in "${HTTP_COLS[@]}"; do
            [[ -n "${S_HAVE[$key]}" ]] || continue
            for ((attempt = 0; ; attempt++)); do
                note "http: run $r/$RUNS, ${S_NAME[$key]} ..."
                measure_http "$key" "$r"
                # A run during which something else used much CPU is done again (after a
                # pause), up to HTTP_RETRIES times; the last try is kept whatever it saw.
                if [[ -z "$M_OTHER" ]] || ((M_OTHER <= MAX_OTHER || attempt >= RETRIES)); then
                    break
                fi
                DISCARDED=$((DISCARDED + 1))
                note "  disturbed (other processes used $M_OTHER % CPU): waiting 20 s and measuring again"
                sleep 20
            done
            RPS[$key]+="$M_RPS "
            P50[$key]+="$M_P50 "
            P99[$key]+="$M_P99 "
            CPU[$key]+="$M_CPU "
            RSS[$key]+="$M_RSS "
            OTHER[$key]+="$M_OTHER "
            [[ -z "$M_ERR" ]] || ERRS[$key]+="run $r: $M_ERR "
        done
    done

    lo() { tr ' ' '\n' <<<"$1" | grep . | sort -g | head -1; }
    hi() { tr ' ' '\n' <<<"$1" | grep . | sort -g | tail -1; }
    node_rps="$(med "${RPS[node]:-}")"

    echo "## HTTP hello world: throughput and latency (median of $RUNS runs)"
    echo
    echo "| server | requests/s | range of runs | p50 ms | p99 ms | ÷ Node | server CPU % | other CPU % | server RSS after (MB) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for key in "${HTTP_COLS[@]}"; do
        [[ -n "${S_HAVE[$key]}" ]] || continue
        m="$(med "${RPS[$key]}")"
        ratio="–"
        [[ -z "$node_rps" ]] || ratio="$(awk -v a="$m" -v b="$node_rps" 'BEGIN { printf "%.2f", a / b }')"
        printf '| %s | %s | %s–%s | %s | %s | %s | %s | %s | %s |\n' "${S_NAME[$key]}" \
            "$(fmt "$m" '%.0f')" "$(fmt "$(lo "${RPS[$key]}")" '%.0f')" "$(fmt "$(hi "${RPS[$key]}")" '%.0f')" \
            "$(fmt "$(med "${P50[$key]}")" '%.2f')" "$(fmt "$(med "${P99[$key]}")" '%.2f')" "$ratio" \
            "$(med "${CPU[$key]}")" "$(fmt "$(med "${OTHER[$key]:-}")" '%.0f')" "$(awk -v v="$(med "${RSS[$key]}")" 'BEGIN { printf "%.1f", v / 1024 }')"
    done
    echo
    echo "Server CPU % is the server's user + system time during the measured run over its"
    echo "length ($((NCPU * 100)) % = all $NCPU cores); wrk uses most of the rest. Other CPU % is"
    echo "the CPU time of everything else on the machine in the same interval (/proc/stat busy"
    echo "time minus the server's and wrk's): a few % is the kernel and daemons, more means another"
    echo "workload disturbed that run. A run with other CPU above $MAX_OTHER % was measured again"
    echo "(up to $RETRIES times, the last try kept): $DISCARDED disturbed runs were discarded."
    echo "RSS after is VmRSS right after the measured run (warm-up + measured run ="
    echo "$((WARMUP + DURATION)) s of traffic)."
    for key in "${HTTP_COLS[@]}"; do
        [[ -z "${ERRS[$key]:-}" ]] || echo "- wrk reported for ${S_NAME[$key]}: ${ERRS[$key]}"
    done
    echo
    echo "All runs, requests/s (other CPU % of the run in parentheses):"
    echo
    for key in "${HTTP_COLS[@]}"; do
        [[ -n "${S_HAVE[$key]}" ]] || continue
        read -ra rs <<<"${RPS[$key]}"
        read -ra os <<<"${OTHER[$key]:-}"
        line=""
        for i in "${!rs[@]}"; do line+="$(fmt "${rs[$i]}" '%.0f') ($(fmt "${os[$i]:-}" '%s')), "; done
        echo "- ${S_NAME[$key]}: ${line%, }"
    done
    echo
fi

# ---------------------------------------------------------------- part 2: idle connections

IDLE_COLS=(qi go node py)

if want idle && [[ -n "$GO_BIN" ]]; then
    # Both the server and the client need a descriptor per connection.
    hard="$(ulimit -Hn)"
    if [[ "$hard" == unlimited ]] || ((hard >= 65536)); then
        ulimit -n 65536
    else
        ulimit -n "$hard"
    fi
    (($(ulimit -n) >= IDLE_N + 200)) ||
        die "ulimit -n is $(ulimit -n) (hard limit $hard): too low for $IDLE_N connections"
    declare -A BASE HELD PEAK ALIVE READY
    for ((r = 1; r <= RUNS; r++)); do
        for key in "${IDLE_COLS[@]}"; do
            [[ -n "${S_HAVE[$key]}" ]] || continue
            note "idle: run $r/$RUNS, ${S_NAME[$key]} ..."
            start_server "$key"
            sleep 0.5
            base="$(status_kb "$SERVER_PID" VmRSS)"
            out="$TMP/log/idle-$key-$r.txt"
            : >"$out"
            "$TMP/bin/idleclient-go" -addr "127.0.0.1:$PORT" -n "$IDLE_N" -idle 6s >"$out" \
                2>"$out.err" &
            client=$!
            for ((i = 0; i < 600; i++)); do
                grep -q '^ready' "$out" && break
                kill -0 "$client" 2>/dev/null || break
                sleep 0.1
            done
            grep -q '^ready' "$out" || die "idle client against ${S_NAME[$key]} never got ready: $(cat "$out.err")"
            sleep 2
            held="$(status_kb "$SERVER_PID" VmRSS)"
            peak="$(status_kb "$SERVER_PID" VmHWM)"
            wait "$client" || die "idle client against ${S_NAME[$key]} failed: $(cat "$out.err")"
            stop_server
            BASE[$key]+="$base "
            HELD[$key]+="$held "
            PEAK[$key]+="$peak "
            READY[$key]+="$(awk '/^ready/ { print $2 }' "$out") "
            ALIVE[$key]+="$(awk '/^alive/ { print $2 }' "$out") "
        done
    done

    echo "## $IDLE_N idle keep-alive connections: server memory (median of $RUNS runs)"
    echo
    echo "| server | RSS before (MB) | RSS with $IDLE_N idle (MB) | KB per connection | peak RSS (MB) | connected | still answering after ~8 s idle |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for key in "${IDLE_COLS[@]}"; do
        [[ -n "${S_HAVE[$key]}" ]] || continue
        b="$(med "${BASE[$key]}")" h="$(med "${HELD[$key]}")"
        printf '| %s | %.1f | %.1f | %.1f | %.1f | %s | %s |\n' "${S_NAME[$key]}" \
            "$(awk -v v="$b" 'BEGIN { print v / 1024 }')" "$(awk -v v="$h" 'BEGIN { print v / 1024 }')" \
            "$(awk -v b="$b" -v h="$h" -v n="$IDLE_N" 'BEGIN { print (h - b) / n }')" \
            "$(awk -v v="$(med "${PEAK[$key]}")" 'BEGIN { print v / 1024 }')" \
            "$(tr ' ' '\n' <<<"${READY[$key]}" | grep . | sort -g | head -1)" \
            "$(tr ' ' '\n' <<<"${ALIVE[$key]}" | grep . | sort -g | head -1)"
    done
    echo
    echo "RSS is VmRSS from /proc/<pid>/status: before = after one request, with = 2 s after the"
    echo "last of the $IDLE_N connections got its reply; peak = VmHWM. KB per connection ="
    echo "(with − before) / $IDLE_N. The client (idleclient.go) opens 100 connections at a time;"
    echo "connected and still answering are the smallest over the runs. Goal for Qi: under 100 MB."
    echo
fi

# ---------------------------------------------------------------- part 3: files

if want files; then
    FDIR="$TMP/files"
    mkdir -p "$FDIR/big" "$FDIR/small"
    note "files: creating 100 × 1 MB and 100 × 4 KB files in $FDIR ..."
    "$PY_BIN" - "$FDIR" <<'EOF'
import os, sys
d = sys.argv[1]
line = "0123456789abcdefghijklmnopqrstuvwxyz" * 2 + "\n"
text = (line * (1048576 // len(line) + 1)).encode()
for i in range(100):
    for sub, size in (("big", 1048576), ("small", 4096)):
        with open(f"{d}/{sub}/{i}.txt", "wb") as f:
            f.write(text[:size])
            f.flush()
            os.fdatasync(f.fileno())
EOF
    evict() { # drops the files of directory $1 from the page cache
        "$PY_BIN" - "$1" <<'EOF'
import os, sys
for name in os.listdir(sys.argv[1]):
    fd = os.open(os.path.join(sys.argv[1], name), os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
EOF
    }
    warm() { cat "$1"/*.txt >/dev/null; }
    resident() { # resident bytes of the directory's files (fincore), or "?"
        if command -v fincore >/dev/null 2>&1; then
            fincore -b -n -o RES "$1"/*.txt | awk '{ s += $1 } END { print s }'
        else
            echo "?"
        fi
    }
    evict "$FDIR/big"
    COLD_CHECK="$(resident "$FDIR/big")"
    warm "$FDIR/big"
    WARM_CHECK="$(resident "$FDIR/big")"

    RSS_TOOL=()
    [[ -x /usr/bin/time ]] && RSS_TOOL=(/usr/bin/time -f %M -o "$TMP/time.out")
    declare -A FMS FRSS
    CASES=("big warm" "big cold" "small warm")
    for ((r = 1; r <= FILES_RUNS; r++)); do
        for c in "${CASES[@]}"; do
            read -r set cache <<<"$c"
            note "files: run $r/$FILES_RUNS, $set $cache ..."
            wait_quiet
            for mode in 顺序 并发; do
                if [[ $cache == cold ]]; then evict "$FDIR/$set"; else warm "$FDIR/$set"; fi
                line="$("${RSS_TOOL[@]}" "$QI" run "$HERE/files.qi" "$FDIR/$set" 100 "$mode")" ||
                    die "files.qi $set $mode failed"
                FMS[$c:qi:$mode]+="$(awk '{ print $4 }' <<<"$line") "
                [[ ${#RSS_TOOL[@]} == 0 ]] || FRSS[$c:qi:$mode]+="$(tail -1 "$TMP/time.out") "
            done
            if [[ -n "$GO_BIN" ]]; then
                for mode in seq conc; do
                    if [[ $cache == cold ]]; then evict "$FDIR/$set"; else warm "$FDIR/$set"; fi
                    line="$("$TMP/bin/files-go" "$FDIR/$set" 100 "$mode")" || die "files.go $set $mode failed"
                    FMS[$c:go:$mode]+="$(awk '{ print $4 }' <<<"$line") "
                done
            fi
        done
    done

    echo "## Reading 100 files: one by one vs one task per file (median of $FILES_RUNS runs, ms)"
    echo
    echo "| files | page cache | Qi 顺序 | Qi 并发 | 顺序 ÷ 并发 | Qi peak RSS 顺序 / 并发 (MB) | Go one by one | Go goroutines |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    for c in "${CASES[@]}"; do
        read -r set cache <<<"$c"
        s="$(med "${FMS[$c:qi:顺序]}")" p="$(med "${FMS[$c:qi:并发]}")"
        if [[ ${#RSS_TOOL[@]} == 0 ]]; then
            rss="–"
        else
            rss="$(awk -v a="$(med "${FRSS[$c:qi:顺序]}")" -v b="$(med "${FRSS[$c:qi:并发]}")" \
                'BEGIN { printf "%.1f / %.1f", a / 1024, b / 1024 }')"
        fi
        label="100 × 1 MB"
        [[ $set == big ]] || label="100 × 4 KB"
        cache_label="$cache"
        [[ $cache == warm ]] || cache_label="cold (fadvise)"
        printf '| %s | %s | %.1f | %.1f | %.2f | %s | %s | %s |\n' "$label" "$cache_label" "$s" "$p" \
            "$(awk -v a="$s" -v b="$p" 'BEGIN { print a / b }')" "$rss" \
            "$(fmt "$(med "${FMS[$c:go:seq]:-}")" '%.1f')" "$(fmt "$(med "${FMS[$c:go:conc]:-}")" '%.1f')"
    done
    echo
    echo "Times are measured inside the programs (计时() in files.qi, time.Since in files.go), so"
    echo "process start-up is not included. 顺序 ÷ 并发 above 1 means one task per file is faster."
    echo "Cold: before every run the files are evicted with posix_fadvise(POSIX_FADV_DONTNEED)"
    echo "(resident after eviction: $COLD_CHECK bytes of 104857600; after cat: $WARM_CHECK)."
    echo "This empties the guest's page cache only; the VM host may still serve the disk from"
    echo "its own cache, so cold here is cold-ish. Peak RSS from /usr/bin/time -f %M."
    echo
fi

echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other processes on the machine"
echo "add noise; compare numbers within one run only)."
