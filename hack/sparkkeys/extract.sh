#!/usr/bin/env bash
# Writes pkg/submit/testdata/sparkkeys/spark-LINE.txt for each released Spark line the project
# names, from that line's newest release on PyPI (test/hack/fetch-spark.sh pins each sha256):
# SparkKeys.java loads the release's own config objects in a JVM and lists the keys they register.
#   make spark-keys            # every line
#   hack/sparkkeys/extract.sh 4.3.0
set -euo pipefail
cd "$(dirname "$0")/../.."
versions=("$@")
[[ ${#versions[@]} -gt 0 ]] || versions=(3.5.9 4.0.5 4.1.4 4.2.1 4.3.0)

# The newest line on PyPI must be the newest one read here (and the one the sandbox runs).
newest=$(curl -fsSL "${PYPI_SIMPLE_URL:-https://pypi.org/simple}/pyspark/" | grep -o 'pyspark-[0-9]*\.[0-9]*\.[0-9]*\.tar\.gz' |
  sed 's/^pyspark-//; s/\.tar\.gz$//' | sort -uV | tail -1)
if [[ -n $newest && ${newest%.*} != "$(printf '%s\n' "${versions[@]}" | sort -V | tail -1 | cut -d. -f1,2)" ]]; then
  echo "spark-keys: PyPI's newest pyspark is $newest: pin it in test/hack/fetch-spark.sh, add it here and to the tests' lines" >&2
  exit 1
fi
for v in "${versions[@]}"; do
  home=$(test/hack/fetch-spark.sh "$v")
  line=${v%.*}
  out=pkg/submit/testdata/sparkkeys/spark-$line.txt
  sha=$(test/hack/fetch-spark.sh --sha256 "$v")
  {
    java -cp "$home/jars/*" hack/sparkkeys/SparkKeys.java 2> >(grep -v -e ' WARN ' -e "log4j2-defaults" >&2) | sed "2a # Release: pyspark-$v.tar.gz from PyPI, sha256 $sha."
  } >"$out.tmp"
  mv "$out.tmp" "$out"
  echo "spark-keys: $out ($(grep -vc '^#' "$out") keys, $(grep -c '^spark\.kubernetes\.' "$out") under spark.kubernetes.)" >&2
done
