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
# Network: PyPI's simple index page for pyspark (the link to the sdist) and the sdist, with curl,
# the sha256 checked against the pin below before anything is unpacked; nothing else. (Not pip:
# a fresh machine need not have it, and pip would fetch setuptools to read metadata we ignore.)
# The JVM: Spark 3.5 and 4.x run on Java 17; without a `java` on PATH, root on a Debian machine
# gets openjdk-17-jdk-headless (javac too: the tests build their apps) from Debian's packages, anyone else a message saying so.
set -euo pipefail

# --sha256 prints the pinned sha256; --cached fails, fetching nothing, unless VERSION is cached.
print_sha= cached_only=
case ${1:-} in
  --sha256) print_sha=1; shift ;;
  --cached) cached_only=1; shift ;;
esac
version=${1:?usage: fetch-spark.sh [--sha256|--cached] VERSION (e.g. 3.5.9 or 4.3.0)}

# sha256 of pyspark-VERSION.tar.gz as PyPI serves it (pip checks it: --require-hashes): the newest
# release of each line the project names. The sandbox runs 3.5.9 and 4.3.0; hack/sparkkeys reads
# every one's configuration keys. Another version needs SPARK_SHA256.
declare -A pinned=(
  [3.5.9]=ea27adc39ddac9413b8951e45aa748cbed6c785971b81386efc41938f6243d93
  [4.0.5]=a0d44b0e7faf0458ad83b7aa664e7ed8b96beed8a55d66ce3b0dfac2309dfca6
  [4.1.4]=bcbd5e18690cf79d438e97210ad06fb8d451a251bb77becc2b0418868d2acd73
  [4.2.1]=d79b7c8ee41e66a9202fe6f600ca90b931ca571ae9dbdf31c58d2672e5102da0
  [4.3.0]=e8c517948eff7088a7aa07449aa8eafa4a15a8d50319de2525a6fd26622476c6
)
sha=${SPARK_SHA256:-${pinned[$version]:-}}
if [[ -z $sha ]]; then
  echo "spark: no pinned sha256 for pyspark $version (pinned: ${!pinned[*]}); set SPARK_SHA256" >&2
  exit 2
fi
if [[ -n $print_sha ]]; then echo "$sha"; exit 0; fi

if ! command -v java >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "spark: installing openjdk-17-jdk-headless (Debian) for the Spark JVMs" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-17-jdk-headless >&2 ||
      { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-17-jdk-headless >&2; }
  else
    echo "spark: no java on PATH: install a Java 17 JDK to run real Spark in the sandbox" >&2
    exit 1
  fi
fi

root="${SPARKHA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-sparkha}/spark"
home="$root/$version"
if [[ -x $home/bin/spark-submit ]]; then
  echo "spark: cached $home" >&2
  echo "$home"
  exit 0
fi
if [[ -n $cached_only ]]; then
  echo "spark: $version is not cached in $root" >&2
  exit 1
fi

mkdir -p "$root"
tmp=$(mktemp -d "$root/.tmp-$version.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
index=${PYPI_SIMPLE_URL:-https://pypi.org/simple}/pyspark/
url=$(curl -fsSL "$index" | grep -o "href=\"[^\"]*/pyspark-$version\.tar\.gz[^\"]*\"" | head -1 | sed 's/^href="//; s/"$//; s/#.*//; s/&amp;/\&/g')
if [[ -z $url ]]; then
  echo "spark: no pyspark-$version.tar.gz on $index" >&2
  exit 1
fi
case $url in http*) ;; *) url="${index%/}/$url" ;; esac
echo "spark: downloading pyspark $version from PyPI (about 320 MB for 3.5, 460 MB for 4.x)" >&2
curl -fsSL --retry 3 -o "$tmp/pyspark.tar.gz" "$url"
echo "$sha  $tmp/pyspark.tar.gz" | sha256sum -c --quiet - >&2 || { echo "spark: pyspark-$version.tar.gz does not match its pinned sha256" >&2; exit 1; }
echo "spark: [$(( $(date +%s) - start ))s] unpacking" >&2
tar -xzf "$tmp/pyspark.tar.gz" -C "$tmp"
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
chmod +x "$dist"/bin/* "$dist"/sbin/*
echo "$version" >"$dist/RELEASE"

mv -T "$dist" "$home" 2>/dev/null || echo "spark: another run cached $version first; using it" >&2
echo "spark: fetched in $(( $(date +%s) - start ))s ($(du -sh "$home" | cut -f1)): $home" >&2
echo "$home"
