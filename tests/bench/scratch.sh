# scratch.sh: sourced by the bench parts once they are at the tree's root,
# with SCRATCH naming the part: DATA, a scratch directory
# /tmp/ugstore-$SCRATCH-XXXXXX, and PID, the server the part starts (set
# it); both go when the part ends, however it ends.
DATA=$(mktemp -d "/tmp/ugstore-$SCRATCH-XXXXXX")
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
	rm -rf "$DATA"
}
trap cleanup EXIT INT TERM
