#!/usr/bin/env bash
# Measures the pbx's CPU and memory cost of conference rooms: SIPp callers (6001) dial 8002,
# whose dialplan runs ConfBridge(8002), and stay in the room; the room mixes every member's
# audio (N-1) every 20 ms and sends each member its mix. One step per room size.
#
# Each member is a SIPp UAC call (tests/fixtures/sipp/bench_uac_bridge.xml) that streams a
# generated mu-law tone as RTP (50 packets/s, SIPp's rtp_stream: plain UDP sockets, no raw
# sockets) and hangs up after HOLD_SECS. Once every member of the step is in (calls_active
# from the admin API), the script waits 2 s (join beeps, jitter buffers settling) and measures
# the pbx's on-CPU time (scheduler run time of its threads, /proc/PID/task/*/schedstat) over a
# steady window of STEADY_SECS: CPU per member-second of mixing. RSS per member is the pbx's
# RSS in that window minus its idle RSS, over the members. The pbx's per-call packet counters
# ("call ended" log lines) show that media flowed both ways. Everything it starts is stopped.
#
# Usage: scripts/bench/conference.sh
# Environment:
#   PBX_BIN        pbx binary to measure (default: `cargo build --release`, then its output)
#   ROOMS          members per room, one step each (default "3 10 50")
#   STEADY_SECS    length of the measured window (default 10)
#   RAMP_RATE      new calls per second while a step fills its room (default 20)
#   PBX_LOG_LEVEL  pbx log level during the run (default info, what production runs)
#   KEEP_TMP=1     keep the temporary directory (kept anyway when something failed)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bench_name=conference.sh
# shellcheck source=scripts/bench/lib.sh
. "$root/scripts/bench/lib.sh"
fixtures="$root/tests/fixtures/sipp"
uac_scenario="$fixtures/bench_uac_bridge.xml"
caller_csv="$fixtures/caller_6001.csv"
steps=${ROOMS:-"3 10 50"}
steady_secs=${STEADY_SECS:-10}
ramp_rate=${RAMP_RATE:-20}
log_level=${PBX_LOG_LEVEL:-info}
password=unsecurepassword

max_members=0
for n in $steps; do
    if ! is_count "$n" || [ "$n" -gt 200 ]; then
        die "ROOMS must be integers in 1..200, got '$n'"
    fi
    [ "$n" -le "$max_members" ] || max_members=$n
done
[ "$(echo "$steps" | wc -w)" -le 5 ] || die "at most 5 ROOMS steps, so the run stays under ~4 minutes"
if ! is_count "$steady_secs" || [ "$steady_secs" -lt 3 ] || [ "$steady_secs" -gt 60 ]; then
    die "STEADY_SECS must be 3..60, got '$steady_secs'"
fi
is_count "$ramp_rate" || die "RAMP_RATE must be a positive integer, got '$ramp_rate'"
for tool in sipp python3 curl timeout awk pgrep; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (sipp: apt-get install sip-tester)"
done
for f in "$uac_scenario" "$caller_csv"; do
    [ -f "$f" ] || die "$f is missing"
done

pbx_bin=$(pbx_binary)

work=$(mktemp -d -t pbx-bench-conference.XXXXXX)
pbx_pid=""
uac_pid=""
keep=${KEEP_TMP:-0}

cleanup() {
    if [ -n "$uac_pid" ]; then
        kill "$uac_pid" 2>/dev/null || true
    fi
    stop_pbx_and_clean
}
trap cleanup EXIT
trap 'keep=1; exit 130' INT
trap 'keep=1; exit 143' TERM

# SIPp binds its media port and media port + 2; call number k plays from media port + 4k.
read -r sip_port uac_port <<<"$(free_port_runs 6 $((4 * max_members + 8)))"
api_port=$((sip_port + 1))
uac_media=$((uac_port + 2))
rtp_min=$((40000 + (sip_port % 10) * 2000))
rtp_max=$((rtp_min + 1999))

dialplan="$work/dialplan.toml"
printf '[context.internal]\n"8002" = ["ConfBridge(8002)"]\n' >"$dialplan"
config="$work/pbx.toml"
{
    printf '[sip]\nbind = "127.0.0.1:%s"\nrealm = "pbx"\n\n' "$sip_port"
    printf '[rtp]\nport_min = %s\nport_max = %s\n\n' "$rtp_min" "$rtp_max"
    printf '[registrar]\nmin_expires = 60\nmax_expires = 3600\ndefault_expires = 600\n'
    printf 'persist_file = "%s"\nqualify_interval_secs = 0\n\n' "$work/registrations.json"
    printf '[api]\nbind = "127.0.0.1:%s"\n\n' "$api_port"
    printf '[dialplan]\nfile = "%s"\n' "$dialplan"
    printf '\n[[endpoint]]\nuser = "6001"\npassword = "%s"\n' "$password"
} >"$config"

# The members' audio: one second of a mu-law 440 Hz tone, raw, which rtp_stream loops.
python3 - "$work/bench_ulaw.raw" <<'EOF'
import math, sys

def ulaw(sample):
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(magnitude.bit_length() - 8, 0)
    return ~(sign | (exponent << 4) | ((magnitude >> (exponent + 3)) & 0x0F)) & 0xFF

with open(sys.argv[1], "wb") as f:
    f.write(bytes(ulaw(int(4000 * math.sin(2 * math.pi * 440 * n / 8000))) for n in range(8000)))
EOF

calls_active() {
    curl -sf "$api/api/stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["calls_active"])' 2>/dev/null || echo -1
}

wait_for_other_benchmarks

start_pbx
sleep 1
idle_rss=$(rss_kib)
# The pbx's own CPU without any call (SIP task, timers), over a window as long as the steps'.
read -r idle_ns_before _ <<<"$(cpu_read)"
idle_t0=$(date +%s.%N)
sleep "$steady_secs"
read -r idle_ns_after _ <<<"$(cpu_read)"
idle_secs=$(awk -v a="$idle_t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
idle_ns_per_sec=$(ratio $((idle_ns_after - idle_ns_before)) "$idle_secs" %.0f 1)

echo "pbx conference benchmark: $pbx_bin ($("$pbx_bin" --version 2>/dev/null || echo unknown version))"
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pbx: pid $pbx_pid, sip 127.0.0.1:$sip_port, rtp $rtp_min-$rtp_max, log level $log_level, idle RSS $idle_rss KiB,"
echo "idle CPU $(ratio "$idle_ns_per_sec" 1 %.2f 1e-7) % of a core"
echo "members: SIPp callers (rtp_stream of mu-law packets, 20 ms apart) dial 8002 = ConfBridge(8002)"
echo "at $ramp_rate calls/s; steady window ${steady_secs} s with every member in"
echo

row='%7s %7s %7s %9s %9s %11s %9s %8s %8s %8s %5s\n'
# shellcheck disable=SC2059 # the format is the fixed $row
printf "$row" "members" "calls" "steady" "CPU us/" "net us/" "% of a core" "pbx" "RSS KiB" "pkts in" "pkts out" "log" \
    "" "ok" "s" "member-s" "member-s" "/member" "CPU %" "/member" "/mem-s" "/mem-s" "warn+"
any_failure=0
for n in $steps; do
    wait_for_other_benchmarks
    step_dir="$work/room-$n"
    mkdir -p "$step_dir"
    log_lines_before=$(wc -l <"$log")
    fill_secs=$((n / ramp_rate + 1))
    hold_secs=$((fill_secs + 2 + steady_secs + 4))
    (
        cd "$work"
        exec timeout -k 2 $((hold_secs + fill_secs + 40)) sipp "127.0.0.1:$sip_port" -sf "$uac_scenario" \
            -s 8002 -au 6001 -ap "$password" -inf "$caller_csv" \
            -i 127.0.0.1 -p "$uac_port" -cp $((uac_port + 1)) -mp "$uac_media" \
            -r "$ramp_rate" -m "$n" -l "$n" -d $((hold_secs * 1000)) \
            -recv_timeout 10000 -timeout $((hold_secs + fill_secs + 30))s -nostdin \
            -trace_stat -stf "$step_dir/stat.csv" -fd 1 \
            -trace_err -error_file "$step_dir/errors.log" >"$step_dir/sipp.out" 2>&1
    ) &
    uac_pid=$!
    in_room=0
    for _ in $(seq $((fill_secs * 10 + 100))); do
        in_room=$(calls_active)
        [ "$in_room" -ge "$n" ] && break
        sleep 0.1
    done
    steady="n/a" cpu_us="n/a" net_us="n/a" core="n/a" busy="n/a" rss_member="n/a"
    if [ "$in_room" -ge "$n" ]; then
        sleep 2
        read -r ns_before _ <<<"$(cpu_read)"
        t0=$(date +%s.%N)
        sleep "$steady_secs"
        read -r ns_after _ <<<"$(cpu_read)"
        t1=$(date +%s.%N)
        rss=$(rss_kib)
        still=$(calls_active)
        [ "$still" -ge "$n" ] || echo "note: only $still of $n members left at the end of the window"
        steady=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
        member_secs=$(awk -v s="$steady" -v n="$n" 'BEGIN { print s * n }')
        cpu_us=$(ratio $((ns_after - ns_before)) "$member_secs" %.1f 1e-3)
        net_ns=$(awk -v d=$((ns_after - ns_before)) -v i="$idle_ns_per_sec" -v s="$steady" 'BEGIN { printf "%.0f", d - i * s }')
        net_us=$(ratio "$net_ns" "$member_secs" %.1f 1e-3)
        core=$(ratio $((ns_after - ns_before)) "$member_secs" %.3f 1e-7)
        busy=$(ratio $((ns_after - ns_before)) "$steady" %.1f 1e-7)
        rss_member=$(ratio $((rss - idle_rss)) "$n" %.0f 1)
    else
        echo "note: only $in_room of $n members got in; no steady window"
    fi
    wait "$uac_pid" || true
    uac_pid=""
    for _ in $(seq 40); do
        [ "$(calls_active)" = 0 ] && break
        sleep 0.5
    done
    pbx_alive "$n members"
    ok=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } NF > 1 { l = $0 }
        END { split(l, v, ";"); print v[c["SuccessfulCall(C)"]] + 0 }' "$step_dir/stat.csv" 2>/dev/null || echo 0)
    tail -n +"$((log_lines_before + 1))" "$log" >"$step_dir/pbx.log"
    warnings=$(grep -cE ' (WARN|ERROR) ' "$step_dir/pbx.log" || true)
    # Packets each member's leg received and sent, per second of call (the "call ended" lines).
    read -r pin pout <<<"$(awk -v secs="$hold_secs" '/ call ended / {
            n++
            for (i = 1; i <= NF; i++) {
                split($i, v, "=")
                if (v[1] == "packets_in") r += v[2]
                if (v[1] == "packets_out") o += v[2]
            }
        } END { if (n) printf "%.1f %.1f\n", r / n / secs, o / n / secs; else print "n/a n/a" }' "$step_dir/pbx.log")"
    # shellcheck disable=SC2059 # the format is the fixed $row
    printf "$row" "$n" "$ok" "$steady" "$cpu_us" "$net_us" "$core" "$busy" "$rss_member" "$pin" "$pout" "$warnings"
    if [ "$ok" -lt "$n" ] || [ "$warnings" -gt 0 ]; then
        any_failure=1
    fi
done

echo
echo "calls ok = SIPp successful calls. steady s = the measured window, every member in the room."
echo "CPU us/member-s = the pbx's on-CPU time in the window / (window x members): what one member"
echo "costs per second of mixing (reading its packets, jitter buffer, mix, encode, send; the call"
echo "tasks' idle timers included); net = the same less the idle pbx's CPU over the window;"
echo "% of a core/member = the gross figure as a share of one core; pbx CPU % = the pbx's CPU over"
echo "the window, in % of one core. RSS KiB/member = (RSS in the window - idle RSS) / members."
echo "pkts in/out per member-second = each member leg's packet counters (pbx log) over its call"
echo "(about 50 each way when media flowed the whole call)."
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$any_failure" = 1 ]; then
    keep=1
    echo "some calls failed or the pbx logged warnings: pbx log $log, SIPp output under $work"
fi
