#!/usr/bin/env bash
# Measures the pbx's CPU and memory cost of calls into the dialplan: each call is answered and
# plays the ivr-menu prompt (10.4 s), then the pbx hangs up with BYE. The call rate is stepped;
# each step offers new calls for STEP_SECS, then waits until every call has ended.
#
# The callers are SIPp (tests/fixtures/sipp/uac_call.xml: INVITE, 407, ACK, INVITE with digest
# credentials, 200, ACK, BYE from the pbx). Where the prompt goes depends on MEDIA:
#   sink  the SDP names a small Python UDP sink that counts the packets and bytes it receives;
#         the pbx receives no RTP (playback does not need any). This is the default.
#   echo  the SDP names SIPp's own media port and SIPp runs with -rtp_echo: every prompt packet
#         is sent back, so the pbx also receives 50 packets/s per call, as from a real phone.
#         The packets the pbx received back (its "call ended" log lines) prove the audio flowed.
# The pbx's CPU time and RSS are read from /proc; a monitor samples them, and calls_active from
# the admin API (GET /api/stats), every 0.5 s. Everything it starts is stopped on exit.
#
# MODE=stasis measures calls through an ARI application instead: the extension runs
# Stasis(bench), and an ari-client app (tests/fixtures/ari/bench_app.js, node) answers each
# channel, plays sound:hello-world and hangs up when it has finished; the app's own CPU time
# and the events per second its WebSocket received are reported after the table.
#
# MODE=asyncagi sends the calls to AGI(agi:async): an AMI application
# (scripts/bench/ami_app.py, raw protocol) answers each channel, sends three NOOPs, streams
# hello-world and breaks back to the dialplan, which hangs up, while AMI_LISTENERS more AMI
# connections (default 10) only receive events. Reported after the table: the events per
# second each connection received and the NOOPs' AsyncAGI round trip (AGI action sent until
# its AsyncAGIExec arrived), p50/p90/p99.
#
# Usage: scripts/bench/calls.sh
# Environment:
#   PBX_BIN        pbx binary to measure (default: `cargo build --release`, then its output)
#   RATES          offered call rates in calls/s (default "5 10 20 40")
#   STEP_SECS      seconds of new calls per step (default 20)
#   MEDIA          sink or echo (default sink, see above)
#   MODE           dialplan (default), stasis or asyncagi (see above)
#   AMI_LISTENERS  AMI connections that only receive events in MODE=asyncagi (default 10)
#   PBX_LOG_LEVEL  pbx log level during the run (default info, what production runs)
#   KEEP_TMP=1     keep the temporary directory (kept anyway when something failed)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bench_name=calls.sh
# shellcheck source=scripts/bench/lib.sh
. "$root/scripts/bench/lib.sh"
scenario="$root/tests/fixtures/sipp/uac_call.xml"
caller_csv="$root/tests/fixtures/sipp/caller_6001.csv"
rates=${RATES:-"5 10 20 40"}
step_secs=${STEP_SECS:-20}
media=${MEDIA:-sink}
mode=${MODE:-dialplan}
log_level=${PBX_LOG_LEVEL:-info}
password=unsecurepassword
extension=8100
prompt_secs=10.4
# An INVITE unanswered, or a BYE not received, within this time fails the call (SIPp -recv_timeout).
recv_timeout_ms=30000

for r in $rates; do
    if ! is_count "$r" || [ "$r" -gt 200 ]; then
        die "RATES must be integers in 1..200, got '$r'"
    fi
done
[ "$(echo "$rates" | wc -w)" -le 5 ] || die "at most 5 RATES, so the run stays under ~5 minutes"
if ! is_count "$step_secs" || [ "$step_secs" -gt 40 ]; then
    die "STEP_SECS must be 1..40, got '$step_secs'"
fi
case $media in sink | echo) ;; *) die "MEDIA must be sink or echo, got '$media'" ;; esac
case $mode in dialplan | stasis | asyncagi) ;; *) die "MODE must be dialplan, stasis or asyncagi, got '$mode'" ;; esac
ami_listeners=${AMI_LISTENERS:-10}
if ! is_count "$ami_listeners" || [ "$ami_listeners" -gt 50 ]; then
    die "AMI_LISTENERS must be 1..50, got '$ami_listeners'"
fi
ari_app="$root/tests/fixtures/ari/bench_app.js"
if [ "$mode" != dialplan ]; then
    prompt_secs=$(python3 -c 'import wave,sys; w=wave.open(sys.argv[1]); print(round(w.getnframes()/w.getframerate(), 1))' "$root/sounds/en/hello-world.wav")
fi
if [ "$mode" = stasis ]; then
    command -v node >/dev/null 2>&1 || die "'node' is not installed (apt-get install nodejs)"
    [ -d "$root/tests/fixtures/ari/node_modules/ari-client" ] ||
        die "ari-client is not installed: npm ci --prefix tests/fixtures/ari"
fi
for tool in sipp python3 curl getconf timeout awk pgrep; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (sipp: apt-get install sip-tester)"
done
[ -f "$scenario" ] || die "scenario $scenario is missing"
[ -f "$caller_csv" ] || die "caller list $caller_csv is missing"

pbx_bin=$(pbx_binary)

clk_tck=$(getconf CLK_TCK)
work=$(mktemp -d -t pbx-bench-calls.XXXXXX)
pbx_pid=""
monitor_pid=""
sink_pid=""
sipp_pid=""
app_pid=""
keep=${KEEP_TMP:-0}

cleanup() {
    local pid
    for pid in "$sipp_pid" "$sink_pid" "$monitor_pid" "$app_pid"; do
        if [ -n "$pid" ]; then
            kill "$pid" 2>/dev/null || true
        fi
    done
    stop_pbx_and_clean
}
trap cleanup EXIT
trap 'keep=1; exit 130' INT
trap 'keep=1; exit 143' TERM

# Prints "created successful" from the last row of a SIPp -trace_stat file, then the calls
# created per second while SIPp was still creating them (the achieved rate).
sipp_counts() {
    awk -F';' '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        NF > 1 {
            split($col["StartTime"], s, "\t"); split($col["CurrentTime"], c, "\t")
            n++; t[n] = c[3] - s[3]; made[n] = $col["OutgoingCall(C)"] + 0
            ok = $col["SuccessfulCall(C)"] + 0
        }
        END {
            if (n == 0) { print "0 0 0"; exit }
            rate = 0
            for (i = 1; i <= n; i++) {
                if (made[i] < made[n] && t[i] > 0) rate = made[i] / t[i]
            }
            if (rate == 0) {
                for (i = 1; i <= n; i++) if (made[i] == made[n] && t[i] > 0) { rate = made[i] / t[i]; break }
            }
            printf "%d %d %.1f\n", made[n], ok, rate
        }' "$1" 2>/dev/null || echo "0 0 0"
}

read -r -a blocks <<<"$(free_port_runs 6 6)"
sip_port=${blocks[0]}
api_port=$((sip_port + 1))
ami_port=$((sip_port + 2))
sipp_port=${blocks[1]}
# SIPp binds its media port and media port + 2; the sink takes the block's last port.
media_port=$((sipp_port + 2))
if [ "$media" = sink ]; then
    rtp_port=$((sipp_port + 5))
else
    rtp_port=$media_port
fi
rtp_min=$((40000 + (sip_port % 10) * 2000))
rtp_max=$((rtp_min + 1999))

dialplan="$work/dialplan.toml"
if [ "$mode" = stasis ]; then
    printf '[context.internal]\n"%s" = ["Stasis(bench)", "Hangup()"]\n' "$extension" >"$dialplan"
elif [ "$mode" = asyncagi ]; then
    printf '[context.internal]\n"%s" = ["AGI(agi:async)", "Hangup()"]\n' "$extension" >"$dialplan"
else
    printf '[context.internal]\n"%s" = ["Answer()", "Playback(ivr-menu)", "Hangup()"]\n' "$extension" >"$dialplan"
fi
config="$work/pbx.toml"
{
    printf '[sip]\nbind = "127.0.0.1:%s"\nrealm = "pbx"\n\n' "$sip_port"
    printf '[rtp]\nport_min = %s\nport_max = %s\n\n' "$rtp_min" "$rtp_max"
    printf '[registrar]\nmin_expires = 60\nmax_expires = 3600\ndefault_expires = 600\n'
    printf 'persist_file = "%s"\nqualify_interval_secs = 0\n\n' "$work/registrations.json"
    printf '[api]\nbind = "127.0.0.1:%s"\n\n' "$api_port"
    printf '[dialplan]\nfile = "%s"\n\n' "$dialplan"
    printf '[[endpoint]]\nuser = "6001"\npassword = "%s"\n\n' "$password"
    printf '[[ari.user]]\nusername = "bench"\npassword = "%s"\n\n' "$password"
    printf '[ami]\nenabled = %s\nbind = "127.0.0.1:%s"\n\n' "$([ "$mode" = asyncagi ] && echo true || echo false)" "$ami_port"
    printf '[[ami.user]]\nusername = "bench"\nsecret = "%s"\nread = ["all"]\nwrite = ["all"]\n' "$password"
} >"$config"

# Samples the pbx every 0.5 s: "unix_time calls_active rtp_ports_in_use rss_kib".
cat >"$work/monitor.py" <<'EOF'
import json, sys, time, urllib.request

api, pid, out = sys.argv[1], sys.argv[2], sys.argv[3]
with open(out, "w", buffering=1) as f:
    due = time.time()
    while True:
        try:
            with open(f"/proc/{pid}/status") as s:
                rss = next(int(l.split()[1]) for l in s if l.startswith("VmRSS:"))
        except (OSError, StopIteration):
            break
        try:
            with urllib.request.urlopen(api + "/api/stats", timeout=2) as r:
                stats = json.load(r)
            calls, ports = stats["calls_active"], stats["rtp_ports_in_use"]
        except (OSError, ValueError, KeyError):
            calls = ports = -1
        f.write(f"{time.time():.3f} {calls} {ports} {rss}\n")
        due += 0.5
        time.sleep(max(0.0, due - time.time()))
EOF

# Counts the UDP datagrams arriving on one port; on SIGTERM writes "packets bytes sources
# min_per_source max_per_source kernel_drops". Drains in batches every 10 ms to stay cheap.
cat >"$work/sink.py" <<'EOF'
import signal, socket, sys, time

port, out = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root): 8 MiB
s.bind(("127.0.0.1", port))
s.setblocking(False)
running = True

def stop(*_):
    global running
    running = False

signal.signal(signal.SIGTERM, stop)
packets = size = 0
per_source = {}
buf = bytearray(2048)
while running:
    time.sleep(0.01)
    while True:
        try:
            n, source = s.recvfrom_into(buf)
        except BlockingIOError:
            break
        packets += 1
        size += n
        per_source[source] = per_source.get(source, 0) + 1
drops = 0
with open("/proc/net/udp") as f:
    for line in f.readlines()[1:]:
        cols = line.split()
        if int(cols[1].split(":")[1], 16) == port:
            drops = int(cols[-1])
counts = per_source.values()
with open(out, "w") as f:
    f.write(f"{packets} {size} {len(per_source)} {min(counts, default=0)} {max(counts, default=0)} {drops}\n")
EOF

wait_for_other_benchmarks

# Starts the application COMMAND... in the background (stdout in app.out) and waits until it
# prints READY; WHAT names it in errors.
start_app() {
    local what=$1
    shift
    "$@" >"$work/app.out" 2>"$work/app.err" &
    app_pid=$!
    for _ in $(seq 100); do
        grep -q READY "$work/app.out" 2>/dev/null && break
        kill -0 "$app_pid" 2>/dev/null || { keep=1; cat "$work/app.err" >&2; die "the $what exited at start"; }
        sleep 0.2
    done
    grep -q READY "$work/app.out" || { keep=1; die "the $what was not ready within 20 s"; }
    app_cpu_before=$(awk '{ print $14 + $15 }' "/proc/$app_pid/stat")
}

start_pbx
if [ "$mode" = stasis ]; then
    start_app "ARI app" env NODE_PATH="$root/tests/fixtures/ari/node_modules" \
        node "$ari_app" "$api" bench "$password" bench
    app_t0=$(date +%s.%N)
elif [ "$mode" = asyncagi ]; then
    start_app "AMI app" python3 "$root/scripts/bench/ami_app.py" 127.0.0.1 "$ami_port" bench \
        "$password" "$ami_listeners"
fi
python3 "$work/monitor.py" "$api" "$pbx_pid" "$work/samples" &
monitor_pid=$!
sleep 2
idle_rss=$(rss_kib)

echo "pbx calls benchmark: $pbx_bin ($("$pbx_bin" --version 2>/dev/null || echo unknown version))"
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), CLK_TCK=$clk_tck, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pbx: pid $pbx_pid, sip 127.0.0.1:$sip_port, rtp $rtp_min-$rtp_max, log level $log_level, idle RSS $((idle_rss / 1024)) MiB, work dir $work"
if [ "$mode" = stasis ]; then
    echo "calls: 6001 dials $extension = Stasis(bench): the ari-client app answers, plays sound:hello-world (${prompt_secs} s) and hangs up (BYE from the pbx)"
elif [ "$mode" = asyncagi ]; then
    echo "calls: 6001 dials $extension = AGI(agi:async): the AMI app answers, sends 3 NOOPs, streams hello-world (${prompt_secs} s) and breaks to Hangup(); $ami_listeners more AMI clients receive events"
else
    echo "calls: 6001 dials $extension = Answer(), Playback(ivr-menu) (${prompt_secs} s), Hangup() (BYE from the pbx)"
fi
if [ "$media" = sink ]; then
    echo "media: sink (the prompt goes to a Python UDP sink on 127.0.0.1:$rtp_port; the pbx receives no RTP)"
else
    echo "media: echo (SIPp -rtp_echo on 127.0.0.1:$rtp_port returns every prompt packet to the pbx)"
fi
echo "steps: ${step_secs} s of new calls, then until every call has ended; unanswered calls fail after ${recv_timeout_ms} ms"
echo

row='%7s %8s %6s %7s %6s %9s %8s %8s %5s %6s %7s %8s %8s %5s\n'
# shellcheck disable=SC2059 # the format is the fixed $row
printf "$row" "offered" "achieved" "calls" "failed" "peak" "call-s" "ms CPU/" "ms CPU/" "sys" "pbx" "RSS KiB" "RTP pkt" "RTP pkt" "log" \
    "calls/s" "calls/s" "ok" "%" "calls" "" "call" "call-s" "%" "CPU%" "/call" "/call" "/call-s" "warn+"
any_failure=0
for rate in $rates; do
    wait_for_other_benchmarks
    step_dir="$work/step-$rate"
    mkdir -p "$step_dir"
    count=$((rate * step_secs))
    if [ "$media" = sink ]; then
        python3 "$work/sink.py" "$rtp_port" "$step_dir/sink" &
        sink_pid=$!
        sleep 0.3
        kill -0 "$sink_pid" 2>/dev/null || die "the RTP sink could not start on port $rtp_port"
        echo_args=()
    else
        echo_args=(-rtp_echo)
    fi
    log_lines_before=$(wc -l <"$log")
    read -r ns_before user_before sys_before <<<"$(cpu_read)"
    t0=$(date +%s.%N)
    (
        cd "$step_dir"
        exec timeout -k 2 $((step_secs + 70)) sipp "127.0.0.1:$sip_port" -sf "$scenario" \
            -s "$extension" -au 6001 -ap "$password" -inf "$caller_csv" \
            -i 127.0.0.1 -p "$sipp_port" -cp $((sipp_port + 1)) -mp "$media_port" "${echo_args[@]}" \
            -key rtp_port "$rtp_port" -r "$rate" -m "$count" -l $((rate * 15 + 10)) \
            -recv_timeout "$recv_timeout_ms" -timeout $((step_secs + 60))s -nostdin \
            -trace_stat -stf "$step_dir/stat.csv" -fd 1 \
            -trace_err -error_file "$step_dir/errors.log" >"$step_dir/sipp.out" 2>&1
    ) &
    sipp_pid=$!
    wait "$sipp_pid" || true
    sipp_pid=""
    # Calls the pbx still counts (a BYE that SIPp never answered) end within its timers.
    for _ in $(seq 40); do
        curl -sf "$api/api/stats" | grep -q '"calls_active":0,' && break
        sleep 0.5
    done
    sleep 1
    pbx_alive "$rate calls/s"
    read -r ns_after user_after sys_after <<<"$(cpu_read)"
    t1=$(date +%s.%N)
    sink_line="0 0 0 0 0 0"
    if [ "$media" = sink ]; then
        kill -TERM "$sink_pid" 2>/dev/null || true
        wait "$sink_pid" || true
        sink_pid=""
        sink_line=$(cat "$step_dir/sink" 2>/dev/null || echo "0 0 0 0 0 0")
    fi

    read -r created ok achieved <<<"$(sipp_counts "$step_dir/stat.csv")"
    failed=$((created - ok))
    tail -n +"$((log_lines_before + 1))" "$log" >"$step_dir/pbx.log"
    warnings=$(grep -cE ' (WARN|ERROR) ' "$step_dir/pbx.log" || true)
    # Packets the pbx sent and received, from its "call ended" lines.
    read -r ended pbx_out pbx_in <<<"$(awk '/ call ended / {
            n++
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^packets_out=/) { split($i, v, "="); o += v[2] }
                if ($i ~ /^packets_in=/) { split($i, v, "="); r += v[2] }
            }
        } END { print n + 0, o + 0, r + 0 }' "$step_dir/pbx.log")"
    # Peak calls, RSS at that peak and the call-seconds (calls_active integrated over time).
    read -r peak peak_rss call_secs <<<"$(awk -v t0="$t0" -v t1="$t1" '
        $1 >= t0 && $1 <= t1 && $2 >= 0 {
            if ($2 > peak || peak == "") { peak = $2; rss = $4 }
            if (last != "") secs += (($1 - last) * (calls + $2) / 2)
            last = $1; calls = $2
        } END { printf "%d %d %.1f\n", peak, rss, secs }' "$work/samples")"
    read -r sink_packets sink_bytes sink_sources sink_min sink_max sink_drops <<<"$sink_line"
    cpu_secs=$(ratio $((ns_after - ns_before)) 1e9 %.3f 1)
    ticks=$((user_after - user_before + sys_after - sys_before))
    echo "$sink_sources $sink_min $sink_max $sink_drops $sink_bytes $ended $pbx_out $pbx_in $cpu_secs" \
        "$(ratio "$ticks" "$clk_tck" %.2f 1)" >"$step_dir/media"
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    heard=$([ "$media" = sink ] && echo "$sink_packets" || echo "$pbx_in")
    # shellcheck disable=SC2059 # the format is the fixed $row
    printf "$row" "$rate" "$achieved" "$ok" "$(ratio "$failed" "$created" %.2f 100)" "$peak" \
        "$call_secs" "$(ratio "$cpu_secs" "$ok" %.2f 1000)" "$(ratio "$cpu_secs" "$call_secs" %.3f 1000)" \
        "$(ratio $((sys_after - sys_before)) "$ticks" %.0f 100)" "$(ratio "$cpu_secs" "$wall" %.1f 100)" \
        "$(ratio $((peak_rss - idle_rss)) "$peak" %.0f 1)" "$(ratio "$heard" "$ok" %.0f 1)" \
        "$(ratio "$heard" "$call_secs" %.1f 1)" "$warnings"
    if [ "$failed" -gt 0 ] || [ "$warnings" -gt 0 ]; then
        any_failure=1
    fi
done

echo
echo "calls ok = SIPp successful calls; failed % = calls created but not successful; peak calls ="
echo "highest calls_active sampled every 0.5 s; call-s = calls_active integrated over the step (the"
echo "summed call durations, setup included). ms CPU = the pbx's on-CPU time (scheduler run time of"
echo "its threads) over the whole step (first INVITE until 1 s after the last call ended), per"
echo "successful call and per call-second. Target: < 0.7 ms CPU per call-second. sys % = the"
echo "kernel's share (stime / utime+stime, tick-sampled); pbx CPU% = percent of one core."
echo "RSS KiB/call = (pbx RSS at the peak - idle RSS $idle_rss KiB) / peak calls."
if [ "$media" = sink ]; then
    echo "RTP pkt = datagrams the sink received (one prompt packet every 20 ms expected: ~50/call-s)."
else
    echo "RTP pkt = prompt packets SIPp echoed back and the pbx received (its packets_in), ~50/call-s."
fi
echo
echo "per step: RTP at the sink (sink mode) | calls the pbx logged as ended, packets it sent and"
echo "received | pbx CPU seconds: scheduler run time, and utime+stime from ticks:"
for rate in $rates; do
    read -r sources smin smax drops bytes ended pbx_out pbx_in cpu_secs tick_secs <"$work/step-$rate/media"
    if [ "$media" = sink ]; then
        sink="sink $sources sources, $smin..$smax packets each, $bytes bytes, $drops kernel drops | "
    else
        sink=""
    fi
    echo "  $rate/s: ${sink}pbx: $ended calls ended, $pbx_out packets sent, $pbx_in received |" \
        "CPU ${cpu_secs} s, ticks ${tick_secs} s"
done
echo "pbx stats: $(curl -sf "$api/api/stats" || echo unavailable)"
if [ "$mode" = stasis ]; then
    app_cpu_after=$(awk '{ print $14 + $15 }' "/proc/$app_pid/stat")
    app_t1=$(date +%s.%N)
    kill -TERM "$app_pid" 2>/dev/null || true
    wait "$app_pid" || true
    app_pid=""
    app_line=$(grep '^{' "$work/app.out" | tail -n 1)
    read -r app_events app_answered app_hung app_errors <<<"$(echo "$app_line" |
        python3 -c 'import json,sys; c=json.load(sys.stdin); print(c["events"], c["answered"], c["hungUp"], c["errors"])')"
    app_secs=$(awk -v a="$app_t0" -v b="$app_t1" 'BEGIN { printf "%.1f", b - a }')
    echo "ARI app (ari-client, node): $app_answered answered, $app_hung hung up, $app_errors errors;" \
        "$app_events events over $app_secs s ($(ratio "$app_events" "$app_secs" %.0f 1) events/s average," \
        "$(ratio "$app_events" "$app_answered" %.1f 1) per call); app CPU" \
        "$(ratio $((app_cpu_after - app_cpu_before)) "$clk_tck" %.2f 1) s," \
        "$(ratio $((app_cpu_after - app_cpu_before)) "$app_answered" %.2f "$((1000 / clk_tck))") ms per call"
    [ "$app_errors" = 0 ] && [ "$app_hung" = "$app_answered" ] || any_failure=1
fi
if [ "$mode" = asyncagi ]; then
    app_cpu_after=$(awk '{ print $14 + $15 }' "/proc/$app_pid/stat")
    kill -TERM "$app_pid" 2>/dev/null || true
    wait "$app_pid" || true
    app_pid=""
    grep '^AMI ' "$work/app.out" || any_failure=1
    grep '^{' "$work/app.out" | tail -n 1 |
        python3 -c 'import json, sys; c = json.load(sys.stdin); sys.exit(1 if c["errors"] or c["unfinished"] else 0)' ||
        any_failure=1
    echo "AMI app CPU $(ratio $((app_cpu_after - app_cpu_before)) "$clk_tck" %.2f 1) s"
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$any_failure" = 1 ]; then
    keep=1
    echo "some calls failed or the pbx logged warnings: pbx log $log, SIPp output under $work/step-*"
fi
