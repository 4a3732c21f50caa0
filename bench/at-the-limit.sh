#!/usr/bin/env bash
# How close imports and batches come to GoTo's rate limit, as a ratio to the physical bound.
#
#   bash bench/at-the-limit.sh [USERS] [PAGE] [GRANTS]   (default: 10000 accounts, pages of 100,
#                                                         100 admin-role grants)
#
# Serves USERS accounts from `gtm-connector sim` as a real tenant behaves: 150 ms per request
# and 10 requests per second per API (429 beyond). Times, each pair one run beside the other:
# `import accounts --page-size PAGE` one page at a time (`pipeline-depth = 1`) and pipelined (the
# default depth); `apply` of GRANTS admin-role grants with `--concurrency 1` and `4`. The bound
# is the requests the run sent (counted from its own debug log) ÷ 10 per second; the ratio is the
# bound ÷ the wall time (1.00 = at the limit). 429s are counted from the log too. Prints a
# Markdown table. Set BIN to time another build (default: the release binary, built first).
set -euo pipefail
cd "$(dirname "$0")/.."

users="${1:-10000}"
page="${2:-100}"
grants="${3:-100}"
source bench/common.sh
start_sim --users "$users" --slow-ms 150 --rate-limit 10 --write-profile bench
profile="$GTM_HOME/profiles/bench.toml"
"$BIN" --profile bench test >/dev/null

# Runs "$@" with the debug log, and prints its table row: requests, bound, wall, ratio, 429s.
measure() {
    local label="$1"
    shift
    local start end
    start=$(date +%s.%N)
    "$BIN" -vvv --profile bench "$@" >"$work/out" 2>"$work/log" || true
    end=$(date +%s.%N)
    local requests throttled
    requests=$(grep -c "http: → " "$work/log" || true)
    throttled=$(grep -c "GoTo answered 429" "$work/log" || true)
    awk -v l="$label" -v n="$requests" -v s="$start" -v e="$end" -v t="$throttled" \
        'BEGIN { b = n / 10; w = e - s; printf "| %s | %d | %.1f | %.2f | %.2f | %d |\n", l, n, b, w, b / w, t }'
}

echo "| run (150 ms per request, GoTo's 10/s) | requests | bound (s) | wall (s) | ratio to bound | 429s |"
echo "|---|---:|---:|---:|---:|---:|"
for depth in 1 4; do
    sed -i '/^pipeline-depth/d' "$profile"
    sed -i "s/^\[limits\]$/[limits]\npipeline-depth = $depth/" "$profile"
    rm -f "$GTM_HOME"/state/bench.sqlite*
    label=$([ "$depth" = 1 ] && echo "import $users accounts, one page at a time" || echo "import $users accounts, pipelined (depth 4)")
    measure "$label" import accounts --page-size "$page"
    written=$(wc -l <"$work/out")
    [ "$written" -eq "$users" ] || { echo "depth $depth wrote $written of $users accounts" >&2; exit 1; }
done

# Admin-role grants to the first accounts, each run after revoking them, so every grant writes.
head -n "$grants" "$work/out" | sed -n 's/^{"key":"\([0-9]*\)".*/\1/p' >"$work/keys"
for concurrency in 1 4; do
    for op in revoke grant; do
        sed "s/.*/{\"op\":\"$op\",\"account\":\"&\",\"role\":\"RUN_REPORTS\"}/" "$work/keys" >"$work/ops.jsonl"
        [ "$op" = revoke ] && { "$BIN" --profile bench apply "$work/ops.jsonl" >/dev/null 2>&1 || true; continue; }
        measure "apply $grants role grants, --concurrency $concurrency" apply --concurrency "$concurrency" "$work/ops.jsonl"
        changed=$(grep -c '"status":"changed"' "$work/out" || true)
        [ "$changed" -eq "$grants" ] || { echo "concurrency $concurrency changed $changed of $grants" >&2; exit 1; }
    done
done
