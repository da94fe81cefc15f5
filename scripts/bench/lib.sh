# shellcheck shell=bash disable=SC2154 # the sourcing script assigns bench_name, work, log, pbx_pid, keep
# Shared by the load scripts in scripts/bench/ (sourced, not run). The sourcing script sets
# `bench_name` first and keeps the pbx's PID in `pbx_pid`, its log in `log`, its temporary
# directory in `work` and `keep=1` to keep that directory.

die() {
    echo "$bench_name: error: $*" >&2
    exit 1
}

# Prints the pbx binary to measure: $PBX_BIN, or the release build (made now) of this checkout;
# dies when it is not an executable.
pbx_binary() {
    local bin
    if [ -n "${PBX_BIN:-}" ]; then
        bin=$PBX_BIN
    else
        # shellcheck source=scripts/ensure-rust.sh
        (cd "$root" && . ./scripts/ensure-rust.sh >&2 && cargo build --release >&2) ||
            die "cargo build --release failed"
        bin="${CARGO_TARGET_DIR:-$root/target}/release/pbx"
    fi
    [ -x "$bin" ] || die "pbx binary $bin is missing or not executable"
    echo "$bin"
}

is_count() {
    case $1 in '' | *[!0-9]*) return 1 ;; *) [ "$1" -gt 0 ] ;; esac
}

# Stops the pbx (SIGTERM, then SIGKILL after 10 s), waits for every child, and removes the
# temporary directory unless asked to keep it. For the script's EXIT trap, after it has
# killed its own load generators.
stop_pbx_and_clean() {
    if [ -n "$pbx_pid" ] && kill -0 "$pbx_pid" 2>/dev/null; then
        kill -TERM "$pbx_pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pbx_pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$pbx_pid" 2>/dev/null || true
    fi
    wait 2>/dev/null || true
    if [ "$keep" = 1 ]; then
        echo "kept $work (pbx log: $work/pbx.log)"
    else
        rm -rf "$work"
    fi
}

# Starts "$pbx_bin" on "$config" (log in $work/pbx.log at $log_level) and waits up to 20 s for
# its admin API on $api_port; sets log, pbx_pid and api.
start_pbx() {
    log="$work/pbx.log"
    "$pbx_bin" --log-level "$log_level" run --config "$config" >"$log" 2>&1 &
    pbx_pid=$!
    api="http://127.0.0.1:$api_port"
    for _ in $(seq 100); do
        curl -sf "$api/api/health" >/dev/null 2>&1 && break
        kill -0 "$pbx_pid" 2>/dev/null || { keep=1; cat "$log" >&2; die "pbx exited at start"; }
        sleep 0.2
    done
    curl -sf "$api/api/health" >/dev/null || { keep=1; die "pbx did not answer on $api within 20 s"; }
}

# Fails loudly, keeping the temporary directory, when the pbx has exited during step $1
# (e.g. "20 calls/s").
pbx_alive() {
    kill -0 "$pbx_pid" 2>/dev/null && return
    keep=1
    tail -n 50 "$log" >&2
    die "pbx died during the $1 step; log: $log"
}

rss_kib() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$pbx_pid/status"
}

# Percent of one core the whole machine (every process and the kernel) used over one second.
machine_busy() {
    local before after
    before=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    sleep 1
    after=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    echo "$before $after" | awk -v cores="$(nproc)" '{ printf "%.0f", ($4 > $2 ? 100 * cores * ($3 - $1) / ($4 - $2) : 0) }'
}

# Waits (at most 10 minutes) until no other benchmark script runs, so they do not share the CPU;
# then (at most 2 minutes more) until the machine is quiet (under 30 % of one core busy, e.g.
# no build running), else goes on and says so.
wait_for_other_benchmarks() {
    local deadline=$((SECONDS + 600)) pid busy mine=" $$ " up=$$ load
    # This script's ancestors (e.g. `timeout ... NAME.sh`) match too: they are not others.
    while [ "$up" -gt 1 ]; do
        up=$(awk '{ print $4 }' "/proc/$up/stat" 2>/dev/null || echo 1)
        mine="$mine$up "
    done
    while :; do
        pgrep -f 'scripts/bench/(register|calls|bridge|conference)\.sh' >"$work/others" || true
        busy=""
        while read -r pid; do
            # Skip this script, its ancestors and its own subshells.
            case $mine in *" $pid "*) continue ;; esac
            if [ "$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null)" != "$$" ]; then
                busy="$busy $pid"
            fi
        done <"$work/others"
        [ -z "$busy" ] && break
        [ "$SECONDS" -lt "$deadline" ] || die "another benchmark (pid$busy) still runs after 10 minutes"
        echo "waiting for another benchmark to finish (pid$busy)" >&2
        sleep 5
    done
    deadline=$((SECONDS + 120))
    while :; do
        load=$(machine_busy)
        [ "$load" -lt 30 ] && return
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "note: the machine stayed busy ($load % of a core before this step): figures are disturbed"
            return
        fi
        echo "waiting for the machine to quieten ($load % of a core busy)" >&2
        sleep 4
    done
}

# "on_cpu_ns utime stime" of the pbx. on_cpu_ns sums the scheduler's exact run time of its
# threads (/proc/PID/task/*/schedstat; the pbx keeps its threads, so none is missed). utime
# and stime (clock ticks, all threads) are sampled at each timer tick, too coarse and biased at
# low load for a total, but their ratio gives the kernel's share.
cpu_read() {
    local stat ns
    ns=$(cat "/proc/$pbx_pid/task/"*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }')
    stat=$(<"/proc/$pbx_pid/stat")
    stat=${stat##*) }
    # After "pid (comm) ", field 3 (state) is word 1, so utime (14) and stime (15) are 12 and 13.
    echo "$stat" | awk -v ns="$ns" '{ print ns, $12, $13 }'
}

# Prints FORMAT of NUM / DEN times the product of FACTORS (e.g. "1e6 0.01"), or n/a when DEN is
# not positive. Arguments may be decimals.
ratio() {
    awk -v a="$1" -v b="$2" -v f="$3" -v k="$4" 'BEGIN {
        if (b <= 0) { print "n/a"; exit }
        m = 1; n = split(k, x, " "); for (i = 1; i <= n; i++) m *= x[i]
        printf f "\n", m * a / b
    }'
}

# Prints the starting ports of runs of consecutive free ports (UDP and TCP, every address) in
# 20000-29999, below the kernel's ephemeral range and away from the pbx's RTP range: one run
# per length argument, no two overlapping.
free_port_runs() {
    python3 - "$@" <<'EOF'
import random, socket, sys

def free(port):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("", port))
        except OSError:
            return False
        finally:
            s.close()
    return True

taken, found = set(), []
for length in map(int, sys.argv[1:]):
    starts = list(range(20000, 30000 - length, length))
    random.shuffle(starts)
    for start in starts:
        ports = range(start, start + length)
        if not taken.intersection(ports) and all(free(p) for p in ports):
            taken.update(ports)
            found.append(start)
            break
    else:
        sys.exit(f"no run of {length} free ports in 20000-29999")
print(" ".join(map(str, found)))
EOF
}
