#!/usr/bin/env bash
# Builds the real krew and validate-krew-manifest at KREW_VERSION from their Go module, once, into
# ${SPARKHA_CACHE:-~/.cache/kubectl-sparkha}/krew/KREW_VERSION/ (outside the clone), and prints
# that directory. Needs only the Go toolchain and the module proxy.
set -euo pipefail

version=${KREW_VERSION:-v0.4.3}
dir=${SPARKHA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-sparkha}/krew/$version
tools=(krew validate-krew-manifest)

cached=true
for t in "${tools[@]}"; do [[ -x $dir/$t ]] || cached=false; done
if $cached; then
	echo "$dir"
	exit 0
fi

mkdir -p "$dir"
tmp=$(mktemp -d "$dir.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pkgs=()
for t in "${tools[@]}"; do pkgs+=("sigs.k8s.io/krew/cmd/$t@$version"); done
echo "building krew $version into $dir" >&2
# `go install pkg@version` builds krew exactly as released, with its own go.mod; outside any
# module or workspace of ours.
if ! (cd "$tmp" && GOWORK=off GOBIN="$tmp/bin" go install "${pkgs[@]}") >&2; then
	# A release whose go.mod has replace directives cannot be go-installed: build it from a
	# throwaway module that requires it instead.
	echo "go install refused krew $version; building it from a throwaway module" >&2
	(
		cd "$tmp" && mkdir -p mod bin && cd mod
		GOWORK=off go mod init krew-tools.local >&2
		GOWORK=off go get "sigs.k8s.io/krew@$version" >&2
		for t in "${tools[@]}"; do GOWORK=off go build -o "../bin/$t" "sigs.k8s.io/krew/cmd/$t"; done
	) >&2
fi
for t in "${tools[@]}"; do mv "$tmp/bin/$t" "$dir/$t"; done
echo "$dir"
