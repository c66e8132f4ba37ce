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
# with the data).  The bar: RssAnon at the end within 10% of RssAnon after
# the first minute (the warm-up: caches, thread stacks and allocator
# arenas).  A line "SHORT: ..." and a non-zero exit when it is not.
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
wrk -t2 -c8 -d"${SECS}s" -s tests/bench/mixed.lua "$URL" -- "$DATA/uuids" > "$DATA/wrk" 2>&1 &
WRK=$!
echo "   s  RssAnon kB    VmRSS kB"
t=0
: > "$DATA/samples"
while kill -0 "$WRK" 2>/dev/null; do
	sleep 10
	t=$((t + 10))
	kill -0 "$WRK" 2>/dev/null || break
	echo "$t $(kb RssAnon) $(kb VmRSS)" | tee -a "$DATA/samples" |
		awk '{ printf "%4d %11d %11d\n", $1, $2, $3 }'
done
wait "$WRK" || { cat "$DATA/wrk"; exit 1; }
grep -E "^BENCH" "$DATA/wrk"
grep -q "non2xx=0 sockerr=0" "$DATA/wrk" || { echo "soak: wrk saw errors"; exit 1; }
awk -v secs="$SECS" '
	$1 <= 60 || base == "" { base = $2 }
	{ last = $2; if ($2 > max) max = $2 }
	END {
		if (base == "") { print "soak: too short to sample"; exit 0 }
		printf "RssAnon after the first minute %d kB, at the end %d kB (%.1f%%), highest %d kB (bar: end within 10%%)\n",
		       base, last, (last - base) * 100.0 / base, max
		if (last > base * 1.10) { printf "SHORT: RssAnon grew %.1f%% over the soak\n", (last - base) * 100.0 / base; exit 1 }
	}' "$DATA/samples"
