#!/usr/bin/env bash
# Every benchmark of BENCHMARKS.md in one run, each table written into BENCHMARKS.md in place.
#
#   bash bench/all.sh
#
# Builds the release binary once, then runs, one after the other on the same machine:
# bench/at-the-limit.sh (ratios to GoTo's rate-limit bound), bench/against-the-script.sh (ratio
# to the hand-written Python peer at zero latency), bench/first-run.sh (component size and the
# uncached first run), bench/import-memory.sh (peak memory as the account grows) and
# bench/scim.sh (the SCIM service at GoTo's limit). Each
# script's Markdown table replaces the one between its markers in BENCHMARKS.md, headed by the
# date and the commit it measured; the prose around the tables is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-wasip2 >/dev/null 2>&1
cargo build --release --locked -p gtm-connector >&2
export BIN="${CARGO_TARGET_DIR:-target}/release/gtm-connector"
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!BENCHMARKS.md' || echo '+changes')"
tables="$(mktemp -d)"
trap 'rm -rf "$tables"' EXIT

for script in at-the-limit against-the-script first-run import-memory scim; do
    echo "running bench/$script.sh" >&2
    {
        echo "Measured $(date -u +%Y-%m-%d) on commit $commit by \`bash bench/all.sh\` (release build):"
        echo
        bash "bench/$script.sh"
    } >"$tables/$script"
    # Written as each finishes, so a later failure keeps the tables measured before it.
    python3 bench/tables.py BENCHMARKS.md "$tables"
    rm "$tables/$script"
done
echo "BENCHMARKS.md updated" >&2
