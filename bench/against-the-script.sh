#!/usr/bin/env bash
# The connector beside the script a GoTo admin would write by hand (bench/peer.py), at zero
# latency and without a rate limit, so what is measured is the client, not GoTo.
#
#   bash bench/against-the-script.sh [USERS] [RUNS]     (default: 100000 accounts, 3 pairs)
#
# Serves USERS accounts from `gtm-connector sim --rate-limit 0`, warms the compiled-code cache
# and the access token, then runs, in turn, `gtm-connector import accounts --page-size 1000`
# (JSON Lines to a file, recording the reconciliation state, a first import each time) and
# `python3 bench/peer.py` (JSON Lines to a file, nothing else): A B A B ... Prints each pair's
# wall times and the ratio script ÷ connector (above 1: the connector is faster), then the
# median ratio. Set BIN to time another build (default: the release binary, built first).
set -euo pipefail
cd "$(dirname "$0")/.."

users="${1:-100000}"
runs="${2:-3}"
source bench/common.sh
start_sim --users "$users" --rate-limit 0 --rotation never --write-profile bench
"$BIN" --profile bench test >/dev/null

seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" >"$work/out" 2>"$work/log"
    end=$(date +%s.%N)
    [ "$(wc -l <"$work/out")" -eq "$users" ] || { echo "$1 wrote $(wc -l <"$work/out") of $users" >&2; exit 1; }
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }'
}

echo "| pair | connector (s) | script (s) | script ÷ connector |"
echo "|---:|---:|---:|---:|"
ratios=()
for pair in $(seq "$runs"); do
    rm -f "$GTM_HOME"/state/bench.sqlite*
    connector=$(seconds "$BIN" --profile bench import accounts --page-size 1000)
    script=$(seconds python3 bench/peer.py "$GTM_HOME/profiles/bench.toml" "$GTM_HOME/secrets/bench.json" 1000)
    ratio=$(awk -v c="$connector" -v s="$script" 'BEGIN { printf "%.2f", s / c }')
    ratios+=("$ratio")
    echo "| $pair | $connector | $script | $ratio |"
done
median=$(median "${ratios[@]}")
echo
echo "median script ÷ connector: $median"
