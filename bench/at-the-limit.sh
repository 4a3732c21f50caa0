#!/usr/bin/env bash
# How close an import comes to GoTo's rate limit, as a ratio to its physical bound.
#
#   bash bench/at-the-limit.sh [USERS] [PAGE]      (default: 10000 accounts in pages of 100)
#
# Serves USERS accounts from `gtm-connector sim` as a real tenant behaves: 150 ms per request
# and 10 requests per second per API (429 beyond). Times `import accounts --page-size PAGE`
# twice, one beside the other: read one page at a time (`pipeline-depth = 1`) and pipelined
# (the default depth). The bound is the listing requests ÷ 10 per second; the ratio is the bound
# ÷ the wall time (1.00 = at the limit). 429s are counted from the connector's own log. Prints a
# Markdown table. Set BIN to time another build (default: the release binary, built first).
set -euo pipefail
cd "$(dirname "$0")/.."

users="${1:-10000}"
page="${2:-100}"
if [ -z "${BIN:-}" ]; then
    rustup target add wasm32-wasip2 >/dev/null 2>&1
    cargo build --release --locked -p gtm-connector >&2
    BIN="${CARGO_TARGET_DIR:-target}/release/gtm-connector"
fi
work="$(mktemp -d)"
sim_pid=""
cleanup() {
    [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
export GTM_HOME="$work/home" GTM_CACHE_DIR="$work/cache"

# The simulator announces itself line by line; wait for its last line, not for a timer.
exec 3< <(exec "$BIN" sim --port 0 --users "$users" --slow-ms 150 --rate-limit 10 --write-profile bench)
sim_pid=$!
while read -r line <&3; do
    case "$line" in "press Ctrl-C"*) break ;; esac
done
profile="$GTM_HOME/profiles/bench.toml"
"$BIN" --profile bench test >/dev/null

pages=$(( (users + page - 1) / page ))
bound=$(awk -v n="$pages" 'BEGIN { printf "%.1f", n / 10 }')
echo "| import of $users accounts, pages of $page, 150 ms per request | listing requests | bound (s) | wall (s) | ratio to bound | 429s |"
echo "|---|---:|---:|---:|---:|---:|"
for depth in 1 4; do
    sed -i '/^pipeline-depth/d' "$profile"
    sed -i "s/^\[limits\]$/[limits]\npipeline-depth = $depth/" "$profile"
    rm -f "$GTM_HOME"/state/bench.sqlite*
    start=$(date +%s.%N)
    "$BIN" -v --profile bench import accounts --page-size "$page" >"$work/accounts.jsonl" 2>"$work/log"
    end=$(date +%s.%N)
    written=$(wc -l <"$work/accounts.jsonl")
    [ "$written" -eq "$users" ] || { echo "depth $depth wrote $written of $users accounts" >&2; exit 1; }
    throttled=$(grep -c "GoTo answered 429" "$work/log" || true)
    wall=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')
    ratio=$(awk -v b="$bound" -v w="$wall" 'BEGIN { printf "%.2f", b / w }')
    label=$([ "$depth" = 1 ] && echo "one page at a time (pipeline-depth = 1)" || echo "pipelined (pipeline-depth = 4, the default)")
    echo "| $label | $pages | $bound | $wall | $ratio | $throttled |"
done
