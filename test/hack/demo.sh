#!/usr/bin/env bash
# make demo: the node-partition incident, replayed on the sandbox side by side for the same
# streaming app run two ways: as the seed ran it (the 2018 Spark fork: a plain Job with a
# ReadWriteOnce checkpoint claim; and with ReadWriteMany) and as `kubectl sparkha submit` runs
# it. Narrated step by step with what a responder sees (kubectl, then kubectl sparkha
# inspect), ended with `kubectl sparkha failover` when the node never comes back. Every
# command is printed so that it can be copied and run (after the two exports it prints).
# Needs bin/kubectl-sparkha, bin/sandbox and SANDBOX_K8S_BIN (the Makefile provides them).
#
# The sparkha app, clicks, is a real Spark Structured Streaming query (test/e2e/testdata/spark/
# SparkhaStream.java) whose driver and executor run as Spark's own JVMs on the sandbox's machines
# when it can (root, and a JDK or Debian's packages to install one: see test/README.md, "Real
# Spark"); the first run fetches the Spark distribution (about 320 MB from PyPI, cached after).
# SPARK=0 runs it on the sandbox's Spark stand-in instead, as the seed's apps always are.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/bin:$PATH"
dir="${SANDBOX_DIR:-${TMPDIR:-/tmp}/sparkha-sandbox}-demo"
sb=(bin/sandbox --dir "$dir")
if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
note() { printf '   %s\n' "$@"; }
# quote ARG: ARG as the shell reads it back (bare when it is safe, else in single quotes).
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then printf '%s' "$1"; else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}
# show: print a command line, copy-pastable.
show() {
  printf '$'
  for a in "$@"; do printf ' %s' "$(quote "$a")"; done
  printf '\n'
}
# run: print and run a command; a non-zero exit is shown, not fatal (inspect
# exits 3 when an app needs attention, failover 4 when it refuses).
run() {
  show "$@"
  local rc=0
  "$@" || rc=$?
  if [[ $rc -ne 0 ]]; then printf '(exit %d)\n' "$rc"; fi
}
# wait_for DESCRIPTION COMMAND...: poll until COMMAND succeeds (at most 90s).
wait_for() {
  local what=$1; shift
  for _ in $(seq 1 360); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  echo "timed out waiting for $what" >&2; exit 1
}
# verdict_is APP V: inspect reports V for APP (inspect exits 3 while it needs attention).
verdict_is() {
  local out
  out=$(kubectl sparkha inspect "$1" -n demo -o json 2>/dev/null || true)
  grep -q "\"verdict\": \"$2\"" <<<"$out"
}
# job_caught_up JOB: the Job's status counts every terminating pod of the Job.
job_caught_up() {
  local pods counted
  pods=$(kubectl get pods -n demo -l "batch.kubernetes.io/job-name=$1" -o go-template='{{range .items}}{{if and .metadata.deletionTimestamp (ne .status.phase "Failed")}}x{{end}}{{end}}')
  counted=$(kubectl get job "$1" -n demo -o go-template='{{or .status.terminating 0}}')
  [[ ${#pods} == "$counted" ]]
}
# two_running JOB: two pods of JOB are Running (one of them deleted, on the lost node).
two_running() {
  [[ $(kubectl get pods -n demo -l "batch.kubernetes.io/job-name=$1" --field-selector status.phase=Running --no-headers | wc -l) == 2 ]]
}
pod_field() { kubectl get pod "$1" -n demo -o "jsonpath=$2" 2>/dev/null; }
# The Job counters the story is about; a counter the API leaves out is 0.
jobs=(kubectl get jobs -n demo -o 'go-template={{range .items}}{{.metadata.name}}: active={{or .status.active 0}} terminating={{or .status.terminating 0}} failed={{or .status.failed 0}} (backoffLimit {{.spec.backoffLimit}}){{"\n"}}{{end}}')

# seed_app NAME MODE: the seed's driver Job and checkpoint claim, beside clicks on $node.
seed_app() {
  cat <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: $1-checkpoint
spec:
  accessModes: [$2]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: batch/v1
kind: Job
metadata:
  name: $1
spec:
  backoffLimit: 1
  template:
    metadata:
      labels:
        spark-role: driver
        spark-app-name: $1
    spec:
      restartPolicy: Never
      # Only for this side-by-side: prefer the node of clicks, so one partition hits both.
      affinity:
        nodeAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            preference:
              matchExpressions:
              - {key: kubernetes.io/hostname, operator: In, values: [$node]}
      containers:
      - name: spark-kubernetes-driver
        image: apache/spark:3.5.3
        args: [driver, --class, com.example.Clicks, local:///opt/app/clicks.jar]
        volumeMounts:
        - {name: checkpoint, mountPath: /checkpoint}
      volumes:
      - name: checkpoint
        persistentVolumeClaim: {claimName: $1-checkpoint}
EOF
}
apply_seed_app() {
  printf '$ kubectl apply -n demo -f - <<'\''EOF'\''\n%s\nEOF\n' "$(seed_app "$1" "$2")"
  seed_app "$1" "$2" | kubectl apply -n demo -f -
}

# Real Spark unless SPARK=0 or this machine cannot: the distribution, then the apps built against it.
real=${SPARK:-1}
if [[ $real != 0 && $(id -u) != 0 ]]; then
  echo "demo: not root, so the sandbox cannot run Spark's own processes: clicks runs on the Spark stand-in" >&2
  real=0
fi
spark_version=${SPARK_DEMO_VERSION:-3.5.9}
if [[ $real != 0 ]]; then
  say "Fetching Spark $spark_version (cached after the first run) and building the demo's streaming app against it"
  spark_home=$(test/hack/fetch-spark.sh "$spark_version")
  apps="$dir-apps"
  rm -rf "$apps" && mkdir -p "$apps/classes" "$apps/app"
  javac --release 17 -cp "$spark_home/jars/*" -d "$apps/classes" test/e2e/testdata/spark/*.java
  jar cf "$apps/app/sparkha-apps.jar" -C "$apps/classes" .
fi

"${sb[@]}" down >/dev/null 2>&1 || true
rm -rf "$dir"
if [[ $real != 0 ]]; then
  say "Starting the sandbox: real etcd, kube-apiserver, controller manager and scheduler; 2 simulated machines that run Spark's own JVMs"
  "${sb[@]}" up --nodes 2 --spark >/dev/null
  "${sb[@]}" spark-image "sparkha.test/apps:$spark_version" "$spark_home" "$apps/app"
else
  say "Starting the sandbox: real etcd, kube-apiserver, controller manager and scheduler; 2 simulated nodes"
  "${sb[@]}" up --nodes 2 >/dev/null
fi
export KUBECONFIG="$dir/kubeconfig"
trap '"${sb[@]}" down >/dev/null 2>&1 || true' EXIT
note "To run the printed commands yourself (on a sandbox of your own: make sandbox-up), first:"
printf '$ export KUBECONFIG=%s PATH=%s:"$PATH"\n' "$(quote "$KUBECONFIG")" "$(quote "$PWD/bin")"
kubectl create namespace demo >/dev/null
wait_for "default service account" kubectl get serviceaccount default -n demo
run kubectl get nodes

# query_at BATCH: the clicks query committed batch BATCH or a later one.
query_at() {
  local last
  last=$("${sb[@]}" checkpoint demo/clicks-checkpoint 2>/dev/null | sed -n 's/.*batches 0\.\.\([0-9]*\) committed.*/\1/p')
  [[ -n $last && $last -ge $1 ]]
}
last_commit() { "${sb[@]}" checkpoint demo/clicks-checkpoint | sed -n 's/.*batches 0\.\.\([0-9]*\) committed.*/\1/p'; }
if [[ $real != 0 ]]; then
  say "1. Submit a streaming app with kubectl sparkha: its driver runs as a Job; Spark's own driver asks for its executor"
  note "Its driver's service account needs the RBAC Spark documents (edit in its namespace):"
  run kubectl create serviceaccount spark -n demo
  run kubectl create rolebinding spark-edit -n demo --clusterrole=edit --serviceaccount=demo:spark
  note "Checkpoint and sink on a ReadWriteMany volume: the executors write the query's state and output there too."
  run kubectl sparkha submit clicks -n demo --image "sparkha.test/apps:$spark_version" --class SparkhaStream \
    --executor-instances 1 --driver-memory 512m --executor-memory 512m \
    --checkpoint-size 1Gi --checkpoint-storage-class sandbox-files --checkpoint-access-mode ReadWriteMany \
    --node-lost-timeout 10s --conf spark.kubernetes.authenticate.driver.serviceAccountName=spark \
    --conf spark.sql.shuffle.partitions=2 local:///opt/app/sparkha-apps.jar --wait --timeout 60s
  wait_for "the query's first batches" query_at 2
  note "The query runs: every row of the sink holds its window's first and last source value, so a gap is a lost row and an overlap one counted twice:"
  run "${sb[@]}" checkpoint demo/clicks-checkpoint
else
  say "1. Submit a streaming app with kubectl sparkha: its driver runs as a Job, checkpoint on a ReadWriteOncePod volume"
  run kubectl sparkha submit clicks -n demo --image apache/spark:3.5.3 \
    --class com.example.Clicks --checkpoint-size 1Gi --node-lost-timeout 10s \
    local:///opt/app/clicks.jar --wait --timeout 60s
fi
old=$(kubectl get pods -n demo -l spark-app-name=clicks,spark-role=driver -o jsonpath='{.items[0].metadata.name}')
node=$(pod_field "$old" '{.spec.nodeName}')

say "2. Beside it, the same app as the seed ran it: the seed is the 2018 Spark fork this project starts from, which ran the driver as a plain batch/v1 Job with a ReadWriteOnce checkpoint claim and nothing to keep two drivers from running at once"
note "seed-rwo is exactly that; seed-rwx is the same Job with a ReadWriteMany claim (the seed's admitted hole)."
apply_seed_app seed-rwo ReadWriteOnce
apply_seed_app seed-rwx ReadWriteMany
wait_for "seed drivers running" verdict_is seed-rwo Healthy
wait_for "seed drivers running" verdict_is seed-rwx Healthy
run kubectl get pods,pvc -n demo -o wide
run kubectl sparkha inspect -n demo

say "3. Node $node is cut off from the API server (its machine keeps running the three drivers)"
run "${sb[@]}" partition "$node"

say "4. The node controller declares $node lost: NotReady, tainted unreachable. kubectl still shows the drivers Running; inspect already flags them"
wait_for "node NotReady" bash -c "kubectl get node $node --no-headers | grep -q NotReady"
run kubectl get nodes
run kubectl get pods -n demo -o wide
run kubectl sparkha inspect -n demo

say "5. After 10s the taint manager evicts the three drivers: Terminating, for as long as $node is away (only its kubelet could confirm they stopped)"
note "The seed's plain Jobs count an evicted driver as failed and create a replacement at once."
wait_for "clicks evicted" verdict_is clicks StuckTerminating
wait_for "seed-rwo replacement blocked" verdict_is seed-rwo ReplacementBlocked
wait_for "seed-rwx replacement running" two_running seed-rwx
wait_for "Multi-Attach event" bash -c "kubectl get events -n demo --field-selector reason=FailedAttachVolume --no-headers | grep -q ."
for j in clicks seed-rwo seed-rwx; do wait_for "job $j status" job_caught_up "$j"; done
run kubectl get pods -n demo -o wide
note "seed-rwo: the replacement stays ContainerCreating: its ReadWriteOnce volume is still attached to $node (Multi-Attach):"
run kubectl get events -n demo --field-selector reason=FailedAttachVolume -o custom-columns=OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message
run kubectl get volumeattachments -o custom-columns=PV:.spec.source.persistentVolumeName,NODE:.spec.nodeName,ATTACHED:.status.attached
note "seed-rwx: nothing blocks a ReadWriteMany volume: its replacement runs while the old driver still runs on $node:" \
  "two drivers of one app at once, on one checkpoint volume (the ground truth at the end shows them: OVERLAP)." \
  "clicks (kubectl sparkha): podReplacementPolicy Failed and a podFailurePolicy ignoring DisruptionTarget," \
  "so its Job counts the evicted driver as terminating, not failed, and creates no replacement while it may run:"
run "${jobs[@]}"
run kubectl sparkha inspect -n demo
run kubectl sparkha inspect seed-rwo -n demo -o wide
note "failover refuses to act for clicks while $node is only unreachable:"
run kubectl sparkha failover clicks -n demo

say "6. Node $node rejoins: its kubelet kills the old drivers; the volumes move; sparkha's Job starts the next generation"
run "${sb[@]}" rejoin "$node"
wait_for "clicks running again" verdict_is clicks Healthy
wait_for "seed-rwo running again" verdict_is seed-rwo Healthy

say "7. Recovery: every app runs one driver again. The node loss spent the seed's only retry; not the sparkha app's"
run kubectl get pods,volumeattachments -n demo -o wide
run "${jobs[@]}"
run kubectl sparkha inspect -n demo
run kubectl sparkha inspect clicks -n demo --timeline
if [[ $real != 0 ]]; then
  before=$(last_commit)
  wait_for "the new driver's batches" query_at $((before + 2))
  note "The new clicks driver resumed the query from its checkpoint (its own log says where):"
  new=$(kubectl get pods -n demo -l spark-app-name=clicks,spark-role=driver --field-selector status.phase=Running -o jsonpath='{.items[0].metadata.name}')
  grep -ho 'Resuming at batch [0-9]*' "$dir"/logs/pods/demo_"$new"_*.log | head -1 | sed 's/^/   /'
  run "${sb[@]}" checkpoint demo/clicks-checkpoint
fi

say "The seed's apps have shown what they show: delete them (their history stays in the ground truth)"
run kubectl delete job seed-rwo seed-rwx -n demo --cascade=foreground --timeout=60s
run kubectl delete pvc seed-rwo-checkpoint seed-rwx-checkpoint -n demo --wait=false

say "Second incident: the clicks driver's node dies and never comes back"
old=$(kubectl get pods -n demo -l spark-app-name=clicks,spark-role=driver -o jsonpath='{.items[0].metadata.name}')
node=$(pod_field "$old" '{.spec.nodeName}')
run "${sb[@]}" kill "$node"
wait_for "eviction" verdict_is clicks StuckTerminating
run kubectl sparkha inspect -n demo
note "The responder confirms $node is powered off. First the plan, then the failover:"
run kubectl sparkha failover clicks -n demo --node-down --dry-run=client
run kubectl sparkha failover clicks -n demo --node-down --yes --timeout 90s
run kubectl sparkha inspect -n demo
run kubectl get events -n demo --field-selector source=kubectl-sparkha -o custom-columns=REASON:.reason,MESSAGE:.message
if [[ $real != 0 ]]; then
  before=$(last_commit)
  wait_for "the new driver's batches" query_at $((before + 2))
  note "The query resumed from its checkpoint on the other machine, nothing lost, nothing counted twice:"
  run "${sb[@]}" checkpoint demo/clicks-checkpoint
fi

say "$node is repaired: its machine starts again, the fence is lifted"
run "${sb[@]}" restart "$node"
run kubectl sparkha release "$node"

say "Ground truth (what really ran on the machines): clicks never ran two drivers at once; seed-rwx did (OVERLAP)"
run "${sb[@]}" truth
note "The storage's record of writers shows no second writer of seed-rwx's checkpoint: its old driver is the" \
  "sandbox's stand-in, which stops writing while its machine is partitioned. Spark's own driver keeps writing:" \
  "make e2e-spark's TestRealSparkPartition runs the seed's Job with Spark's own drivers, and Spark itself reports" \
  "the second one ([CONCURRENT_STREAM_LOG_UPDATE]); the storage shows TWO WRITERS when both reach a batch."
