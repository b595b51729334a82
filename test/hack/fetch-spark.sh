#!/usr/bin/env bash
# Fetches a pinned Spark distribution for the sandbox and prints its SPARK_HOME on stdout:
#   test/hack/fetch-spark.sh 3.5.9
# Cached outside the clone keyed by version, like the control plane:
# ${SPARKHA_CACHE:-~/.cache/kubectl-sparkha}/spark/VERSION, unpacked into a temporary directory
# beside it and renamed into place, so a cache entry is complete or absent; reused when present.
#
# Why PyPI and not Maven Central: the pyspark sdist is the whole distribution in one pinned,
# hash-checked file. Its deps/ holds what the Spark image copies into /opt/spark (apache/spark-docker
# Dockerfile: `COPY jars bin sbin examples python data ...`): every runtime jar (spark-kubernetes and
# fabric8's client included, the same set as the -bin-hadoop3 tarball's jars/), bin/spark-submit,
# spark-class, load-spark-env.sh, sbin/, data/, licenses/ and the Python examples, plus
# lib/py4j-*-src.zip and the pyspark package for Python apps. From Maven Central the same SPARK_HOME
# needs a dependency resolution of spark-kubernetes (hundreds of artifacts, a Maven or Coursier run
# and its own cache) and still lacks bin/ and the launcher scripts the entrypoint calls, which live
# in no Maven artifact. Not in the sdist: the examples jar (SparkPi and the other Scala/Java
# examples) and kubernetes/dockerfiles (the entrypoint; test/sandbox/sparkimage vendors it).
#
# Network: one `pip download --no-deps --no-binary :all:` from PyPI (pip also fetches setuptools
# from PyPI to read the sdist's metadata); nothing else.
set -euo pipefail

version=${1:?usage: fetch-spark.sh VERSION (e.g. 3.5.9 or 4.3.0)}

# sha256 of pyspark-VERSION.tar.gz as PyPI serves it (pip checks it: --require-hashes). The two
# lines the sandbox tests; another version needs SPARK_SHA256.
declare -A pinned=(
  [3.5.9]=ea27adc39ddac9413b8951e45aa748cbed6c785971b81386efc41938f6243d93
  [4.3.0]=e8c517948eff7088a7aa07449aa8eafa4a15a8d50319de2525a6fd26622476c6
)
sha=${SPARK_SHA256:-${pinned[$version]:-}}
if [[ -z $sha ]]; then
  echo "spark: no pinned sha256 for pyspark $version (pinned: ${!pinned[*]}); set SPARK_SHA256" >&2
  exit 2
fi

root="${SPARKHA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-sparkha}/spark"
home="$root/$version"
if [[ -x $home/bin/spark-submit ]]; then
  echo "spark: cached $home" >&2
  echo "$home"
  exit 0
fi

mkdir -p "$root"
tmp=$(mktemp -d "$root/.tmp-$version.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
echo "spark: downloading pyspark $version from PyPI (about 320 MB for 3.5, 460 MB for 4.x)" >&2
echo "pyspark==$version --hash=sha256:$sha" >"$tmp/requirements.txt"
pip download --no-deps --no-binary :all: --require-hashes --progress-bar off \
  -r "$tmp/requirements.txt" -d "$tmp/download" >&2
echo "spark: [$(( $(date +%s) - start ))s] unpacking" >&2
tar -xzf "$tmp/download/pyspark-$version.tar.gz" -C "$tmp"
src="$tmp/pyspark-$version"

# SPARK_HOME as the binary distribution lays it out (the image's /opt/spark): the launcher finds
# its jars in $SPARK_HOME/jars (bin/spark-class, launcher's AbstractCommandBuilder.findJarsDir)
# and PySpark's path in $SPARK_HOME/python/lib (core PythonUtils.sparkPythonPath).
dist="$tmp/dist"
mkdir -p "$dist/python/lib" "$dist/examples/src/main"
for d in jars bin sbin data licenses; do
  mv "$src/deps/$d" "$dist/$d"
done
mv "$src/deps/examples" "$dist/examples/src/main/python"
mv "$src/pyspark" "$dist/python/pyspark"
mv "$src"/lib/py4j-*-src.zip "$dist/python/lib/"
(cd "$dist/python" && python3 -m zipfile -c lib/pyspark.zip pyspark)
chmod +x "$dist"/bin/* "$dist"/sbin/*
echo "$version" >"$dist/RELEASE"

mv -T "$dist" "$home" 2>/dev/null || echo "spark: another run cached $version first; using it" >&2
echo "spark: fetched in $(( $(date +%s) - start ))s ($(du -sh "$home" | cut -f1)): $home" >&2
echo "$home"
