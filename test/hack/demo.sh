#!/usr/bin/env bash
# make demo: the incident of shared/docs/scenario.md, replayed on the sandbox
# with a driver submitted by `kubectl sparkha submit`, narrated step by step
# with what a responder sees (kubectl, then kubectl sparkha inspect), and
# ended with `kubectl sparkha failover` when the node never comes back.
# Needs bin/kubectl-sparkha, bin/sandbox and SANDBOX_K8S_BIN (the Makefile
# provides them).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/bin:$PATH"
dir="${SANDBOX_DIR:-${TMPDIR:-/tmp}/sparkha-sandbox}-demo"
sandbox() { bin/sandbox --dir "$dir" "$@"; }
if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
# run: print and run a command; a non-zero exit is shown, not fatal (inspect
# exits 3 when an app needs attention, failover 4 when it refuses).
run() {
  printf '$ %s\n' "$*"
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
# verdict_is V: inspect reports V for the app (inspect exits 3 while it needs attention).
verdict_is() {
  local out
  out=$(kubectl sparkha inspect clicks -n demo -o json 2>/dev/null || true)
  grep -q "\"verdict\": \"$1\"" <<<"$out"
}
pod_field() { kubectl get pod "$1" -n demo -o "jsonpath=$2" 2>/dev/null; }

sandbox down >/dev/null 2>&1 || true
rm -rf "$dir"
say "Starting the sandbox: real etcd, kube-apiserver, controller manager and scheduler; 2 simulated nodes"
sandbox up --nodes 2 >/dev/null
export KUBECONFIG="$dir/kubeconfig"
trap 'sandbox down >/dev/null 2>&1 || true' EXIT
kubectl create namespace demo >/dev/null
wait_for "default service account" kubectl get serviceaccount default -n demo
run kubectl get nodes

say "1. Submit a streaming app: its driver runs as a Job, checkpoint on a ReadWriteOncePod volume"
run kubectl sparkha submit clicks -n demo --image apache/spark:3.5.3 \
  --class com.example.Clicks --checkpoint-size 1Gi --node-lost-timeout 10s \
  local:///opt/app/clicks.jar --wait --timeout 60s
old=$(kubectl get pods -n demo -l spark-role=driver -o jsonpath='{.items[0].metadata.name}')
node=$(pod_field "$old" '{.spec.nodeName}')
run kubectl get pods,pvc -n demo -o wide
run kubectl sparkha inspect -n demo

say "2. Node $node is cut off from the API server (its machine keeps running the driver)"
run sandbox partition "$node"

say "3. The node controller declares $node lost: NotReady, tainted unreachable. kubectl still shows the driver Running; inspect already flags it"
wait_for "node NotReady" bash -c "kubectl get node $node --no-headers | grep -q NotReady"
run kubectl get nodes
run kubectl get pods -n demo -o wide
run kubectl sparkha inspect -n demo

say "4. After the driver's 10s toleration the taint manager evicts it: Terminating, forever (only $node could confirm)"
wait_for "eviction" verdict_is StuckTerminating
run kubectl get pods -n demo -o wide
run kubectl sparkha inspect -n demo -o wide

say "5. With spark-submit's bare pod the app would be gone; with the seed's plain Job a second driver would start now."
echo "   The sparkha Job (podReplacementPolicy: Failed, DisruptionTarget ignored) creates no replacement while the old driver may run,"
echo "   and failover refuses to act while $node is only unreachable:"
run kubectl sparkha failover clicks -n demo

say "6. Node $node rejoins: its kubelet kills the old driver, the Job starts the next generation"
run sandbox rejoin "$node"
wait_for "new driver running" verdict_is Healthy

say "7. Recovery: the new driver runs; the node loss did not spend the retry budget"
run kubectl get pods,volumeattachments -n demo -o wide
run kubectl get job clicks -n demo -o jsonpath='active={.status.active} failed={.status.failed}{"\n"}'
run kubectl sparkha inspect -n demo
run kubectl sparkha inspect clicks -n demo --timeline

say "Second incident: the new driver's node dies and never comes back"
old=$(kubectl get pods -n demo -l spark-role=driver -o jsonpath='{.items[0].metadata.name}')
node=$(pod_field "$old" '{.spec.nodeName}')
run sandbox kill "$node"
wait_for "eviction" verdict_is StuckTerminating
run kubectl sparkha inspect -n demo
echo "   The responder confirms $node is powered off. First the plan, then the failover:"
run kubectl sparkha failover clicks -n demo --node-down --dry-run=client
run kubectl sparkha failover clicks -n demo --node-down --yes --timeout 90s
run kubectl sparkha inspect -n demo
run kubectl get events -n demo --field-selector source=kubectl-sparkha -o custom-columns=REASON:.reason,MESSAGE:.message

say "$node is repaired: its machine starts again, the fence is lifted"
run sandbox restart "$node"
run kubectl sparkha failover --release-node "$node"

say "Ground truth (what really ran on the machines): never two drivers at once"
run sandbox truth
