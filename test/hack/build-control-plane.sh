#!/usr/bin/env bash
# Builds the sandbox's control plane (test/cmd/k8s: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) once, into a cache outside the clone
# keyed by the pinned versions, and prints the binary's path on stdout.
# A cold build takes minutes; a cached one returns at once.
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
echo "control plane: building $key (cold: several minutes)" >&2
start=$(date +%s)
go build -trimpath -ldflags "$ldflags" -o "$bin.tmp" ./cmd/k8s
mv "$bin.tmp" "$bin"
echo "control plane: built in $(( $(date +%s) - start ))s" >&2
echo "$bin"
