#!/usr/bin/env bash
# Peak memory and wall time of `gtm-connector import accounts` as the account grows.
#
#   bash bench/import-memory.sh [USERS ...]      (default: 10000 50000 100000)
#
# Builds the release binary, serves each account size from `gtm-connector sim` in a separate
# process (rate limit off, so the connector is measured, not the throttle), warms the compiled-
# code cache and the access token with `test`, then times two imports with /usr/bin/time: the
# first into an empty reconciliation state (every account added), the second against it (every
# account compared, none changed). It prints a Markdown table row per import: peak RSS must not
# grow with the users.
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/common.sh

echo "| users | import | accounts written | wall time (s) | peak RSS (MiB) | accounts/s |"
echo "|---:|---|---:|---:|---:|---:|"
[ "$#" -gt 0 ] || set -- 10000 50000 100000
for users in "$@"; do
    start_sim --users "$users" --rate-limit 0 --write-profile bench
    "$BIN" --profile bench test >/dev/null
    rm -f "$GTM_HOME"/state/bench.sqlite*
    for import in first second; do
        /usr/bin/time -f "%e %M" -o "$work/time" \
            "$BIN" --profile bench import accounts --page-size 1000 >"$work/accounts.jsonl" 2>"$work/summary"
        read -r secs kib <"$work/time"
        written=$(wc -l <"$work/accounts.jsonl")
        awk -v u="$users" -v i="$import" -v w="$written" -v s="$secs" -v k="$kib" \
            'BEGIN { printf "| %d | %s | %d | %.2f | %.1f | %.0f |\n", u, i, w, s, k / 1024, w / (s > 0 ? s : 0.01) }'
    done
    kill "$sim_pid"
    wait "$sim_pid" 2>/dev/null || true
    exec 3<&-
    sim_pid=""
done
