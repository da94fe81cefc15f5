#!/usr/bin/env bash
# Compares one pbx alone with the shipped scale-out deployment on this machine (Kamailio with
# deploy/kamailio/kamailio.cfg on 127.0.0.10 in front of two nodes with deploy/pbx-node.toml
# on 127.0.0.11 and 127.0.0.12): authenticated REGISTER throughput (the cluster's registrar is
# Kamailio) and call-setup throughput (SIPp callers as 6001 dial 8000, hear hello-world, the
# node hangs up). For each offered rate it prints what SIPp completed, the failures, and the
# CPU seconds each process used, so the bottleneck shows. Everything it starts is stopped on
# exit.
#
# Usage: scripts/bench/cluster.sh
# Environment:
#   PBX_BIN        pbx binary (default: `cargo build --release`, then its output)
#   REG_RATES      REGISTER rates in registrations/s (default "500 1000 2000")
#   CALL_RATES     call rates in calls/s (default "20 50 100")
#   STEP_SECS      seconds of traffic per step (default 10)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bench_name=cluster.sh
# shellcheck source=scripts/bench/lib.sh
. "$root/scripts/bench/lib.sh"
reg_rates=${REG_RATES:-"500 1000 2000"}
call_rates=${CALL_RATES:-"20 50 100"}
step_secs=${STEP_SECS:-10}
password=unsecurepassword
for r in $reg_rates $call_rates $step_secs; do is_count "$r" || die "rates and STEP_SECS must be positive integers, got '$r'"; done
for tool in sipp kamailio python3 curl getconf awk; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || die "'$tool' is not installed"
done
kamailio_bin=$(command -v kamailio || echo /usr/sbin/kamailio)

pbx_bin=$(pbx_binary)

clk_tck=$(getconf CLK_TCK)
work=$(mktemp -d -t pbx-bench-cluster.XXXXXX)
keep=${KEEP_TMP:-0}
pbx_pid=""
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    if [ -n "${kamailio_pid:-}" ]; then
        kill -TERM -- "-$kamailio_pid" 2>/dev/null || true
    fi
    stop_pbx_and_clean
}
trap cleanup EXIT

# CPU seconds (utime + stime) used so far by the processes whose ids are the arguments.
cpu_secs() {
    local total=0 pid stat
    for pid in "$@"; do
        stat=$(<"/proc/$pid/stat") || continue
        stat=${stat##*) }
        total=$((total + $(echo "$stat" | awk '{ print $12 + $13 }')))
    done
    awk -v t="$total" -v hz="$clk_tck" 'BEGIN { printf "%.2f", t / hz }'
}

# Prints "successful failed" from the last row of a SIPp -trace_stat file.
sipp_counts() {
    awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next } NF > 1 { last = $0 }
        END { if (last == "") { print "0 0"; exit }
              split(last, v, ";"); print v[col["SuccessfulCall(C)"]] + 0, v[col["FailedCall(C)"]] + 0 }' "$1"
}

read -r -a ports <<<"$(free_port_runs 6 6 6 6 6)"
single_sip=${ports[0]} a_sip=${ports[1]} b_sip=${ports[2]} front_sip=${ports[3]} sipp_port=${ports[4]}
sink_port=$((sipp_port + 4))

# A UDP sink for the prompts' RTP, so no packet meets a closed port.
python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', $sink_port))
while True:
    s.recv(2048)
" &
pids+=($!)

# One pbx alone, its own registrar, with 6001.
config="$work/pbx.toml"
api_port=$((single_sip + 1))
printf '[sip]\nbind = "127.0.0.1:%s"\n[rtp]\nport_min = 40000\nport_max = 40999\n[api]\nbind = "127.0.0.1:%s"\n[registrar]\nmin_expires = 60\nmax_expires = 3600\ndefault_expires = 600\nqualify_interval_secs = 0\n[[endpoint]]\nuser = "6001"\npassword = "%s"\nmax_concurrent_calls = 0\n' \
    "$single_sip" "$api_port" "$password" >"$config"
log_level=warn
start_pbx
single_pid=$pbx_pid

# The two nodes, on the shipped node config.
node_pids=()
for node in a b; do
    sip=$a_sip ip=127.0.0.11 rtp=41000
    if [ "$node" = b ]; then sip=$b_sip ip=127.0.0.12 rtp=42000; fi
    NODE_NAME="pbx-$node" SIP_BIND="$ip:$sip" RTP_PORT_MIN=$rtp RTP_PORT_MAX=$((rtp + 999)) \
        API_BIND="127.0.0.1:$((sip + 1))" PROXY_URI="sip:127.0.0.10:$front_sip" \
        PROXY_NETWORK=127.0.0.10/32 DRAIN_GRACE_SECS=0 \
        "$pbx_bin" --log-level warn run --config "$root/deploy/pbx-node.toml" >"$work/node-$node.log" 2>&1 &
    node_pids+=($!)
    pids+=($!)
done
for node_port in $((a_sip + 1)) $((b_sip + 1)); do
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$node_port/api/health" >/dev/null 2>&1 && break
        sleep 0.2
    done
    curl -sf "http://127.0.0.1:$node_port/api/health" >/dev/null || { keep=1; die "a node did not start (logs in $work)"; }
done

# Kamailio in front, with the shipped dispatcher list pointed at the nodes.
sed -e "s/172.28.0.11:5060/127.0.0.11:$a_sip/" -e "s/172.28.0.12:5060/127.0.0.12:$b_sip/" \
    "$root/deploy/kamailio/dispatcher.list" >"$work/dispatcher.list"
cp -r "$root/deploy/kamailio/db" "$work/db"
setsid "$kamailio_bin" -f "$root/deploy/kamailio/kamailio.cfg" -l "udp:127.0.0.10:$front_sip" \
    -A "DISPATCHER_LIST=\"$work/dispatcher.list\"" -A "DB_URL=\"text://$work/db\"" \
    -A "CTL_SOCKET=\"unixs:$work/ctl.sock\"" -Y "$work" -w "$work" -DD -E -m 128 -M 16 \
    >"$work/kamailio.log" 2>&1 &
kamailio_pid=$!
sleep 2
kill -0 "$kamailio_pid" 2>/dev/null || { keep=1; die "kamailio did not start: $work/kamailio.log"; }

# Kamailio's processes: the main one and its children (same process group).
kamailio_pids() {
    pgrep -g "$kamailio_pid" | tr '\n' ' '
}

inf="$work/users.csv"
printf 'SEQUENTIAL\n6001;[authentication username=6001 password=%s]\n' "$password" >"$inf"

# Runs one SIPp step: $1 label, $2 target, $3 scenario, $4 rate, then the processes to account.
step() {
    local label=$1 target=$2 scenario=$3 rate=$4
    shift 4
    local before after counts started ended
    # shellcheck disable=SC2086 # the process lists are words
    before=$(cpu_secs $*)
    started=$(date +%s.%N)
    timeout $((step_secs + 40)) sipp "$target" -sf "$scenario" -i 127.0.0.1 -p "$sipp_port" \
        -inf "$inf" -au 6001 -ap "$password" -s 8000 -key rtp_port "$sink_port" \
        -r "$rate" -m $((rate * step_secs)) -l $((rate * 5)) -recv_timeout 5000 \
        -nostdin -trace_stat -fd 1 -stf "$work/stat.csv" >/dev/null 2>&1 || true
    ended=$(date +%s.%N)
    sleep 1
    # shellcheck disable=SC2086
    after=$(cpu_secs $*)
    counts=$(sipp_counts "$work/stat.csv")
    rm -f "$work/stat.csv"
    # shellcheck disable=SC2086 # counts is two words
    printf '%-32s %6s/s %7s %7s %7s %8s\n' "$label" "$rate" ${counts} \
        "$(awk -v a="$ended" -v b="$started" 'BEGIN { printf "%.1f", a - b }')" \
        "$(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.2f", a - b }')"
}

echo "pbx cluster benchmark: $pbx_bin, $(nproc) cores, ${step_secs} s per step"
printf '%-32s %8s %7s %7s %7s %8s\n' "step" "offered" "done" "failed" "wall s" "CPU s"
for rate in $reg_rates; do
    step "REGISTER, one pbx" "127.0.0.1:$single_sip" "$root/tests/fixtures/sipp/register_bench.xml" "$rate" "$single_pid"
    # shellcheck disable=SC2046
    step "REGISTER, Kamailio (cluster)" "127.0.0.10:$front_sip" "$root/tests/fixtures/sipp/register_bench.xml" "$rate" $(kamailio_pids)
done
for rate in $call_rates; do
    step "8000 calls, one pbx" "127.0.0.1:$single_sip" "$root/tests/fixtures/sipp/uac_call.xml" "$rate" "$single_pid"
    # shellcheck disable=SC2046
    step "8000 calls, Kamailio + 2 nodes" "127.0.0.10:$front_sip" "$root/tests/fixtures/sipp/proxied_uac_call.xml" "$rate" "${node_pids[@]}" $(kamailio_pids)
done
echo "wall s: from the first request to SIPp's end (a call step includes the last calls' prompt)"
echo "CPU s: the pbx alone; Kamailio's processes for REGISTER; both nodes and Kamailio for calls"
