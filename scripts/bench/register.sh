#!/usr/bin/env bash
# Measures the pbx's CPU cost per authenticated registration (REGISTER, 401, REGISTER with
# digest credentials, 200) at stepped rates, to compare with Kamailio's 64 µs per registration.
#
# Starts the release binary on loopback with 1000 generated endpoints, drives it with SIPp
# (several processes in parallel above RATE_PER_SIPP), reads the pbx's CPU time and RSS from
# /proc around each step and prints a table. Everything it starts is stopped on exit.
#
# Usage: scripts/bench/register.sh
# Environment:
#   PBX_BIN        pbx binary to measure (default: `cargo build --release`, then its output)
#   RATES          offered rates in registrations/s (default "200 500 1000 2000 4000")
#   STEP_SECS      seconds of traffic per step (default 10)
#   RATE_PER_SIPP  highest rate one SIPp process is asked for (default 1000)
#   SETTLE_SECS    seconds from the end of a step's traffic to its last CPU reading (default 34:
#                  timer J keeps each UDP server transaction 64*T1 = 32 s, then it is dropped)
#   PBX_LOG_LEVEL  pbx log level during the run (default info, what production runs)
#   KEEP_TMP=1     keep the temporary directory (kept anyway when something failed)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bench_name=register.sh
# shellcheck source=scripts/bench/lib.sh
. "$root/scripts/bench/lib.sh"
scenario="$root/tests/fixtures/sipp/register_bench.xml"
rates=${RATES:-"200 500 1000 2000 4000"}
step_secs=${STEP_SECS:-10}
rate_per_sipp=${RATE_PER_SIPP:-1000}
log_level=${PBX_LOG_LEVEL:-info}
users=1000
first_user=10000
password=unsecurepassword
settle_secs=${SETTLE_SECS:-34}
# A call not answered within this time counts as failed (SIPp -recv_timeout).
recv_timeout_ms=5000

for r in $rates; do is_count "$r" || die "RATES must be positive integers, got '$r'"; done
if ! is_count "$step_secs" || [ "$step_secs" -gt 60 ]; then
    die "STEP_SECS must be 1..60, got '$step_secs'"
fi
if ! is_count "$settle_secs" || [ "$settle_secs" -gt 60 ]; then
    die "SETTLE_SECS must be 1..60, got '$settle_secs'"
fi
[ "$(echo "$rates" | wc -w)" -le 6 ] || die "at most 6 RATES, so the run stays under ~5 minutes"
is_count "$rate_per_sipp" || die "RATE_PER_SIPP must be a positive integer"
for tool in sipp python3 curl getconf timeout awk; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (sipp: apt-get install sip-tester)"
done
[ -f "$scenario" ] || die "scenario $scenario is missing"

pbx_bin=$(pbx_binary)

clk_tck=$(getconf CLK_TCK)
work=$(mktemp -d -t pbx-bench-register.XXXXXX)
pbx_pid=""
sleep_pid=""
sipp_pids=()
keep=${KEEP_TMP:-0}

cleanup() {
    local pid
    for pid in "${sipp_pids[@]}" $sleep_pid; do
        kill "$pid" 2>/dev/null || true
    done
    stop_pbx_and_clean
}
trap cleanup EXIT
trap 'keep=1; exit 130' INT
trap 'keep=1; exit 143' TERM

# Sleeps $1 seconds in a waited-for child, so INT and TERM stop the script at once.
pause() {
    sleep "$1" &
    sleep_pid=$!
    wait "$sleep_pid"
    sleep_pid=""
}

# utime + stime of the whole pbx process (all threads), in clock ticks.
cpu_ticks() {
    local stat
    stat=$(<"/proc/$pbx_pid/stat")
    stat=${stat##*) }
    # After "pid (comm) ", field 3 (state) is word 1, so utime (14) and stime (15) are 12 and 13.
    echo "$stat" | awk '{ print $12 + $13 }'
}

# The kernel's count of UDP datagrams dropped because a socket's receive buffer was full (host).
udp_rcvbuf_errors() {
    awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) col[$i] = i; h = 1 } else print $col["RcvbufErrors"] }' /proc/net/snmp
}

# CPU seconds (user + system) of this shell's finished children, the SIPp processes (their time
# reaches the script when their `timeout` wrapper is waited for), as saved by `times >FILE`.
# `times` must run in this shell: a $(...) subshell has no children of its own.
children_cpu() {
    awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$1"
}

# Datagrams the kernel dropped on the pbx's SIP socket (the last column of /proc/net/udp).
pbx_socket_drops() {
    awk -v port="$(printf ':%04X' "$sip_port")" 'substr($2, length($2) - 4) == port { print $NF; exit }' /proc/net/udp
}

# Prints "created successful failed retransmissions" from the last row of a SIPp -trace_stat file.
sipp_counts() {
    awk -F';' '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        NF > 1 { last = $0 }
        END {
            if (last == "") { print "0 0 0 0"; exit }
            split(last, v, ";")
            print v[col["OutgoingCall(C)"]] + 0, v[col["SuccessfulCall(C)"]] + 0, \
                v[col["FailedCall(C)"]] + 0, v[col["Retransmissions(C)"]] + 0
        }' "$1" 2>/dev/null || echo "0 0 0 0"
}

max_procs=1
for r in $rates; do
    n=$(((r + rate_per_sipp - 1) / rate_per_sipp))
    if [ "$n" -gt "$max_procs" ]; then
        max_procs=$n
    fi
done
read -r -a blocks <<<"$(free_port_runs $(printf '6 %.0s' $(seq $((max_procs + 1)))))"
sip_port=${blocks[0]}
api_port=$((sip_port + 1))
sipp_blocks=("${blocks[@]:1}")
rtp_min=$((40000 + (sip_port % 500) * 40))

config="$work/pbx.toml"
{
    printf '[sip]\nbind = "127.0.0.1:%s"\nrealm = "pbx"\n\n' "$sip_port"
    printf '[rtp]\nport_min = %s\nport_max = %s\n\n' "$rtp_min" $((rtp_min + 39))
    printf '[registrar]\nmin_expires = 60\nmax_expires = 3600\ndefault_expires = 600\n'
    printf 'persist_file = "%s"\nqualify_interval_secs = 0\nnonce_lifetime_secs = 300\n\n' "$work/registrations.json"
    printf '[api]\nbind = "127.0.0.1:%s"\n' "$api_port"
    for ((u = first_user; u < first_user + users; u++)); do
        printf '\n[[endpoint]]\nuser = "%s"\npassword = "%s"\nmax_contacts = 1\n' "$u" "$password"
    done
} >"$config"

start_pbx

echo "pbx register benchmark: $pbx_bin ($("$pbx_bin" --version 2>/dev/null || echo unknown version))"
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), CLK_TCK=$clk_tck, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pbx: pid $pbx_pid, sip 127.0.0.1:$sip_port, $users endpoints ($first_user..$((first_user + users - 1))), max_contacts 1, log level $log_level, work dir $work"
echo "steps: ${step_secs} s of traffic then ${settle_secs} s settling, at most $rate_per_sipp/s per SIPp process,"
echo "calls unanswered after ${recv_timeout_ms} ms fail"
echo "one registration = 2 REGISTER transactions (the challenged one answered 401, the authenticated one answered 200)"
echo

row='%8s %8s %5s %8s %7s %5s %8s %8s %7s %5s %9s %9s %5s\n'
# shellcheck disable=SC2059 # the format is the fixed $row
printf "$row" "offered" "achieved" "sipp" "failures" "retrans" "pbx" "us/reg" "us/reg" "pbx RSS" "SIPp" \
    "UDP drops" "UDP drops" "log" \
    "reg/s" "reg/s" "procs" "%" "" "CPU%" "traffic" "+timer J" "MiB" "CPU%" "pbx sock" "others" "warn+"
best=""
best_achieved=""
any_failure=0
for rate in $rates; do
    procs=$(((rate + rate_per_sipp - 1) / rate_per_sipp))
    per=$(((rate + procs - 1) / procs))
    offered=$((per * procs))
    count=$((per * step_secs))
    step_dir="$work/step-$offered"
    mkdir -p "$step_dir"
    for ((k = 0; k < procs; k++)); do
        # Each process walks all users from its own offset, so parallel processes spread out.
        offset=$((k * users / procs))
        {
            echo SEQUENTIAL
            for ((i = 0; i < users; i++)); do
                u=$((first_user + (offset + i) % users))
                echo "$u;[authentication username=$u password=$password]"
            done
        } >"$step_dir/users-$k.csv"
    done

    log_lines_before=$(wc -l <"$log")
    drops_before=$(udp_rcvbuf_errors)
    pbx_drops_before=$(pbx_socket_drops)
    cpu_before=$(cpu_ticks)
    times >"$work/times"
    sipp_cpu_before=$(children_cpu "$work/times")
    t0=$(date +%s.%N)
    sipp_pids=()
    for ((k = 0; k < procs; k++)); do
        p=${sipp_blocks[$k]}
        (
            cd "$step_dir"
            exec timeout -k 2 $((step_secs + 25)) sipp "127.0.0.1:$sip_port" -sf "$scenario" \
                -inf "$step_dir/users-$k.csv" -i 127.0.0.1 -p "$p" -cp $((p + 1)) -mp $((p + 2)) \
                -r "$per" -m "$count" -l $((per * 5 + 10)) -recv_timeout "$recv_timeout_ms" \
                -timeout $((step_secs + 15))s -nostdin -trace_stat -stf "$step_dir/stat-$k.csv" -fd 1 \
                -trace_err -error_file "$step_dir/errors-$k.log" >"$step_dir/sipp-$k.out" 2>&1
        ) &
        sipp_pids+=($!)
    done
    for pid in "${sipp_pids[@]}"; do
        wait "$pid" || true
    done
    sipp_pids=()
    t1=$(date +%s.%N)
    times >"$work/times"
    sipp_cpu_after=$(children_cpu "$work/times")
    # Let coalesced work (the registrations file is saved at most once a second) land in the step.
    pause 1.5
    pbx_alive "$offered/s"
    cpu_traffic=$(cpu_ticks)
    drops_after=$(udp_rcvbuf_errors)
    pbx_drops=$(($(pbx_socket_drops) - pbx_drops_before))
    rss=$(rss_kib)
    # Then wait until every transaction of the step has passed timer J and been dropped, so the
    # second figure includes that teardown and the next step starts with none left.
    pause "$(awk -v t1="$t1" -v s="$settle_secs" -v now="$(date +%s.%N)" 'BEGIN { w = t1 + s - now; print (w > 0 ? w : 0) }')"
    pbx_alive "$offered/s"
    cpu_settled=$(cpu_ticks)

    created=0 ok=0 retrans=0
    for ((k = 0; k < procs; k++)); do
        read -r c s _f re <<<"$(sipp_counts "$step_dir/stat-$k.csv")"
        created=$((created + c)) ok=$((ok + s)) retrans=$((retrans + re))
    done
    # Calls started but not successful (failed, or still open when SIPp stopped) are failures.
    failed=$((created - ok))
    warnings=$(tail -n +"$((log_lines_before + 1))" "$log" | grep -cE ' (WARN|ERROR) ' || true)
    read -r achieved fail_pct cpu_pct us_traffic us_settled sipp_pct <<<"$(awk -v ok="$ok" \
        -v created="$created" -v failed="$failed" -v t0="$t0" -v t1="$t1" -v hz="$clk_tck" \
        -v traffic=$((cpu_traffic - cpu_before)) -v settled=$((cpu_settled - cpu_before)) \
        -v sipp_before="$sipp_cpu_before" -v sipp_after="$sipp_cpu_after" '
        function per_reg(ticks) { return ok > 0 ? sprintf("%.1f", 1e6 * ticks / hz / ok) : "n/a" }
        BEGIN {
            wall = t1 - t0
            fail = created > 0 ? 100 * failed / created : 100
            printf "%.0f %.2f %.0f %s %s %.0f\n", ok / wall, fail, 100 * traffic / hz / wall, \
                per_reg(traffic), per_reg(settled), 100 * (sipp_after - sipp_before) / wall
        }')"
    # shellcheck disable=SC2059 # the format is the fixed $row
    printf "$row" "$offered" "$achieved" "$procs" "$fail_pct" "$retrans" "$cpu_pct" "$us_traffic" \
        "$us_settled" "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" "$sipp_pct" \
        "$pbx_drops" $((drops_after - drops_before - pbx_drops)) "$warnings"
    if [ "$failed" -gt 0 ]; then
        any_failure=1
    fi
    if awk -v f="$fail_pct" -v c="$created" 'BEGIN { exit !(c > 0 && f < 1) }'; then
        best=$offered
        best_achieved=$achieved
    fi
done

echo
echo "us/reg = pbx CPU seconds (utime+stime) / successful registrations; each registration is two"
echo "REGISTER transactions. 'traffic' counts the CPU until 1.5 s after the step's last call, '+timer J'"
echo "until ${settle_secs} s after it, when the step's transactions have expired (the steady-state cost)."
echo "Target: 64 us per authenticated registration (Kamailio)."
echo "achieved = successful registrations / wall time of the step; retrans = SIPp retransmissions;"
echo "UDP drops = datagrams the kernel dropped for a full receive buffer during the step, on the pbx's"
echo "SIP socket and on other sockets (SIPp's); CPU% = percent of one core during the step's traffic"
echo "(SIPp: all its processes together); log warn+ = pbx log lines at WARN or ERROR."
echo "pbx stats: $(curl -sf "$api/api/stats" || echo unavailable)"
if [ -n "$best" ]; then
    echo "highest offered rate with < 1 % failures: $best/s (achieved $best_achieved/s)"
else
    echo "highest offered rate with < 1 % failures: none"
fi
if [ "$any_failure" = 1 ]; then
    keep=1
    echo "some registrations failed: pbx log $log, SIPp output and errors under $work/step-*"
fi
