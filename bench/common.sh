# Shared by the bench scripts (sourced): the binary to time, a scratch home, and a simulator
# served by that binary, waited for by its announcement rather than a timer.
#
# After sourcing: $BIN (the release binary, built first, unless BIN is set), $work (removed on
# exit, with the simulator stopped), GTM_HOME and GTM_CACHE_DIR inside it, `start_sim ARGS` and
# `median NUMBER...`.

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

# Serves the simulator with these arguments until the script ends (or the next start_sim).
start_sim() {
    [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
    exec 3< <(exec "$BIN" sim --port 0 "$@")
    sim_pid=$!
    while read -r line <&3; do
        case "$line" in "press Ctrl-C"*) break ;; esac
    done
}

# The median of the numbers given (the lower middle one of an even count).
median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
