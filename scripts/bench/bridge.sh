#!/usr/bin/env bash
# Measures the pbx's CPU and memory cost of bridged calls between users (6001 dials 6002, the
# dialplan runs Dial(endpoint/6002, 20)), stepping the number of concurrent calls.
#
# The callee 6002 is a SIPp UAS (tests/fixtures/sipp/bench_uas_echo.xml), registered first from
# the port it then listens on; it answers with PCMU and returns every RTP packet (-rtp_echo).
# The caller 6001 is a SIPp UAC (tests/fixtures/sipp/bench_uac_bridge.xml) that streams a
# generated mu-law tone as RTP (50 packets/s, SIPp's rtp_stream: plain UDP sockets) and hangs up
# after HOLD_SECS. Each packet crosses the pbx twice (caller to callee, and its echo back). The
# pbx's CPU time and RSS come from /proc; a monitor samples them, and calls_active from the
# admin API, every 0.5 s. The pbx's own per-call packet counters come from its "call ended" log
# lines and give the loss. Everything it starts is stopped on exit.
#
# Usage: scripts/bench/bridge.sh
# Environment:
#   PBX_BIN        pbx binary to measure (default: `cargo build --release`, then its output)
#   CALLS          concurrent bridged calls per step (default "10 25 50 100")
#   HOLD_SECS      seconds each call lasts after its answer (default 15)
#   RAMP_RATE      new calls per second while a step starts its calls (default 20)
#   PBX_LOG_LEVEL  pbx log level during the run (default info, what production runs)
#   EVENT_WINDOW   the pbx's [events] window (default: the pbx's own default); the window
#                  holds that many events in memory, a fixed cost that RSS per call shares
#   PERF=0         skip the perf profile of each step's steady window (taken when `perf
#                  record -e cpu-clock` works; it splits the pbx's CPU into the recvfrom/sendto
#                  system calls a bare relay would make too, and everything else)
#   KEEP_TMP=1     keep the temporary directory (kept anyway when something failed)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bench_name=bridge.sh
# shellcheck source=scripts/bench/lib.sh
. "$root/scripts/bench/lib.sh"
fixtures="$root/tests/fixtures/sipp"
uac_scenario="$fixtures/bench_uac_bridge.xml"
uas_scenario="$fixtures/bench_uas_echo.xml"
register_scenario="$fixtures/register.xml"
caller_csv="$fixtures/caller_6001.csv"
steps=${CALLS:-"10 25 50 100"}
hold_secs=${HOLD_SECS:-15}
ramp_rate=${RAMP_RATE:-20}
log_level=${PBX_LOG_LEVEL:-info}
password=unsecurepassword
# A final response or BYE answer missing for this long fails the call (SIPp -recv_timeout).
recv_timeout_ms=10000

max_calls=0
for n in $steps; do
    if ! is_count "$n" || [ "$n" -gt 400 ]; then
        die "CALLS must be integers in 1..400, got '$n'"
    fi
    if [ "$n" -gt "$max_calls" ]; then
        max_calls=$n
    fi
done
[ "$(echo "$steps" | wc -w)" -le 6 ] || die "at most 6 CALLS steps, so the run stays under ~6 minutes"
if ! is_count "$hold_secs" || [ "$hold_secs" -lt 5 ] || [ "$hold_secs" -gt 40 ]; then
    die "HOLD_SECS must be 5..40, got '$hold_secs'"
fi
is_count "$ramp_rate" || die "RAMP_RATE must be a positive integer, got '$ramp_rate'"
# Every step needs a steady window with all its calls up: they must all start well within a call.
if [ $((max_calls / ramp_rate)) -gt $((hold_secs - 4)) ]; then
    die "$max_calls calls at RAMP_RATE $ramp_rate/s take longer than HOLD_SECS - 4 s to start"
fi
for tool in sipp python3 curl getconf timeout awk pgrep; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (sipp: apt-get install sip-tester)"
done
for f in "$uac_scenario" "$uas_scenario" "$register_scenario" "$caller_csv"; do
    [ -f "$f" ] || die "$f is missing"
done

pbx_bin=$(pbx_binary)

clk_tck=$(getconf CLK_TCK)
work=$(mktemp -d -t pbx-bench-bridge.XXXXXX)
pbx_pid=""
monitor_pid=""
uac_pid=""
uas_pid=""
perf_pid=""
keep=${KEEP_TMP:-0}
perf_ok=0
if [ "${PERF:-1}" != 0 ] && command -v perf >/dev/null 2>&1 &&
    perf record -q -e cpu-clock -o /dev/null -- true >/dev/null 2>&1; then
    perf_ok=1
fi

cleanup() {
    local pid
    for pid in "$uac_pid" "$uas_pid" "$monitor_pid" "$perf_pid"; do
        if [ -n "$pid" ]; then
            kill "$pid" 2>/dev/null || true
        fi
    done
    stop_pbx_and_clean
}
trap cleanup EXIT
trap 'keep=1; exit 130' INT
trap 'keep=1; exit 143' TERM

# Prints "created successful" from the last row of a SIPp -trace_stat file.
sipp_counts() {
    awk -F';' '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        NF > 1 { last = $0 }
        END {
            if (last == "") { print "0 0"; exit }
            split(last, v, ";")
            print v[col["OutgoingCall(C)"]] + v[col["IncomingCall(C)"]], v[col["SuccessfulCall(C)"]] + 0
        }' "$1" 2>/dev/null || echo "0 0"
}

uac_ports=$((4 * max_calls + 8))
read -r sip_port uas_port uac_port <<<"$(free_port_runs 6 6 "$uac_ports")"
api_port=$((sip_port + 1))
# SIPp binds its media port and media port + 2; call number k plays from media port + 4k.
uas_media=$((uas_port + 2))
uac_media=$((uac_port + 2))
rtp_min=$((40000 + (sip_port % 10) * 2000))
rtp_max=$((rtp_min + 1999))

dialplan="$work/dialplan.toml"
printf '[context.internal]\n"6002" = ["Dial(endpoint/6002, 20)", "Hangup()"]\n' >"$dialplan"
config="$work/pbx.toml"
{
    printf '[sip]\nbind = "127.0.0.1:%s"\nrealm = "pbx"\n\n' "$sip_port"
    printf '[rtp]\nport_min = %s\nport_max = %s\n\n' "$rtp_min" "$rtp_max"
    printf '[registrar]\nmin_expires = 60\nmax_expires = 3600\ndefault_expires = 600\n'
    printf 'persist_file = "%s"\nqualify_interval_secs = 0\n\n' "$work/registrations.json"
    printf '[api]\nbind = "127.0.0.1:%s"\n\n' "$api_port"
    printf '[dialplan]\nfile = "%s"\n' "$dialplan"
    if [ -n "${EVENT_WINDOW:-}" ]; then
        printf '\n[events]\nwindow = %s\n' "$EVENT_WINDOW"
    fi
    for user in 6001 6002; do
        printf '\n[[endpoint]]\nuser = "%s"\npassword = "%s"\n' "$user" "$password"
    done
} >"$config"

# The caller's audio: one second of a mu-law 440 Hz tone, raw, which rtp_stream loops.
python3 - "$work/bench_ulaw.raw" <<'EOF'
import math, sys

def ulaw(sample):
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(magnitude.bit_length() - 8, 0)
    return ~(sign | (exponent << 4) | ((magnitude >> (exponent + 3)) & 0x0F)) & 0xFF

with open(sys.argv[1], "wb") as f:
    f.write(bytes(ulaw(int(8000 * math.sin(2 * math.pi * 440 * n / 8000))) for n in range(8000)))
EOF

# Samples the pbx every 0.5 s: "unix_time calls_active rtp_ports_in_use rss_kib on_cpu_ns"
# (see cpu_read).
cat >"$work/monitor.py" <<'EOF'
import json, os, sys, time, urllib.request

api, pid, out = sys.argv[1], sys.argv[2], sys.argv[3]
with open(out, "w", buffering=1) as f:
    due = time.time()
    while True:
        try:
            with open(f"/proc/{pid}/status") as s:
                rss = next(int(l.split()[1]) for l in s if l.startswith("VmRSS:"))
            ns = 0
            for task in os.listdir(f"/proc/{pid}/task"):
                try:
                    with open(f"/proc/{pid}/task/{task}/schedstat") as s:
                        ns += int(s.read().split()[0])
                except OSError:
                    pass
        except (OSError, StopIteration):
            break
        try:
            with urllib.request.urlopen(api + "/api/stats", timeout=2) as r:
                stats = json.load(r)
            calls, ports = stats["calls_active"], stats["rtp_ports_in_use"]
        except (OSError, ValueError, KeyError):
            calls = ports = -1
        f.write(f"{time.time():.3f} {calls} {ports} {rss} {ns}\n")
        due += 0.5
        time.sleep(max(0.0, due - time.time()))
EOF

wait_for_other_benchmarks

start_pbx

# 6002 registers from the port its UAS then listens on, so the pbx's INVITEs reach the UAS.
timeout -k 2 30 sipp "127.0.0.1:$sip_port" -sf "$register_scenario" -s 6002 -au 6002 -ap "$password" \
    -i 127.0.0.1 -p "$uas_port" -cp $((uas_port + 1)) -m 1 -recv_timeout 5000 -timeout 20s -nostdin \
    -trace_stat -stf "$work/register-stat.csv" -fd 1 >"$work/register.out" 2>&1 || true
read -r _ registered <<<"$(sipp_counts "$work/register-stat.csv")"
[ "$registered" = 1 ] || { keep=1; cat "$work/register.out" >&2; die "6002 did not register"; }
(
    cd "$work"
    exec timeout -k 2 600 sipp "127.0.0.1:$sip_port" -sf "$uas_scenario" -i 127.0.0.1 \
        -p "$uas_port" -cp $((uas_port + 1)) -mp "$uas_media" -rtp_echo -nostdin \
        -trace_stat -stf "$work/uas-stat.csv" -fd 1 \
        -trace_err -error_file "$work/uas-errors.log" >"$work/uas.out" 2>&1
) &
uas_pid=$!
python3 "$work/monitor.py" "$api" "$pbx_pid" "$work/samples" &
monitor_pid=$!
sleep 2
kill -0 "$uas_pid" 2>/dev/null || { keep=1; cat "$work/uas.out" >&2; die "the callee (SIPp UAS) did not start"; }
idle_rss=$(rss_kib)

echo "pbx bridge benchmark: $pbx_bin ($("$pbx_bin" --version 2>/dev/null || echo unknown version))"
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), CLK_TCK=$clk_tck, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pbx: pid $pbx_pid, sip 127.0.0.1:$sip_port, rtp $rtp_min-$rtp_max, log level $log_level, idle RSS $((idle_rss / 1024)) MiB, work dir $work"
echo "calls: 6001 (SIPp, rtp_stream of mu-law packets, 20 ms apart) dials 6002 (SIPp, -rtp_echo)"
echo "through Dial(endpoint/6002, 20); $ramp_rate new calls/s, each hung up by the caller ${hold_secs} s after its answer"
echo

row='%6s %6s %7s %5s %8s %9s %8s %7s %7s %6s %6s %7s %8s %5s\n'
# shellcheck disable=SC2059 # the format is the fixed $row
printf "$row" "calls" "calls" "failed" "peak" "call-s" "relayed" "CPU s/" "us/pkt" "us/pkt" "sys" "pbx" "RSS KiB" "RTP" "log" \
    "offer" "ok" "%" "calls" "" "packets" "call-min" "step" "steady" "%" "CPU%" "/call" "loss %" "warn+"
any_failure=0
for n in $steps; do
    wait_for_other_benchmarks
    step_dir="$work/step-$n"
    mkdir -p "$step_dir"
    log_lines_before=$(wc -l <"$log")
    read -r ns_before user_before sys_before <<<"$(cpu_read)"
    t0=$(date +%s.%N)
    (
        cd "$work"
        exec timeout -k 2 $((n / ramp_rate + hold_secs + 40)) sipp "127.0.0.1:$sip_port" -sf "$uac_scenario" \
            -s 6002 -au 6001 -ap "$password" -inf "$caller_csv" \
            -i 127.0.0.1 -p "$uac_port" -cp $((uac_port + 1)) -mp "$uac_media" \
            -r "$ramp_rate" -m "$n" -l "$n" -d $((hold_secs * 1000)) \
            -recv_timeout "$recv_timeout_ms" -timeout $((n / ramp_rate + hold_secs + 30))s -nostdin \
            -trace_stat -stf "$step_dir/stat.csv" -fd 1 \
            -trace_err -error_file "$step_dir/errors.log" >"$step_dir/sipp.out" 2>&1
    ) &
    uac_pid=$!
    if [ "$perf_ok" = 1 ]; then
        # Inside the steady window: after the last call started, before the first one ends.
        perf_secs=$((hold_secs - n / ramp_rate - 2))
        [ "$perf_secs" -le 5 ] || perf_secs=5
        (
            sleep $((n / ramp_rate + 1))
            exec timeout -k 2 30 perf record -q -e cpu-clock -F 999 -g -p "$pbx_pid" \
                -o "$step_dir/perf.data" -- sleep "$perf_secs"
        ) >"$step_dir/perf.out" 2>&1 &
        perf_pid=$!
    fi
    wait "$uac_pid" || true
    uac_pid=""
    if [ -n "$perf_pid" ]; then
        wait "$perf_pid" || true
        perf_pid=""
    fi
    for _ in $(seq 40); do
        curl -sf "$api/api/stats" | grep -q '"calls_active":0,' && break
        sleep 0.5
    done
    sleep 1
    pbx_alive "$n calls"
    read -r ns_after user_after sys_after <<<"$(cpu_read)"
    t1=$(date +%s.%N)

    read -r created ok <<<"$(sipp_counts "$step_dir/stat.csv")"
    failed=$((created - ok))
    tail -n +"$((log_lines_before + 1))" "$log" >"$step_dir/pbx.log"
    warnings=$(grep -cE ' (WARN|ERROR) ' "$step_dir/pbx.log" || true)
    # The caller leg's counters: packets_in came from the caller (relayed to the callee),
    # packets_out went to the caller (relayed from the callee); lost is the caller leg's loss.
    read -r ended pbx_out pbx_in pbx_lost <<<"$(awk '/ call ended / {
            n++
            for (i = 1; i <= NF; i++) {
                split($i, v, "=")
                if (v[1] == "packets_out") o += v[2]
                if (v[1] == "packets_in") r += v[2]
                if (v[1] == "lost") l += v[2]
            }
        } END { print n + 0, o + 0, r + 0, l + 0 }' "$step_dir/pbx.log")"
    relayed=$((pbx_in + pbx_out))
    # Peak calls and RSS, call-seconds (calls_active integrated), and the steady part: from the
    # first sample at the peak to 1 s before the last one, when every call sends 50 packets/s
    # each way: "peak rss call_secs steady_secs steady_cpu_ns".
    read -r peak peak_rss call_secs steady_secs steady_ns <<<"$(awk -v t0="$t0" -v t1="$t1" '
        $1 >= t0 && $1 <= t1 && $2 >= 0 {
            k++; t[k] = $1; c[k] = $2; ns[k] = $5
            if (k > 1) secs += (t[k] - t[k - 1]) * (c[k] + c[k - 1]) / 2
            if ($2 > peak) { peak = $2; rss = $4 }
        } END {
            for (i = 1; i <= k; i++) if (c[i] == peak) { if (!a) a = i; b = i }
            z = b; while (z > a && t[b] - t[z] < 1) z--
            if (!a || z <= a) { printf "%d %d %.1f 0 0\n", peak, rss, secs; exit }
            printf "%d %d %.1f %.2f %.0f\n", peak, rss, secs, t[z] - t[a], ns[z] - ns[a]
        }' "$work/samples")"
    cpu_secs=$(ratio $((ns_after - ns_before)) 1e9 %.3f 1)
    ticks=$((user_after - user_before + sys_after - sys_before))
    echo "$ended $pbx_in $pbx_out $pbx_lost $steady_secs $cpu_secs $(ratio "$ticks" "$clk_tck" %.2f 1)" >"$step_dir/media"
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    steady_packets=$(ratio "$steady_secs" 1 %.0f "$peak 100")
    # shellcheck disable=SC2059 # the format is the fixed $row
    printf "$row" "$n" "$ok" "$(ratio "$failed" "$created" %.2f 100)" "$peak" "$call_secs" "$relayed" \
        "$(ratio "$cpu_secs" "$call_secs" %.3f 60)" "$(ratio "$cpu_secs" "$relayed" %.2f 1e6)" \
        "$(ratio "$steady_ns" "$steady_packets" %.2f 1e-3)" \
        "$(ratio $((sys_after - sys_before)) "$ticks" %.0f 100)" \
        "$(ratio "$cpu_secs" "$wall" %.1f 100)" "$(ratio $((peak_rss - idle_rss)) "$peak" %.0f 1)" \
        "$(ratio $((pbx_in - pbx_out)) "$pbx_in" %.3f 100)" "$warnings"
    if [ "$failed" -gt 0 ] || [ "$warnings" -gt 0 ]; then
        any_failure=1
    fi
done

echo
echo "calls ok = SIPp successful calls (caller side); failed % = created but not successful; peak calls"
echo "= highest calls_active sampled every 0.5 s; call-s = calls_active integrated over the step."
echo "relayed packets = sum over the calls of the caller leg's packets_in + packets_out (pbx log):"
echo "every relayed packet was received on one leg and sent on the other."
echo "CPU = the pbx's on-CPU time (scheduler run time of its threads). CPU s/call-min = that CPU"
echo "over the whole step (setup, media, teardown) per minute of call; us/pkt step = the same CPU"
echo "per relayed packet; us/pkt steady = the CPU while every call was up (all peak calls sending"
echo "50 packets/s each way) / (peak x 100 packets/s); sys % = the kernel's share of the step's"
echo "CPU (stime / utime+stime: sampled at timer ticks, so only indicative)."
echo "RSS KiB/call = (pbx RSS at the peak - idle RSS $idle_rss KiB) / peak calls."
echo "RTP loss = 1 - caller-leg packets out / caller-leg packets in (pbx counters): what the callers"
echo "sent that did not come back through the pbx, the callee's echo and the pbx again (packets"
echo "in flight at the hang-up included)."
if [ "$perf_ok" = 1 ]; then
    echo
    echo "Kernel floor, from a perf profile (cpu-clock, call graphs) of each step's steady window:"
    echo "syscalls % = the share of the pbx's CPU inside recvfrom and sendto, what any userspace"
    echo "relay pays per packet (generous: it includes the recvfrom that finds the socket empty);"
    echo "raw % = the part of it spent copying packets to raw sockets on the machine (a loopback"
    echo "send runs the receiver's delivery too): about 0 here; a caller playing pcap audio (raw"
    echo "sockets) would inflate both figures by this much."
    echo "pbx/floor = 100 / syscalls %; without the artefact = (100 - raw) / (syscalls - raw)."
    for n in $steps; do
        data="$work/step-$n/perf.data"
        if [ ! -s "$data" ]; then
            echo "  $n calls: no profile ($(head -c 200 "$work/step-$n/perf.out" 2>/dev/null))"
            continue
        fi
        read -r sendto recvfrom raw <<<"$(perf report -i "$data" --children --sort symbol --stdio \
            2>/dev/null | awk '
            / \[k\] __x64_sys_sendto( |$)/ { s = $1 + 0 }
            / \[k\] __x64_sys_recvfrom( |$)/ { r = $1 + 0 }
            / \[k\] raw_local_deliver( |$)/ { w = $1 + 0 }
            END { printf "%.1f %.1f %.1f\n", s, r, w }')"
        awk -v n="$n" -v s="$sendto" -v r="$recvfrom" -v w="$raw" 'BEGIN {
            f = s + r
            if (f <= w) { printf "  %s calls: profile without recvfrom/sendto samples\n", n; exit }
            printf "  %s calls: syscalls %.1f %% (sendto %.1f, recvfrom %.1f), raw %.1f %%:" \
                " pbx/floor %.2fx, without the artefact %.2fx\n",
                n, f, s, r, w, 100 / f, (100 - w) / (f - w)
        }'
    done
else
    echo "No kernel floor was estimated: perf (linux-perf) is missing or cannot sample here."
fi
echo
echo "per step: calls the pbx logged as ended, caller-leg packets in/out, caller-leg lost |"
echo "steady window |"
echo "pbx CPU seconds: scheduler run time, and utime+stime from ticks:"
for n in $steps; do
    read -r ended pin pout plost steady cpu_secs tick_secs <"$work/step-$n/media"
    echo "  $n calls: pbx: $ended ended, in $pin, out $pout, lost $plost | steady ${steady} s |" \
        "CPU ${cpu_secs} s, ticks ${tick_secs} s"
done
read -r uas_created uas_ok <<<"$(sipp_counts "$work/uas-stat.csv")"
echo "callee (SIPp UAS): $uas_ok of $uas_created calls answered and ended"
echo "pbx stats: $(curl -sf "$api/api/stats" || echo unavailable)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$any_failure" = 1 ]; then
    keep=1
    echo "some calls failed or the pbx logged warnings: pbx log $log, SIPp output under $work"
fi
