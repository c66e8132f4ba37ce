#!/bin/sh
# Runs one fuzz target of `make fuzz` for SECONDS: writes its seeds into
# build/fuzz/TARGET/corpus (where new inputs accumulate) and runs libFuzzer
# with the target's dictionary and input size; its output goes to
# build/fuzz/TARGET/log, a failing input to build/fuzz/TARGET/.
#   sh tests/fuzz/run.sh ql|perm|http|json SECONDS [libFuzzer options...]
set -e
t=$1 secs=$2
shift 2
dir=build/fuzz/$t
mkdir -p "$dir/corpus"
case $t in
ql)
	# the queries of the ql data files
	awk '/^#/ || /^%%MODE/ || index($0, " \xe2\x87\x92 ") == 0 { next }
	  { sub(/^%%(ESC|GEN) /, ""); n++; f = sprintf("'"$dir"'/corpus/seed-%04d", n);
	    printf "%s", substr($0, 1, index($0, " \xe2\x87\x92 ") - 1) > f; close(f) }' tests/query/*.txt
	set -- -max_len=4200 -dict=tests/fuzz/ql.dict "$@" ;;
perm)
	# the permissions and paths of the matcher's data files
	awk '/^#/ || /^%%MODE/ || index($0, " \xe2\x87\x92 ") == 0 { next }
	  { sub(/^%%(ESC|GEN) /, ""); n++; f = sprintf("'"$dir"'/corpus/seed-%04d", n);
	    printf "%s", substr($0, 1, index($0, " \xe2\x87\x92 ") - 1) > f; close(f) }' tests/auth/*.txt
	set -- -max_len=2200 "$@" ;;
http)
	python3 tests/fuzz/seeds.py http "$dir/corpus"
	set -- -max_len=16384 -dict=tests/fuzz/http.dict -timeout=120 "$@" ;;
json)
	python3 tests/fuzz/seeds.py json "$dir/corpus"
	set -- -max_len=8192 -dict=tests/fuzz/json.dict -timeout=120 "$@" ;;
*)
	echo "unknown fuzz target $t" >&2; exit 2 ;;
esac
echo "fuzz_$t: $secs s (0: no limit), log in $dir/log"
if "build/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$dir/" \
	"$@" "$dir/corpus" > "$dir/log" 2>&1; then
	grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added)' "$dir/log"
else
	tail -60 "$dir/log"
	echo "fuzz_$t failed: the input is in $dir/ (crash-*, timeout-*, ...)" >&2
	exit 1
fi
