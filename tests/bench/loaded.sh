# loaded.sh: sourced by query.sh and slow.sh.  With BIN (the server, made
# absolute here), N (entities) and WHAT (a title) set, it builds
# tests/bench/load_q.c (the Makefile links it like the server), loads N entities into bench/q/items in a fresh
# data directory, starts ugstore on it with its defaults (and
# BENCH_SERVE_ARGS), and sets PID,
# DATA/load (load_q's report: "loaded N entities in S s (R/s)"),
# DATA and BASE (the collection's URL); the server and the data go away
# when the script exits.

case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
cd "$(dirname "$0")/../.."

make --no-print-directory -s build/rel/bench/load_q

SCRATCH=qbench
. tests/bench/scratch.sh

echo "== $WHAT: $N entities in one collection"
build/rel/bench/load_q "$DATA/db" bench/q items "$N" | tee "$DATA/load"
# shellcheck disable=SC2086
"$BIN" serve --port 0 --data "$DATA/db" --quiet ${BENCH_SERVE_ARGS:-} > "$DATA/out" 2> "$DATA/err" &
PID=$!
for _ in $(seq 50); do grep -q listening "$DATA/out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$DATA/out")
[ -n "$PORT" ] || { cat "$DATA/err"; exit 1; }
BASE="http://127.0.0.1:$PORT/bench/q/items"
