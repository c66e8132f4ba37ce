#!/bin/sh
# run.sh: the benchmark behind `make bench`.
#
#   sh tests/bench/run.sh [UGSTORE_BINARY]      (default ./ugstore)
#
# Builds the bare libmicrohttpd ceiling (tests/bench/mhd_ceiling.c) into
# build/bench/, starts ugstore on a fresh data directory (durable: every
# commit is synced) on a free loopback port, seeds SEED entities into
# my-org/my-app/things, and runs bounded wrk loads against it (8
# connections unless said):
#
#   get-entity   GET  /my-org/my-app/things/{uuid}   (cycling the seeded uuids)
#   get-page     GET  /my-org/my-app/things?limit=10
#   query-eq     GET  /my-org/my-app/things?ql=select * where category =
#                'bench'&limit=10   (an indexed equality query, 10 entities)
#   post-entity  POST /my-org/my-app/things          (small JSON, unique name)
#   post-entity-64  post-entity with 64 connections
#   get-entity-token  get-entity with a user's Bearer token whose get
#                permission comes from a role of the user's group (the
#                default role deleted), to compare with anonymous get-entity
#
# then the same loads against the ceiling, which answers everything with a
# fixed ~700-byte JSON body, and get-page and query-eq once more against
# the ceiling started with --body-bytes set to the size of ugstore's reply
# to each.  Prints one table (req/s for both, the ratio, its bar, ugstore's
# p50/p99), one of body bytes/s against the same-size ceiling, and the
# size of the data directory.  Any response outside 2xx, or any socket
# error, fails the run.  A ratio below its bar prints a line "SHORT: <load>
# ratio X, bar >= Y" after the tables, and the script exits 1 once it has
# reported everything.
#
# Environment: BENCH_SECONDS (default 10) per load, BENCH_SEED (default
# 1000, at least 10) entities, BENCH_THREADS (default: the servers' own,
# one per core) for both servers' thread pools.  The wrk output of the last
# run is kept in build/bench/last/.
set -eu

BIN=${1:-./ugstore}
SECS=${BENCH_SECONDS:-10}
SEED=${BENCH_SEED:-1000}
THREADS=${BENCH_THREADS:-}
WRK_THREADS=2

case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
OUT=$ROOT/build/bench
LOG=$OUT/last
CEIL=$OUT/mhd_ceiling

fail() {
	echo "bench: FAIL: $*" >&2
	exit 1
}

case $SECS in ''|*[!0-9]*|0) fail "BENCH_SECONDS must be a positive integer" ;; esac
case $SEED in ''|*[!0-9]*|0) fail "BENCH_SEED must be a positive integer" ;; esac
[ "$SEED" -ge 10 ] || fail "BENCH_SEED must be at least 10 (a page of 10 is checked)"
case $THREADS in *[!0-9]*) fail "BENCH_THREADS must be a number" ;; esac
[ -x "$BIN" ] || fail "no server binary at $BIN (run make)"
command -v wrk >/dev/null || fail "wrk is not installed (run make deps)"
command -v curl >/dev/null || fail "curl is not installed (run make deps)"

UG_PID=
CEIL_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ugbench.XXXXXX")
DATA=$WORK/data

cleanup() {
	for p in $UG_PID $CEIL_PID; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build the ceiling -------------------------------------------------------
mkdir -p "$OUT"
rm -rf "$LOG"
mkdir -p "$LOG"
${CC:-cc} -O2 -std=c11 -Wall -Wextra -Wpedantic -Wstrict-prototypes \
	-Wshadow -o "$CEIL" tests/bench/mhd_ceiling.c -lmicrohttpd -lpthread ||
	fail "cannot build $CEIL"

# now_ms: wall clock in milliseconds (whole seconds where date lacks %N).
now_ms() {
	d=$(date +%s%N)
	case $d in
	*N*) echo $(($(date +%s) * 1000)) ;;
	*) echo $((d / 1000000)) ;;
	esac
}

# start NAME CMD...: runs CMD in the background, waits for its "listening on
# 127.0.0.1:PORT" line; sets PID and PORT, or stops it and fails.  The
# output files exist before the command starts: the loop may read first.
start() {
	name=$1
	shift
	: >"$LOG/$name.out"
	: >"$LOG/$name.err"
	"$@" >"$LOG/$name.out" 2>"$LOG/$name.err" &
	PID=$!
	PORT=
	i=0
	while [ $i -lt 100 ]; do
		PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$LOG/$name.out")
		[ -n "$PORT" ] && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	kill "$PID" 2>/dev/null || true
	wait "$PID" 2>/dev/null || true
	cat "$LOG/$name.err" >&2
	fail "$name did not start"
}

# stop PID NAME: SIGTERM, then waits; fails if the exit status is not 0.
stop() {
	rc=0
	kill -TERM "$1"
	wait "$1" || rc=$?
	[ $rc -eq 0 ] || { cat "$LOG/$2.err" >&2; fail "$2 exited with status $rc on SIGTERM"; }
}

# cputicks PID: "THREAD TICKS" for each thread of PID, user + system CPU
# (Linux /proc; prints nothing elsewhere).
cputicks() {
	for t in /proc/"$1"/task/*/stat; do
		[ -r "$t" ] || continue
		sed 's/.*) //' "$t" | awk -v t="${t%/stat}" '{ print t, $12 + $13 }'
	done
	:
}

# load SERVER NAME CONNS SCRIPT URL [SCRIPT-ARGS...]: one wrk run with CONNS
# connections against the server whose pid is SRV_PID; appends "SERVER NAME
# rps p50_us p99_us requests busiest" to the results, or records a
# failure.  busiest is the share of the server's CPU time spent by its
# busiest thread: MHD's pool threads each accept on their own, and when one
# of them takes all of wrk's connections the server runs on one core (100%
# here).
FAILED=
load() {
	srv=$1 name=$2 conns=$3 script=$4 url=$5
	shift 5
	f=$LOG/$srv-$name.txt
	cputicks "$SRV_PID" >"$WORK/ticks0"
	wrk -t$WRK_THREADS -c"$conns" -d"${SECS}s" --latency \
		-s "tests/bench/$script.lua" "$url" -- "$@" >"$f" 2>&1 ||
		fail "wrk failed on $srv $name, see $f"
	cputicks "$SRV_PID" >"$WORK/ticks1"
	busiest=$(awk 'NR == FNR { t0[$1] = $2; next }
		{ d = $2 - t0[$1]; sum += d; if (d > max) max = d }
		END { if (sum > 0) printf "%.0f%%", 100 * max / sum; else print "?" }' \
		"$WORK/ticks0" "$WORK/ticks1")
	line=$(grep '^BENCH ' "$f") || fail "no BENCH line in $f"
	get() { printf '%s\n' "$line" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
	# Ctrl-C reaches wrk, which prints what it has and exits 0, and the
	# servers, which stop: neither is a result.
	awk -v s="$(get seconds)" -v d="$SECS" 'BEGIN { exit !(s < 0.9 * d) }' &&
		fail "wrk stopped early on $srv $name (interrupted?)"
	if ! kill -0 "$SRV_PID" 2>/dev/null; then
		rc=0
		wait "$SRV_PID" || rc=$?
		fail "$srv exited with status $rc during $name, see $LOG/$srv.err"
	fi
	non2xx=$(get non2xx)
	sockerr=$(get sockerr)
	if [ "$non2xx" != 0 ] || [ "$sockerr" != 0 ]; then
		echo "bench: FAIL: $srv $name: $non2xx responses outside 2xx," \
			"$sockerr socket errors; first: $(get first_bad)" >&2
		FAILED="$FAILED $srv/$name"
	fi
	echo "$srv $name $(get rps) $(get p50_us) $(get p99_us) $(get requests) $busiest" >>"$LOG/results"
	printf '  %-12s %-16s %10s req/s   busiest thread %s\n' "$srv" "$name" "$(get rps)" "$busiest"
}

cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo "?")
echo "bench: $cores cores, server threads ${THREADS:-$cores}, wrk -t$WRK_THREADS -c8 (-c64) -d${SECS}s, $SEED seeded entities"
echo "bench: data in $DATA ($(df -T "$WORK" 2>/dev/null | awk 'NR == 2 { print $2 }') filesystem)"

# --- ugstore -----------------------------------------------------------------
SU=bench:bench-superuser-pw
set -- serve --port 0 --data "$DATA" --bootstrap my-org/my-app --quiet --superuser "$SU"
[ -n "$THREADS" ] && set -- "$@" --threads "$THREADS"
start ugstore "$BIN" "$@"
UG_PID=$PID
SRV_PID=$PID
BASE=http://127.0.0.1:$PORT/my-org/my-app
URL=$BASE/things

# Seed through one curl process and one kept-alive connection.
cfg=$WORK/seed.curl
i=1
while [ $i -le "$SEED" ]; do
	[ $i -gt 1 ] && echo next
	printf 'url = "%s"\nheader = "Content-Type: application/json"\n' "$URL"
	printf 'data = "{\\"name\\":\\"seed-%d\\",\\"title\\":\\"benchmark seed entity number %d\\",' $i $i
	printf '\\"category\\":\\"bench\\",\\"n\\":%d,\\"tags\\":[\\"alpha\\",\\"beta\\",\\"gamma\\"],' $i
	printf '\\"location\\":{\\"lat\\":52.52,\\"lon\\":13.405},\\"active\\":true,'
	printf '\\"owner\\":\\"bench\\",\\"score\\":%d,\\"note\\":\\"xxxxxxxxxxxxxxxx\\"}"\n' $i
	printf 'write-out = "\\n=%%{http_code}\\n"\nsilent\n'
	i=$((i + 1))
done >"$cfg"
t0=$(now_ms)
curl -K "$cfg" >"$WORK/seed.out" 2>"$LOG/seed.err" || fail "seeding: curl failed, see $LOG/seed.err"
t1=$(now_ms)
ok=$(grep -c '^=200$' "$WORK/seed.out" || true)
[ "$ok" -eq "$SEED" ] || {
	grep -v '^=200$' "$WORK/seed.out" | grep -m3 . >&2 || true
	fail "seeding: only $ok of $SEED POSTs answered 200"
}
grep -o '"uuid":"[^"]*"' "$WORK/seed.out" | cut -d'"' -f4 >"$WORK/uuids"
[ "$(wc -l <"$WORK/uuids")" -eq "$SEED" ] || fail "seeding: did not get $SEED uuids back"
echo "bench: seeded $SEED entities in $((t1 - t0)) ms over one connection (one durable commit each)"

# One of each request by hand first: status, body size, and for the pages
# 10 entities (one "uuid" member each); the query must use an index.
EQ="ql=select%20*%20where%20category%20%3D%20%27bench%27&limit=10"
size_entity=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$URL/$(head -n 1 "$WORK/uuids")")
size_page=$(curl -s -o "$WORK/page" -w '%{http_code} %{size_download}' "$URL?limit=10")
size_query=$(curl -s -o "$WORK/query" -w '%{http_code} %{size_download}' "$URL?$EQ")
[ "${size_entity% *}" = 200 ] || fail "GET of a seeded entity answered ${size_entity% *}"
[ "${size_page% *}" = 200 ] || fail "GET of a page answered ${size_page% *}"
[ "${size_query% *}" = 200 ] || fail "the equality query answered ${size_query% *}"
size_entity=${size_entity#* }
size_page=${size_page#* }
size_query=${size_query#* }
for f in page query; do
	n=$(grep -o '"uuid":' "$WORK/$f" | wc -l | tr -d ' ')
	[ "$n" = 10 ] || fail "the first $f reply has $n entities, want 10"
done
plan=$(curl -s "$URL?$EQ&explain=true" | sed -n 's/.*"plan":"\([^"]*\)".*/\1/p')
case $plan in
equality:*) ;;
*) fail "the equality query is not planned on an index: '$plan'" ;;
esac

# The loads that both servers take, in order: run_loads SERVER URL.
run_loads() {
	load "$1" get-entity 8 get_entity "$2" "$WORK/uuids"
	load "$1" get-page 8 get_page "$2"
	load "$1" query-eq 8 query_eq "$2"
	load "$1" post-entity 8 post_entity "$2" "r$$"
	load "$1" post-entity-64 64 post_entity "$2" "r$$-64"
}

echo "bench: ugstore"
run_loads ugstore "$URL"

# A user whose only way to read things is a role of their group.
setup() {
	code=$(curl -s -o "$WORK/setup.out" -w '%{http_code}' -u "$SU" -X "$1" "$BASE$2" ${3:+-d "$3"})
	[ "$code" = 200 ] || fail "setup $1 $2 answered $code: $(head -c 300 "$WORK/setup.out")"
}
setup DELETE /roles/default
setup POST /roles '{"name":"reader"}'
setup POST /roles/reader/permissions '{"permission":"get:/things/*"}'
setup POST /groups '{"path":"readers"}'
setup POST /groups/readers/roles/reader
setup POST /users '{"username":"bencher","password":"bench-user-pw"}'
setup POST /groups/readers/users/bencher
TOKEN=$(curl -s -X POST "$BASE/token" \
	-d '{"grant_type":"password","username":"bencher","password":"bench-user-pw"}' |
	sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || fail "no token for the bench user"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/$(head -n 1 "$WORK/uuids")")
[ "$code" = 200 ] || fail "GET with the user's token answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" \
	-d '{}' "$URL/$(head -n 1 "$WORK/uuids")")
[ "$code" = 401 ] || fail "PUT with the user's token answered $code, want 401"
load ugstore get-entity-token 8 get_entity_token "$URL" "$WORK/uuids" "$TOKEN"
stop "$UG_PID" ugstore
UG_PID=

posted=$(awk '$1 == "ugstore" && $2 ~ /^post-entity/ { n += $6 } END { print n }' "$LOG/results")
du_k=$(du -sk "$DATA" | cut -f1)
files=
for f in "$DATA"/*; do
	[ -f "$f" ] && files="$files ${f##*/} $(wc -c <"$f" | tr -d ' ') bytes,"
done

# --- the ceiling -------------------------------------------------------------
# ceiling NAME [ARGS...]: starts the ceiling with ARGS as NAME; sets
# CEIL_PID, SRV_PID and CURL_C (its things URL).
ceiling() {
	name=$1
	shift
	set -- "$CEIL" --port 0 "$@"
	[ -n "$THREADS" ] && set -- "$@" --threads "$THREADS"
	start "$name" "$@"
	CEIL_PID=$PID
	SRV_PID=$PID
	CURL_C=http://127.0.0.1:$PORT/my-org/my-app/things
}

ceiling ceiling
size_ceil=$(curl -s -o /dev/null -w '%{size_download}' "$CURL_C/x")
echo "bench: ceiling (bare libmicrohttpd)"
run_loads ceiling "$CURL_C"
stop "$CEIL_PID" ceiling
CEIL_PID=

# same_size NAME SCRIPT BYTES: load NAME against a ceiling answering a body
# of BYTES, the size of ugstore's reply to it.
same_size() {
	ceiling "ceiling-$1" --body-bytes "$3"
	got=$(curl -s -o /dev/null -w '%{size_download}' "$CURL_C/x")
	[ "$got" = "$3" ] || fail "ceiling --body-bytes $3 answered $got bytes"
	load ceiling-same "$1" 8 "$2" "$CURL_C"
	stop "$CEIL_PID" "ceiling-$1"
	CEIL_PID=
}
echo "bench: ceiling answering bodies of ugstore's page and query sizes"
same_size get-page get_page "$size_page"
same_size query-eq query_eq "$size_query"

# --- report ------------------------------------------------------------------
echo
echo "response bodies: ugstore entity $size_entity B, page of 10 $size_page B," \
	"query of 10 $size_query B; ceiling $size_ceil B (and the same-size ceilings)"
echo
awk -v page="$size_page" -v query="$size_query" '
	{ k = $1 " " $2; rps[k] = $3; p50[k] = $4; p99[k] = $5; busy[k] = $7 }
	function ratio(u, c) { return rps[c] > 0 ? rps[u] / rps[c] : 0 }
	END {
		# the bars, as ratios of req/s to the ~700-byte ceiling in this run
		bar["get-entity"] = 0.7; bar["get-page"] = 0.4; bar["query-eq"] = 0.4
		bar["post-entity"] = 0.15; bar["post-entity-64"] = 0.5
		conns["post-entity-64"] = 64
		printf "| %-16s | %5s | %13s | %13s | %6s | %7s | %7s | %7s | %14s |\n",
		       "load", "conns", "ugstore req/s", "ceiling req/s", "ratio", "bar",
		       "p50 ms", "p99 ms", "busiest thread"
		printf "|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", "------------------", "------:",
		       "--------------:", "--------------:", "-------:", "--------:",
		       "--------:", "--------:", "---------------:"
		n = split("get-entity get-entity-token get-page query-eq post-entity post-entity-64", names, " ")
		for (i = 1; i <= n; i++) {
			l = names[i]; u = "ugstore " l; c = "ceiling " l
			if (l == "get-entity-token") c = "ceiling get-entity"
			r = ratio(u, c)
			printf "| %-16s | %5d | %13.0f | %13.0f | %6.3f | %7s | %7.2f | %7.2f | %14s |\n",
			       l, (l in conns) ? conns[l] : 8, rps[u], rps[c], r,
			       (l in bar) ? sprintf(">= %.2f", bar[l]) : "-",
			       p50[u] / 1000, p99[u] / 1000, busy[u] " / " busy[c]
			if ((l in bar) && r < bar[l])
				short = short sprintf("SHORT: %s ratio %.3f, bar >= %.2f\n", l, r, bar[l])
		}
		printf "\n| %-16s | %7s | %12s | %15s | %14s | %6s | %15s |\n", "load",
		       "body B", "ugstore MB/s", "same-size req/s", "same-size MB/s",
		       "ratio", "busiest thread"
		printf "|%s|%s|%s|%s|%s|%s|%s|\n", "------------------", "--------:",
		       "-------------:", "----------------:", "---------------:", "-------:",
		       "----------------:"
		size["get-page"] = page; size["query-eq"] = query
		n = split("get-page query-eq", names, " ")
		for (i = 1; i <= n; i++) {
			l = names[i]; u = "ugstore " l; c = "ceiling-same " l
			printf "| %-16s | %7d | %12.1f | %15.0f | %14.1f | %6.3f | %15s |\n",
			       l, size[l], rps[u] * size[l] / 1e6, rps[c], rps[c] * size[l] / 1e6,
			       ratio(u, c), busy[u] " / " busy[c]
		}
		a = rps["ugstore get-entity"]; t = rps["ugstore get-entity-token"]
		d = (a > 0) ? 100 * (a - t) / a : 0
		if (a > 0)
			printf "\nget-entity with a token whose permission comes from a group'"'"'s role: %.1f%% %s than anonymous\n",
			       (d >= 0 ? d : -d), (d >= 0 ? "slower" : "faster")
		printf "%s", (short == "" ? "" : "\n" short)
	}' "$LOG/results" | tee "$WORK/report"
echo
echo "data directory after the run: $du_k KiB on disk ($SEED seeded + $posted posted entities;${files%,})"
echo "ratio: ugstore req/s / the ceiling's (its ~700-byte body); MB/s: body bytes,"
echo "against the ceiling answering a body of ugstore's reply's size (--body-bytes)."
echo "busiest thread: share of each server's CPU time used by its busiest thread"
echo "(ugstore / ceiling); 100% means one MHD worker took every connection."
echo "wrk output: $LOG/"

[ -z "$FAILED" ] || fail "responses outside 2xx or socket errors in:$FAILED (see $LOG/)"
# a bar that falls short fails the run once everything is reported
if grep -q '^SHORT:' "$WORK/report"; then exit 1; fi
