#!/bin/sh
# soak.sh: the memory part of `make bench`.
#
#   sh tests/bench/soak.sh [UGSTORE_BINARY]
#
# Starts ugstore (durable, its defaults) on a fresh data directory, seeds
# 1,000 entities and runs a mixed load (tests/bench/mixed.lua: 80% GET by
# uuid, 15% POST, 5% indexed query; wrk -t2 -c8) for BENCH_SOAK_SECONDS
# (default 600), sampling the server's memory every 10 s from
# /proc/PID/status: RssAnon (its own heap and stacks: what a leak grows)
# and VmRSS (that plus the pages of the data file it touched, which grow
# with the data).  The bar: RssAnon at the end within 10% of RssAnon once
# warm: after the first minute (thread stacks, allocator arenas) and once
# the entity cache (core/entcache.c, a bounded table of parsed entities
# that fills as readers meet entities) is full or has stopped growing
# (under 1% more entries in 10 s; /metrics' ugstore_entity_cache_*).  A
# line "SHORT: ..." and a non-zero exit when it is not.
set -eu
BIN=${1:-./ugstore}
SECS=${BENCH_SOAK_SECONDS:-600}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
cd "$(dirname "$0")/../.."
[ -r /proc/self/status ] || { echo "soak: needs Linux /proc"; exit 0; }

SCRATCH=soak
. tests/bench/scratch.sh

echo "== soak: a mixed load for $SECS s"
"$BIN" serve --port 0 --data "$DATA/db" --bootstrap bench/s --quiet > "$DATA/out" 2> "$DATA/err" &
PID=$!
for _ in $(seq 50); do grep -q listening "$DATA/out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$DATA/out")
[ -n "$PORT" ] || { cat "$DATA/err"; exit 1; }
URL=http://127.0.0.1:$PORT/bench/s/things
for i in $(seq 1000); do
	curl -s -X POST "$URL" -H 'Content-Type: application/json' \
		-d "{\"name\":\"seed-$i\",\"n\":$i,\"category\":\"c$((i % 100))\"}"
	echo
done | sed -n 's/.*"uuid":"\([0-9a-f-]*\)".*/\1/p' > "$DATA/uuids"
[ "$(wc -l < "$DATA/uuids")" -eq 1000 ] || { echo "soak: seeding failed"; exit 1; }

kb() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$PID/status"; }
# the entity cache's entries and slots, from /metrics
cache() {
	curl -s "http://127.0.0.1:$PORT/metrics" |
		awk '$1 == "ugstore_entity_cache_entries" { e = $2 } $1 == "ugstore_entity_cache_slots" { n = $2 }
		     END { printf "%d %d", e, n }'
}
wrk -t2 -c8 -d"${SECS}s" -s tests/bench/mixed.lua "$URL" -- "$DATA/uuids" > "$DATA/wrk" 2>&1 &
WRK=$!
echo "   s  RssAnon kB    VmRSS kB  cached entities"
t=0
: > "$DATA/samples"
while kill -0 "$WRK" 2>/dev/null; do
	sleep 10
	t=$((t + 10))
	kill -0 "$WRK" 2>/dev/null || break
	echo "$t $(kb RssAnon) $(kb VmRSS) $(cache)" | tee -a "$DATA/samples" |
		awk '{ printf "%4d %11d %11d %9d of %d\n", $1, $2, $3, $4, $5 }'
done
wait "$WRK" || { cat "$DATA/wrk"; exit 1; }
grep -E "^BENCH" "$DATA/wrk"
grep -q "non2xx=0 sockerr=0" "$DATA/wrk" || { echo "soak: wrk saw errors"; exit 1; }
awk -v secs="$SECS" '
	# warm: past the first minute, the cache full or no longer growing
	!warm && $1 >= 60 && ($4 >= 0.95 * $5 || $4 < 1.01 * prev) { warm = $1; base = $2 }
	{ prev = $4; last = $2; if ($2 > max) max = $2 }
	END {
		if (base == "") { print "soak: the cache never settled, or too short to sample"; exit 1 }
		printf "RssAnon warm (at %d s) %d kB, at the end %d kB (%.1f%%), highest %d kB (bar: end within 10%%)\n",
		       warm, base, last, (last - base) * 100.0 / base, max
		if (last > base * 1.10) { printf "SHORT: RssAnon grew %.1f%% over the soak\n", (last - base) * 100.0 / base; exit 1 }
	}' "$DATA/samples"
