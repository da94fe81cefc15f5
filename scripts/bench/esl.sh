#!/usr/bin/env bash
# Measures calls through an outbound event-socket application: a SIPp provider calls a DID
# routed to Socket(127.0.0.1:PORT, async); the application (scripts/bench/esl_app.py) answers,
# plays one second (silence_stream://1000), waits for its CHANNEL_EXECUTE_COMPLETE and hangs
# up. For each offered rate (RATES, calls/s, STEP_SECS of new calls each) it prints the calls
# SIPp completed, the sessions the application completed, and the pbx's CPU per call.
#
# Usage: scripts/bench/esl.sh
# Environment:
#   PBX_BIN        pbx binary to measure (default: `cargo build --release`, then its output)
#   RATES          offered call rates in calls/s (default "10 25 50")
#   STEP_SECS      seconds of new calls per step (default 10)
#   PBX_LOG_LEVEL  pbx log level during the run (default info)
#   KEEP_TMP=1     keep the temporary directory
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bench_name=esl.sh
# shellcheck source=scripts/bench/lib.sh
. "$root/scripts/bench/lib.sh"
scenario="$root/tests/fixtures/sipp/provider_did_uac_bye.xml"
rates=${RATES:-"10 25 50"}
step_secs=${STEP_SECS:-10}
log_level=${PBX_LOG_LEVEL:-info}
did=5550200

for r in $rates; do
    if ! is_count "$r" || [ "$r" -gt 200 ]; then
        die "RATES must be integers in 1..200, got '$r'"
    fi
done
if ! is_count "$step_secs" || [ "$step_secs" -gt 40 ]; then
    die "STEP_SECS must be 1..40, got '$step_secs'"
fi
for tool in sipp python3 curl awk; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed"
done

pbx_bin=$(pbx_binary)

work=$(mktemp -d -t pbx-bench-esl.XXXXXX)
pbx_pid=""
app_pid=""
keep=${KEEP_TMP:-0}
cleanup() {
    if [ -n "$app_pid" ]; then
        kill "$app_pid" 2>/dev/null || true
    fi
    stop_pbx_and_clean
}
trap cleanup EXIT
trap 'keep=1; exit 130' INT
trap 'keep=1; exit 143' TERM

read -r -a blocks <<<"$(free_port_runs 4 4)"
sip_port=${blocks[0]}
api_port=$((sip_port + 1))
app_port=$((sip_port + 2))
sipp_port=${blocks[1]}
rtp_port=$((sipp_port + 2))
rtp_min=$((40000 + (sip_port % 10) * 2000))
rtp_max=$((rtp_min + 1999))

dialplan="$work/dialplan.toml"
printf '[context.from-trunk]\n"%s" = ["Socket(127.0.0.1:%s, async)", "Hangup()"]\n' "$did" "$app_port" >"$dialplan"
config="$work/pbx.toml"
{
    printf '[sip]\nbind = "127.0.0.1:%s"\nrealm = "pbx"\n\n' "$sip_port"
    printf '[rtp]\nport_min = %s\nport_max = %s\n\n' "$rtp_min" "$rtp_max"
    printf '[registrar]\nmin_expires = 60\nmax_expires = 3600\ndefault_expires = 600\npersist_file = "%s"\nqualify_interval_secs = 0\n\n' "$work/registrations.json"
    printf '[api]\nbind = "127.0.0.1:%s"\n\n' "$api_port"
    printf '[dialplan]\nfile = "%s"\n\n' "$dialplan"
    printf '[[trunk]]\nname = "provider"\nhost = "127.0.0.1"\nregister = false\n'
    printf 'context = "from-trunk"\nallow_from = ["127.0.0.0/8"]\n'
} >"$config"

python3 "$root/scripts/bench/esl_app.py" "$app_port" >"$work/app.txt" 2>&1 &
app_pid=$!
for _ in $(seq 100); do
    grep -q READY "$work/app.txt" 2>/dev/null && break
    sleep 0.1
done
grep -q READY "$work/app.txt" || die "the event-socket application did not start"
start_pbx

echo "rate  offered  sipp_ok  sipp_failed  cpu_ms_per_call"
for rate in $rates; do
    wait_for_other_benchmarks
    calls=$((rate * step_secs))
    read -r ns_before _ _ <<<"$(cpu_read)"
    sipp -sf "$scenario" -s "$did" -i 127.0.0.1 -p "$sipp_port" -key rtp_port "$rtp_port" \
        -mp "$((sipp_port + 3))" -r "$rate" -m "$calls" -l 1000 -recv_timeout 30000 \
        -nostdin -trace_stat -stf "$work/stat-$rate.csv" -fd 1 "127.0.0.1:$sip_port" \
        >"$work/sipp-$rate.txt" 2>&1 || true
    pbx_alive "$rate calls/s"
    read -r ns_after _ _ <<<"$(cpu_read)"
    row=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        NF > 1 { ok = $col["SuccessfulCall(C)"] + 0; bad = $col["FailedCall(C)"] + 0 }
        END { printf "%d %d", ok, bad }' "$work/stat-$rate.csv")
    read -r ok bad <<<"$row"
    printf '%4s  %7s  %7s  %11s  %s\n' "$rate" "$calls" "$ok" "$bad" \
        "$(ratio "$((ns_after - ns_before))" "$ok" "%.2f" "1e-6")"
done
kill -TERM "$app_pid"
wait "$app_pid" 2>/dev/null || true
app_pid=""
echo "application: $(tail -n 1 "$work/app.txt")"
