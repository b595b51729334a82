#!/usr/bin/env bash
# Builds the sandbox's control plane (test/cmd/k8s: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) once, into a cache outside the clone
# keyed by the pinned versions, and prints the binary's path on stdout.
# A cold build takes 5-25 minutes on 2 cores and prints progress on stderr (a line per
# component started, one a minute); a cached one returns at once.
set -euo pipefail
cd "$(dirname "$0")/.."

k8s_version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd_version=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
go_version=$(go env GOVERSION)
src_sum=$(cat go.sum cmd/k8s/main.go | sha256sum | cut -c1-12)
key="k8s-${k8s_version}_etcd-${etcd_version}_${go_version}_${src_sum}"
cache="${SPARKHA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-sparkha}/control-plane/$key"
bin="$cache/k8s"

if [[ -x "$bin" ]]; then
  echo "control plane: cached $bin" >&2
  echo "$bin"
  exit 0
fi

mkdir -p "$cache"
minor=${k8s_version#v1.}; minor=${minor%%.*}
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "control plane: building $key into $cache" >&2
echo "control plane: cold, this compiles etcd, kube-apiserver, kube-controller-manager and kube-scheduler from source:" >&2
echo "control plane: on 2 cores 5 to 25 minutes (measured 267 s idle, 864 s and 1390 s with other builds running), once; cached afterwards" >&2
start=$(date +%s)
elapsed() { local s=$(( $(date +%s) - start )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# Which part of the control plane a package belongs to, for the progress lines.
component() {
  case $1 in
    go.etcd.io/*) echo etcd ;;
    k8s.io/kubernetes/pkg/scheduler* | k8s.io/kube-scheduler* | k8s.io/kubernetes/cmd/kube-scheduler*) echo kube-scheduler ;;
    k8s.io/kubernetes/pkg/controller* | k8s.io/kubernetes/cmd/kube-controller-manager* | k8s.io/controller-manager* | k8s.io/cloud-provider*) echo kube-controller-manager ;;
    k8s.io/apiserver* | k8s.io/kube-aggregator* | k8s.io/apiextensions-apiserver* | k8s.io/kubernetes/pkg/controlplane* | \
      k8s.io/kubernetes/pkg/registry* | k8s.io/kubernetes/cmd/kube-apiserver* | k8s.io/kubernetes/plugin/*) echo kube-apiserver ;;
    k8s.io/api/* | k8s.io/apimachinery/* | k8s.io/client-go/*) echo "client libraries (k8s.io/api, apimachinery, client-go)" ;;
    k8s.io/kubernetes/*) echo "shared Kubernetes packages" ;;
    github.com/kubectl-sparkha/*) echo "test/cmd/k8s (then the link)" ;;
    *) echo "Go standard library and third-party dependencies" ;;
  esac
}

# Downloads first (printed by go as "go: downloading ..."), and the size of the job.
echo "control plane: [$(elapsed)] listing packages (downloads the modules on the first run: about 100 MB)" >&2
total=$(go list -deps ./cmd/k8s | wc -l)
echo "control plane: [$(elapsed)] compiling up to $total packages; a line per component started and one a minute" >&2

log=$(mktemp "${TMPDIR:-/tmp}/sparkha-cp-build.XXXXXX")
trap 'rm -f "$log"' EXIT
go build -v -trimpath -ldflags "$ldflags" -o "$bin.tmp" ./cmd/k8s 2>"$log" &
build=$!
declare -A seen=()
done_lines=0 last_report=$(date +%s) last_pkg=
while kill -0 "$build" 2>/dev/null; do
  sleep 2
  mapfile -t new < <(tail -n "+$((done_lines + 1))" "$log")
  (( ${#new[@]} )) && [[ $(tail -c1 "$log") != "" ]] && unset 'new[-1]' # an unfinished line: next time
  for pkg in "${new[@]}"; do
    done_lines=$((done_lines + 1))
    [[ $pkg == *" "* || -z $pkg ]] && continue # not a package path (an error or a note)
    last_pkg=$pkg
    c=$(component "$pkg")
    if [[ -z ${seen[$c]:-} ]]; then
      seen[$c]=1
      echo "control plane: [$(elapsed)] compiling $c ($pkg)" >&2
    fi
  done
  if (( $(date +%s) - last_report >= 60 )); then
    last_report=$(date +%s)
    echo "control plane: [$(elapsed)] $done_lines of up to $total packages compiled; last ${last_pkg:-none yet (linking?)}" >&2
  fi
done
if ! wait "$build"; then
  grep ' ' "$log" >&2 || cat "$log" >&2
  echo "control plane: build failed after $(elapsed)" >&2
  exit 1
fi
mv "$bin.tmp" "$bin"
echo "control plane: built in $(( $(date +%s) - start ))s ($(du -sh "$bin" | cut -f1) binary; cached for next time)" >&2
echo "$bin"
