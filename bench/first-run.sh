#!/usr/bin/env bash
# The component's size and the first run of a new install, beside a warm run.
#
#   bash bench/first-run.sh [RUNS]      (default: 5 of each)
#
# Serves a small account from `gtm-connector sim` (no latency, no rate limit), then times
# `gtm-connector test` RUNS times with an empty compiled-code cache (a first run: the component
# is compiled by Cranelift) and RUNS times with the cache filled (every later run: the compiled
# code is loaded). Prints the component's size and a Markdown table of the medians,
# with the first run as a ratio to the warm one and to the 1 s goal.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-5}"
source bench/common.sh
start_sim --users 10 --rate-limit 0 --rotation never --write-profile bench

# The median wall time, in milliseconds, of RUNS runs of `test`; `cold` empties the cache before
# each. A cached run takes a few milliseconds, finer than /usr/bin/time's hundredths of a second.
median_test() {
    local mode="$1" times=() start end
    for _ in $(seq "$runs"); do
        [ "$mode" = cold ] && rm -rf "$GTM_CACHE_DIR"
        start=$(date +%s%N)
        "$BIN" --profile bench test >/dev/null 2>"$work/log" || { cat "$work/log" >&2; exit 1; }
        end=$(date +%s%N)
        times+=("$(((end - start) / 1000000))")
    done
    median "${times[@]}"
}

"$BIN" --profile bench test >/dev/null
cold=$(median_test cold)
warm=$(median_test warm)
# The component the release binary embeds, with the metadata host/build.rs adds (build.rs puts
# a copy of the embedded bytes there); WASM overrides it.
wasm="${WASM:-${CARGO_TARGET_DIR:-target}/guest-component/gtm_connector.wasm}"
size=$(stat -c %s "$wasm")
echo "| measure | value | goal | ratio to goal |"
echo "|---|---:|---:|---:|"
awk -v s="$size" 'BEGIN { printf "| component size (KB) | %.0f | 600 | %.2f |\n", s / 1000, s / 600000 }'
awk -v c="$cold" 'BEGIN { printf "| first run, compiling the component (s, median of '"$runs"') | %.2f | 1.00 | %.2f |\n", c / 1000, c / 1000 }'
awk -v w="$warm" -v c="$cold" 'BEGIN { printf "| later run, compiled code cached (s, median of '"$runs"') | %.3f | | first ÷ later %.0f |\n", w / 1000, c / w }'
