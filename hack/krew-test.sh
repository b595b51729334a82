#!/usr/bin/env bash
# make krew-test: the release as a user gets it, with the real tools and no network.
#  1. krew's own validate-krew-manifest accepts dist/sparkha.yaml (and krew/sparkha.yaml);
#  2. dist/checksums.txt matches the archives;
#  3. the real krew installs the plugin from the local manifest and this platform's archive
#     into a temporary KREW_ROOT, without git and without its index (--manifest skips it);
#  4. the real kubectl runs `kubectl sparkha version` from KREW_ROOT/bin and it reports VERSION;
#     kubectl completes `kubectl sparkha <TAB>` through the kubectl_complete-sparkha of the archive;
#  5. `krew uninstall sparkha` leaves no sparkha file in KREW_ROOT (uninstall needs an
#     initialized index: an empty local git repository stands in for the krew-index clone).
# Every command is printed with its output: the transcript is the test's evidence.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${VERSION:?VERSION must be set (make krew-test sets it)}"
manifest=dist/sparkha.yaml
os=$(go env GOOS)
arch=$(go env GOARCH)
archive=dist/kubectl-sparkha_${VERSION}_${os}_${arch}.tar.gz
for f in "$manifest" "$archive" dist/checksums.txt; do
	[[ -f $f ]] || { echo "krew-test: $f is missing: run make krew-manifest" >&2; exit 1; }
done
kubectl=$(command -v kubectl) || { echo "krew-test: kubectl is not on PATH" >&2; exit 1; }
tools=$(hack/krew-tools.sh)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sparkha-krew-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export KREW_ROOT=$tmp/krew KREW_NO_UPGRADE_CHECK=1
# Nothing but krew's bin directory and kubectl's: no git, no other plugin.
mkdir -p "$tmp/completion"
plugin_path=$KREW_ROOT/bin:$tmp/completion:$(dirname "$kubectl")

run() { # print a command, run it, print its output
	printf '\n$ %s\n' "$*"
	"$@" 2>&1
}
fail() {
	echo "krew-test: FAIL: $*" >&2
	exit 1
}

echo "krew-test: krew $KREW_VERSION and validate-krew-manifest from $tools"
echo "krew-test: KREW_ROOT=$KREW_ROOT KREW_NO_UPGRADE_CHECK=1 (temporary)"
echo "krew-test: $(kubectl version --client 2>/dev/null | head -1) at $kubectl"

run "$tools/validate-krew-manifest" -manifest "$manifest" -skip-install
if [[ -f krew/sparkha.yaml ]]; then
	run "$tools/validate-krew-manifest" -manifest krew/sparkha.yaml -skip-install
fi
sha256=(sha256sum); command -v sha256sum >/dev/null || sha256=(shasum -a 256)
(cd dist && run "${sha256[@]}" -c checksums.txt) || fail "dist/checksums.txt does not match the archives"
run tar -tvzf "$archive"

# No git on PATH: the install must not touch krew's index.
out=$(PATH=$plugin_path run "$tools/krew" install --manifest="$manifest" --archive="$archive") ||
	{ echo "$out"; fail "krew install failed"; }
echo "$out"
[[ -z $(ls -A "$KREW_ROOT/index") ]] || fail "krew install --manifest cloned an index into $KREW_ROOT/index"
echo "(index untouched: $KREW_ROOT/index is empty)"
run find "$KREW_ROOT" -path "$KREW_ROOT/index" -prune -o -print

out=$(PATH=$plugin_path run kubectl plugin list) || { echo "$out"; fail "kubectl plugin list failed"; }
echo "$out"
[[ $out == *"$KREW_ROOT/bin/kubectl-sparkha"* ]] || fail "kubectl does not find the plugin in KREW_ROOT/bin"
out=$(PATH=$plugin_path KUBECONFIG=$tmp/none run kubectl sparkha version) || { echo "$out"; fail "kubectl sparkha version failed"; }
echo "$out"
[[ $out == *"kubectl-sparkha $VERSION (commit "* ]] || fail "kubectl sparkha version does not report $VERSION"
out=$(PATH=$plugin_path KUBECONFIG=$tmp/none run kubectl sparkha version -o json) || { echo "$out"; fail "version -o json failed"; }
echo "$out"
[[ $out == *"\"version\": \"$VERSION\""* ]] || fail "kubectl sparkha version -o json does not report $VERSION"

# Completion as the caveats say: copy the shim from the store to a directory on PATH.
store=$KREW_ROOT/store/sparkha/$VERSION
run cp "$store/kubectl_complete-sparkha" "$tmp/completion/"
printf '\n$ kubectl __complete sparkha ""   # what the shell runs on "kubectl sparkha <TAB>"; stderr dropped\n'
out=$(PATH=$plugin_path KUBECONFIG=$tmp/none kubectl __complete sparkha "" 2>/dev/null) || { echo "$out"; fail "kubectl __complete failed"; }
echo "$out"
for want in completion submit version ":4"; do
	grep -q "^$want" <<<"$out" || fail "kubectl __complete sparkha does not offer $want"
done

# krew uninstall (like list) insists on an initialized index: KREW_ROOT/index/default must be a
# git clone. Offline, an empty local repository stands in for the krew-index clone.
run git init --quiet "$KREW_ROOT/index/default"
PATH=$plugin_path run "$tools/krew" list
out=$(PATH=$plugin_path run "$tools/krew" uninstall sparkha) || { echo "$out"; fail "krew uninstall failed"; }
echo "$out"
left=$(find "$KREW_ROOT" -path "$KREW_ROOT/index" -prune -o -iname '*sparkha*' -print)
[[ -z $left ]] || fail "files left after uninstall: $left"
run find "$KREW_ROOT" -path "$KREW_ROOT/index" -prune -o -print
echo
echo "krew-test: PASS: validated, installed, ran kubectl sparkha version ($VERSION), completed, uninstalled with nothing left"
