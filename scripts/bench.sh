#!/bin/sh
# make bench: ec2boot's boot path measured against the network floor and
# against ddclient, inadyn and cloud-init; prints the results and rewrites
# docs/benchmarks.md. Needs root: the benchmark runs in a private mount and
# network namespace of its own (tmpfs instance stores, loopback only), so it
# never touches the machine's /etc/hosts, mounts or network.
#
# Before and after: the binary of the git revision BENCH_BASE (default
# 505cc3a), built from that revision's own tree with its own Makefile, runs
# the cold and no-change jobs and the start-up measurements interleaved with
# the current binary, so that both see the same machine at the same moment.
#
# Environment: RUNS (default 11) runs per measurement, COMPARE_RUNS (15)
# interleaved runs per client, PROFILE_RUNS (30) in-process runs under the
# CPU profiler, BENCH_BASE (505cc3a) the reference revision, BENCH_QUICK=1
# for a smoke test (writes no document).
set -eu
cd "$(dirname "$0")/.."
OUT=bench/out
RUNS=${RUNS:-11}
COMPARE_RUNS=${COMPARE_RUNS:-15}
PROFILE_RUNS=${PROFILE_RUNS:-30}
GO=${GO:-go}
BENCH_BASE=${BENCH_BASE:-505cc3a}

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (a private mount and network namespace); run: sudo make bench" >&2
	exit 1
fi

# What the benchmark compares against, and GNU time for peak RSS.
missing=""
for p in ddclient inadyn cloud-init time iproute2 util-linux; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "bench: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
AEMM=$(command -v ec2-metadata-mock || true)
if [ -z "$AEMM" ]; then
	echo "bench: ec2-metadata-mock not on PATH (make tools installs it)" >&2
	exit 1
fi

# The build tags of `make build`, so that the size breakdown matches it.
TAGS=$(sed -n 's/^TAGS *:= *//p' Makefile)

mkdir -p "$OUT/bin"
# make bench builds these first; build them here too when run on its own.
[ -x bin/ec2boot ] || CGO_ENABLED=0 $GO build -trimpath -tags "$TAGS" -ldflags "-s -w -X main.version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)" -o bin/ec2boot ./cmd/ec2boot
[ -x bin/ec2boot-testpeers ] || CGO_ENABLED=0 $GO build -trimpath -o bin/ec2boot-testpeers ./cmd/ec2boot-testpeers
CGO_ENABLED=0 $GO build -o "$OUT/bin/bench-driver" ./bench/driver

# The reference ("before"): BENCH_BASE's tree from this repository's
# history, built by its own Makefile (its own tags and flags) in a temporary
# directory that is removed on exit.
BASE_REV=$(git rev-parse --short "$BENCH_BASE^{commit}") || {
	echo "bench: BENCH_BASE=$BENCH_BASE is not a commit of this repository" >&2
	exit 1
}
BASE_SRC=$(mktemp -d "${TMPDIR:-/tmp}/ec2boot-bench-base.XXXXXX")
trap 'rm -rf "$BASE_SRC"' EXIT
git archive "$BASE_REV" | tar -x -C "$BASE_SRC"
echo "bench: building the reference binary of $BASE_REV"
make -s -C "$BASE_SRC" build VERSION="$BASE_REV" GO="$GO" >"$OUT/base-build.log" 2>&1 || {
	cat "$OUT/base-build.log" >&2
	echo "bench: the reference revision $BASE_REV does not build" >&2
	exit 1
}
BASE_TAGS=$(sed -n 's/^TAGS *:= *//p' "$BASE_SRC/Makefile")
CGO_ENABLED=0 $GO build -o "$OUT/bin/bench-fleet" ./bench/fleet

# Everything below runs in a network namespace that holds only loopback and
# a private mount namespace; both vanish with the process. timeout bounds it.
inns() {
	limit=$1
	shift
	timeout --kill-after=10 "$limit" unshare --mount --net --propagation private \
		sh -c 'ip link set lo up && exec "$@"' sh "$@"
}

echo "bench: fleet simulation (N = 10, 100, 1000)"
inns 300 "$OUT/bin/bench-fleet" -n 10,100,1000 -json "$OUT/fleet.json" >"$OUT/fleet.md"
echo "bench: peer discovery simulation (N = 10, 100)"
inns 300 "$OUT/bin/bench-fleet" -discover -n 10,100 >"$OUT/discover.md"

if [ "${BENCH_QUICK:-}" = 1 ]; then
	inns 300 "$OUT/bin/bench-driver" -quick -doc "" -out "$OUT" -fleet "$OUT/fleet.json" \
		-base "$BASE_SRC/bin/ec2boot" -base-src "$BASE_SRC" -base-rev "$BASE_REV" -base-tags "$BASE_TAGS" \
		-ec2boot bin/ec2boot -testpeers bin/ec2boot-testpeers -aemm "$AEMM"
	exit 0
fi

echo "bench: Go benchmarks of single steps"
timeout 300 $GO test -run '^$' -bench . -benchtime 50x ./bootstrap/ddns ./bootstrap/hosts ./bootstrap/facts \
	./bootstrap/atomicfile ./bootstrap/relocate ./bootstrap/diff ./bootstrap/metrics 2>&1 | grep -E '^(Benchmark|ok|FAIL|---)' >"$OUT/gobench.txt" || true

echo "bench: CPU profile of the cold and no-change runs ($PROFILE_RUNS in-process runs each)"
inns 300 "$OUT/bin/bench-driver" -profile "$PROFILE_RUNS" -out "$OUT" \
	-ec2boot bin/ec2boot -testpeers bin/ec2boot-testpeers -aemm "$AEMM"
for p in cold nochange; do
	$GO tool pprof -top -cum "$OUT/bin/bench-driver" "$OUT/$p.pprof" 2>/dev/null |
		grep -E 'ec2boot/bootstrap|Syscall6$' | head -25 >"$OUT/$p.top" || true
done

echo "bench: measurements (RUNS=$RUNS, COMPARE_RUNS=$COMPARE_RUNS)"
inns 900 "$OUT/bin/bench-driver" -runs "$RUNS" -compare-runs "$COMPARE_RUNS" -out "$OUT" \
	-fleet "$OUT/fleet.json" -discover "$OUT/discover.md" -tags "$TAGS" -gobench "$OUT/gobench.txt" -profile-top "$OUT/cold.top,$OUT/nochange.top" -doc docs/benchmarks.md \
	-base "$BASE_SRC/bin/ec2boot" -base-src "$BASE_SRC" -base-rev "$BASE_REV" -base-tags "$BASE_TAGS" \
	-ec2boot bin/ec2boot -testpeers bin/ec2boot-testpeers -aemm "$AEMM"
