#!/usr/bin/env bash
# Mutation testing of the safety rules: builds gremlins GREMLINS_VERSION once into
# ${SPARKHA_CACHE:-~/.cache/kubectl-sparkha}/tools/gremlins-VERSION/ (outside the clone), runs it
# over each package of MUTATION_PKGS with hack/gremlins.yaml, and prints per file the mutants
# killed (or timed out) out of those tested, then every mutant that LIVED (the tests pass with it).
# Needs only the Go toolchain, the module proxy and jq. MUTATION_OUT=DIR keeps the JSON results
# and logs there (a temporary directory otherwise).
set -euo pipefail

version=${GREMLINS_VERSION:-v0.6.0}
pkgs=${MUTATION_PKGS:-./pkg/analysis ./pkg/failover}
dir=${SPARKHA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-sparkha}/tools/gremlins-$version
root=$(cd "$(dirname "$0")/.." && pwd)

if [[ ! -x $dir/gremlins ]]; then
	mkdir -p "$dir"
	tmp=$(mktemp -d "$dir.build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo "building gremlins $version into $dir" >&2
	(cd "$tmp" && GOWORK=off GOBIN="$tmp" go install "github.com/go-gremlins/gremlins/cmd/gremlins@$version") >&2
	mv "$tmp/gremlins" "$dir/gremlins"
fi

out=${MUTATION_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/sparkha-mutation.XXXXXX")}
mkdir -p "$out"
cd "$root"
# MUTATION_REPORT_ONLY=1 prints the report of the results already in MUTATION_OUT.
[[ -n ${MUTATION_REPORT_ONLY:-} ]] ||
for p in $pkgs; do
	name=$(basename "$p")
	echo "gremlins $version over $p (results in $out/$name.json)" >&2
	# -count=1: gremlins times its coverage run of the tests and allows each mutant's run
	# timeout-coefficient times that; a cached test result would make it 0.4 s, shorter than
	# compiling the mutant, and every mutant would end TIMED OUT (counted as detected).
	GOFLAGS="${GOFLAGS:+$GOFLAGS }-count=1" "$dir/gremlins" unleash --config "$root/hack/gremlins.yaml" -o "$out/$name.json" "$p" >"$out/$name.log" 2>&1 ||
		{ cat "$out/$name.log" >&2; exit 1; }
done

# Score per file: KILLED and TIMED OUT (the tests failed or hung) over every mutant gremlins
# found, NOT COVERED ones included (no test runs that line, so none can fail).
for p in $pkgs; do
	name=$(basename "$p")
	jq -r --arg pkg "${p#./}" '.files[] | . as $f |
		[$f.mutations[] | select(.status == "KILLED" or .status == "TIMED OUT")] as $k |
		[$f.mutations[] | select(.status == "LIVED")] as $l |
		[$f.mutations[] | select(.status == "TIMED OUT")] as $o |
		[$f.mutations[] | select(.status == "NOT COVERED")] as $n |
		[$f.mutations[] | select(.status == "NOT VIABLE")] as $v |
		(($f.mutations | length) - ($v | length)) as $t |
		"\($pkg)/\($f.file_name)\t\($k | length)/\($t) killed (\(if $t > 0 then ($k | length) * 1000 / $t | floor / 10 else 100 end)%)\tof them timed out \($o | length)\tlived \($l | length)\tnot covered \($n | length)"' \
		"$out/$name.json"
done | sort | column -t -s $'\t'
jq -rs '[.[].files[].mutations[] | select(.status != "NOT VIABLE")] as $all |
	[$all[] | select(.status == "KILLED" or .status == "TIMED OUT")] as $k |
	"total: \($k | length)/\($all | length) killed (\(($k | length) * 1000 / ($all | length) | floor / 10)%)"' "$out"/*.json
echo "LIVED (the tests pass with the mutant):"
for p in $pkgs; do
	name=$(basename "$p")
	jq -r --arg pkg "${p#./}" '.files[] | .file_name as $fn | .mutations[] | select(.status == "LIVED") |
		"  \($pkg)/\($fn):\(.line):\(.column)\t\(.type)"' "$out/$name.json"
done | sort -t: -k1,1 -k2,2n | column -t -s $'\t'
