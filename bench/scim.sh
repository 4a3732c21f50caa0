#!/usr/bin/env bash
# `gtm-connector serve` at GoTo's rate limit: requests per second and latency percentiles of
# SCIM requests, with the GoTo requests they cost as a ratio to the physical bound.
#
#   bash bench/scim.sh [PAGES] [GRANTS] [CONCURRENCY]   (default: 40 pages of 100 users,
#                                                        40 role grants, 4 clients at once)
#
# Serves 4,000 accounts from `gtm-connector sim --slow-ms 150 --rate-limit 10` (GoTo's latency
# and limit) and `serve` in front of it (its default 4 instances), then runs bench/scim_load.py:
# PAGES `GET /Users` pages of 100 (each one GoTo listing request), and GRANTS `PATCH` grants of
# an admin role (each a read, the write and a read back), CONCURRENCY clients at a time. The
# bound is the GoTo requests the service sent for them (counted from its own debug log) ÷ 10
# per second; the ratio is the bound ÷ the wall time (1.00 = at the limit). Prints a Markdown
# table. Set BIN to time another build (default: the release binary, built first).
set -euo pipefail
cd "$(dirname "$0")/.."

pages="${1:-40}"
grants="${2:-40}"
concurrency="${3:-4}"
source bench/common.sh
start_sim --users 4000 --slow-ms 150 --rate-limit 10 --write-profile bench
export GTM_SCIM_TOKEN="bench-scim-token-$RANDOM$RANDOM"
printf %s "$GTM_SCIM_TOKEN" | "$BIN" --profile bench secrets set scim-token 2>/dev/null

exec 4< <(exec "$BIN" -vvv --profile bench serve --listen 127.0.0.1:0 2>"$work/serve.log")
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; cleanup' EXIT
read -r line <&4
base="${line#SCIM service listening at }"

goto_requests() { grep -c "http: → " "$work/serve.log" || true; }

# Runs scim_load.py with these arguments, and prints its table row.
measure() {
    local label="$1"
    shift
    local before after result
    before=$(goto_requests)
    result=$(python3 bench/scim_load.py "$base" "$@")
    after=$(goto_requests)
    python3 - "$label" "$((after - before))" "$result" <<'PY'
import json, sys
label, sent, r = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
bound = sent / 10
print(f"| {label} | {r['requests']} | {sent} | {bound:.1f} | {r['wall']:.2f} | {bound / r['wall']:.2f} | "
      f"{r['rps']:.2f} | {r['p50']:.0f} | {r['p90']:.0f} | {r['p99']:.0f} |")
PY
}

# The first page caches the license names; the keys of the grants come from it.
python3 bench/scim_load.py "$base" pages 1 1 >/dev/null
keys=$(python3 - "$base" "$grants" <<'PY'
import json, os, sys, urllib.request
base, count = sys.argv[1], int(sys.argv[2])
request = urllib.request.Request(f"{base}/Users?startIndex=2&count={count}&attributes=id")
request.add_header("Authorization", "Bearer " + os.environ["GTM_SCIM_TOKEN"])
print(" ".join(u["id"] for u in json.load(urllib.request.urlopen(request))["Resources"]))
PY
)
# shellcheck disable=SC2086
python3 bench/scim_load.py "$base" grants "$grants" "$concurrency" $keys --revoke >/dev/null

echo "| SCIM run (GoTo: 150 ms per request, 10/s) | SCIM requests | GoTo requests | bound (s) | wall (s) | ratio to bound | SCIM req/s | p50 (ms) | p90 (ms) | p99 (ms) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
measure "GET /Users, pages of 100, $concurrency clients" pages "$pages" "$concurrency"
# shellcheck disable=SC2086
measure "PATCH role grant, $concurrency clients" grants "$grants" "$concurrency" $keys
throttled=$(grep -c "GoTo answered 429" "$work/serve.log" || true)
echo
echo "429s answered by GoTo during the runs: $throttled"
