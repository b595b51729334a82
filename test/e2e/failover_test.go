package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/failover"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/kubelet"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/storage"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

// cli runs the plugin and returns stdout, stderr and the exit code.
func (e *env) cli(args ...string) (string, string, int) {
	e.t.Helper()
	out, stderr, err := e.runAll(bins.Plugin, args...)
	if err == nil {
		return out, stderr, 0
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		e.t.Fatal(err)
	}
	return out, stderr, exit.ExitCode()
}

func (e *env) nodeHasFence(node string) bool {
	return taint(e.node(node), corev1.TaintNodeOutOfService, corev1.TaintEffectNoExecute) != nil
}

// failoverEvents returns the audit Events failover left in ns.
func (e *env) failoverEvents(ns string) []corev1.Event {
	e.t.Helper()
	list, err := e.client().CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("source", failover.EventSource).String()})
	if err != nil {
		e.t.Fatal(err)
	}
	return list.Items
}

func (e *env) jobAudit(ns, job string) (failover.Audit, bool) {
	e.t.Helper()
	j, err := e.client().BatchV1().Jobs(ns).Get(ctx, job, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	raw, ok := j.Annotations[failover.AuditAnnotation]
	if !ok {
		return failover.Audit{}, false
	}
	var a failover.Audit
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		e.t.Fatalf("audit annotation %q: %v", raw, err)
	}
	return a, true
}

func (e *env) noOverlap(ns string) []truth.Interval {
	e.t.Helper()
	ivs := e.truth(ns)
	if o := truth.Overlaps(ivs); len(o) != 0 {
		e.t.Fatalf("two drivers ran at once: %v", o)
	}
	return ivs
}

// TestFailoverAfterRejoin: failover refuses while the old driver's node is
// partitioned and unconfirmed. After the rejoin its kubelet stops the driver
// and, as a v1.37 kubelet does, marks it Failed before unmounting its volumes;
// the unmount hangs, so the pod stays (Failed, deletion timestamp) and its
// volume stays in use on the node. The Job replaces the terminal pod at once,
// and the replacement waits for the volume: inspect says Starting and failover
// has nothing to do (deleting the pod would not unmount the volume). Once the
// unmount completes the kubelet deletes the pod, the volume moves and the
// replacement runs.
func TestFailoverAfterRejoin(t *testing.T) {
	e := start(t, twoNodes)
	const ns, app = "f1", "stream"
	e.namespace(ns)
	e.submitStreaming(ns, app)
	old := e.runningDriver(ns, app)
	lost := old.Spec.NodeName
	e.kubectl("annotate", "pod", old.Name, "-n", ns, kubelet.SlowTeardownAnnotation+"=true")
	if err := e.sb.Partition(lost); err != nil {
		t.Fatal(err)
	}
	e.waitNodeLost(lost)
	e.waitEvicted(ns, old.Name)
	e.verdict(ns, app, "f1-partitioned", analysis.StuckTerminating)

	stdout, stderr, code := e.cli("failover", app, "-n", ns, "--wait=false")
	wantRefusal := fmt.Sprintf("error: refusing to fail over %s/%s: driver %s may still be running on node %s (Ready=Unknown", ns, app, old.Name, lost)
	if code != 4 || !strings.HasPrefix(stderr, wantRefusal) || !strings.Contains(stderr, "--node-down") {
		t.Fatalf("want refusal (exit 4) %q..., got exit %d\nstdout: %s\nstderr: %s", wantRefusal, code, stdout, stderr)
	}
	t.Logf("refusal: %s", strings.TrimSpace(stderr))
	if e.nodeHasFence(lost) || len(e.failoverEvents(ns)) != 0 {
		t.Fatal("a refused failover changed something")
	}
	if _, ok := e.jobAudit(ns, app); ok {
		t.Fatal("a refused failover annotated the Job")
	}

	// The operator keeps new work off the flaky machine: the replacement lands on the other.
	e.kubectl("cordon", lost)
	if err := e.sb.Rejoin(lost); err != nil {
		t.Fatal(err)
	}
	var stopped *corev1.Pod
	e.eventually(30*time.Second, "old driver Failed", func() (bool, string) {
		p, err := e.pod(ns, old.Name)
		if err != nil {
			return false, err.Error()
		}
		stopped = p
		return p.Status.Phase == corev1.PodFailed, describePods([]corev1.Pod{*p})
	})
	cs := stopped.Status.ContainerStatuses
	if stopped.DeletionTimestamp == nil || len(cs) != 1 || cs[0].State.Terminated == nil || cs[0].State.Terminated.ExitCode != 143 {
		t.Fatalf("old driver: deletion %v, containers %+v; want Failed with a deletion timestamp, exited on SIGTERM (143)", stopped.DeletionTimestamp, cs)
	}
	pvc, err := e.client().CoreV1().PersistentVolumeClaims(ns).Get(ctx, app+"-checkpoint", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pv := pvc.Spec.VolumeName
	vol, err := e.client().CoreV1().PersistentVolumes().Get(ctx, pv, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unique := storage.UniqueVolumeName(vol.Spec.CSI.Driver, vol.Spec.CSI.VolumeHandle)
	inUse := func(node string) bool { return slices.Contains(e.node(node).Status.VolumesInUse, unique) }
	var repl *corev1.Pod
	e.eventually(30*time.Second, "the Job's replacement on the other node", func() (bool, string) {
		var pods []corev1.Pod
		repl, pods = e.replacement(ns, app, old.Name)
		return repl != nil && repl.Spec.NodeName != "" && repl.Spec.NodeName != lost, describePods(pods)
	})
	got := e.verdict(ns, app, "f1-rejoined-unmount-hangs", analysis.Starting)
	if want := fmt.Sprintf("driver %s on %s waits for volume checkpoint (%s)", repl.Name, repl.Spec.NodeName, lost); got.Reason != want {
		t.Errorf("reason %q, want %q", got.Reason, want)
	}
	stdout, _, code = e.cli("failover", app, "-n", ns)
	if code != 0 || !strings.Contains(stdout, "nothing to fail over") {
		t.Errorf("failover while the unmount hangs: exit %d, %q", code, stdout)
	}
	e.holds(5*time.Second, "old driver kept, its volume in use on "+lost+", the replacement waiting", func() (bool, string) {
		p, err := e.pod(ns, old.Name)
		if err != nil {
			return false, err.Error()
		}
		r, err := e.pod(ns, repl.Name)
		if err != nil {
			return false, err.Error()
		}
		vas := e.attachments(pv)
		return p.Status.Phase == corev1.PodFailed && r.Status.Phase == corev1.PodPending && inUse(lost) && len(vas) == 1 && vas[0].Spec.NodeName == lost,
			fmt.Sprintf("%s; %s; %s in use: %v", describePods([]corev1.Pod{*p, *r}), describeAttachments(vas), lost, e.node(lost).Status.VolumesInUse)
	})

	// The unmount completes: the kubelet deletes the pod and stops reporting the volume.
	e.kubectl("annotate", "pod", old.Name, "-n", ns, kubelet.SlowTeardownAnnotation+"-")
	e.eventually(60*time.Second, "replacement Running", func() (bool, string) {
		r, err := e.pod(ns, repl.Name)
		if err != nil {
			return false, err.Error()
		}
		return r.Status.Phase == corev1.PodRunning, describePods([]corev1.Pod{*r})
	})
	if _, err := e.pod(ns, old.Name); !isNotFound(err) {
		t.Errorf("old driver still exists: %v", err)
	}
	if inUse(lost) {
		t.Errorf("%s still reports the volume in use: %v", lost, e.node(lost).Status.VolumesInUse)
	}
	e.verdict(ns, app, "f1-recovered", analysis.Healthy)
	j, err := e.client().BatchV1().Jobs(ns).Get(ctx, app, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if j.Status.Failed != 0 {
		t.Errorf("Job failed = %d: the node loss must not spend the retry budget", j.Status.Failed)
	}
	if _, ok := e.jobAudit(ns, app); ok || len(e.failoverEvents(ns)) != 0 {
		t.Error("failover acted though there was nothing to do")
	}
	ivs := e.noOverlap(ns)
	if len(ivs) != 2 || ivs[0].UID != string(old.UID) || ivs[1].UID != string(repl.UID) || ivs[0].Running() || !ivs[1].Running() {
		t.Errorf("ground truth: %v", ivs)
	}
	if dels := e.auditedDeletes("persistentvolumeclaims", "persistentvolumes"); len(dels) != 0 {
		t.Errorf("data deleted: %v", dels)
	}
}

// TestFailoverNodeDown: the machine never returns (S4 with the plugin's Job).
// failover refuses without --node-down, needs --yes without a terminal,
// prints the plan on --dry-run, and with two concurrent confirmed runs fences
// the node exactly once; the new driver runs. Once the machine is repaired,
// release lifts the fence.
func TestFailoverNodeDown(t *testing.T) {
	e := start(t, twoNodes)
	const ns, app = "f2", "stream"
	e.namespace(ns)
	e.submitStreaming(ns, app)
	old := e.runningDriver(ns, app)
	lost := old.Spec.NodeName
	e.killNode(lost)
	e.waitEvicted(ns, old.Name)
	e.verdict(ns, app, "f2-node-dead", analysis.StuckTerminating)

	if _, stderr, code := e.cli("failover", app, "-n", ns); code != 4 || !strings.Contains(stderr, "refusing to fail over f2/stream") {
		t.Fatalf("without --node-down: exit %d, %s", code, stderr)
	}
	if _, stderr, code := e.cli("failover", app, "-n", ns, "--node-down"); code != 1 || !strings.Contains(stderr, "confirm with --yes") {
		t.Fatalf("--node-down without --yes and without a terminal: exit %d, %s", code, stderr)
	}
	stdout, _, code := e.cli("failover", app, "-n", ns, "--node-down", "--dry-run=client")
	if code != 0 || !strings.Contains(stdout, "Failover plan for f2/stream (StuckTerminating) (dry run):") ||
		!strings.Contains(stdout, "1. fence node "+lost) || !strings.Contains(stdout, f2Pod(old.Name)) {
		t.Fatalf("dry run: exit %d\n%s", code, stdout)
	}
	t.Logf("dry-run plan:\n%s", stdout)
	if e.nodeHasFence(lost) {
		t.Fatal("the dry run fenced the node")
	}

	began := time.Now()
	var wg sync.WaitGroup
	results := make([][3]any, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, errOut, code := e.cli("failover", app, "-n", ns, "--node-down", "--yes", "--timeout", "90s")
			results[i] = [3]any{out, errOut, code}
		}()
	}
	wg.Wait()
	t.Logf("failover --node-down to new driver Running: %.1fs", time.Since(began).Seconds())
	for i, r := range results {
		if r[2].(int) != 0 {
			t.Fatalf("concurrent run %d: exit %v\nstdout: %s\nstderr: %s", i, r[2], r[0], r[1])
		}
	}
	// Each step is done once, by one of the two runs: the fence, then the collection of the
	// old driver (as the pod garbage collector would, without waiting for its pass).
	if got := eventReasons(e.failoverEvents(ns)); got != "FailoverFencedNode,FailoverCollectedOldDriver" {
		t.Fatalf("two concurrent runs must act once per step: events %s", got)
	}
	for _, step := range []string{
		"fence node " + lost + " (taint node.kubernetes.io/out-of-service=nodeshutdown:NoExecute): done",
		"collect old driver " + old.Name + " from fenced node " + lost + " once it is evicted (mark Failed, delete with grace period 0, as the pod garbage collector would): done",
	} {
		done := 0
		for _, r := range results {
			if strings.Contains(r[1].(string), step) {
				done++
			}
		}
		if done != 1 {
			t.Errorf("exactly one run must report %q, %d did:\n%v", step, done, results)
		}
	}
	if !e.nodeHasFence(lost) {
		t.Fatal("node not fenced")
	}
	repl, pods := e.replacement(ns, app, old.Name)
	if repl == nil || repl.Status.Phase != corev1.PodRunning || len(pods) != 1 {
		t.Fatalf("after failover: %s", describePods(pods))
	}
	e.noOverlap(ns)
	e.verdict(ns, app, "f2-recovered", analysis.Healthy)

	if _, stderr, code := e.cli("release", lost); code != 4 || !strings.Contains(stderr, "is not Ready") {
		t.Fatalf("release while the node is down: exit %d %s", code, stderr)
	}
	if err := e.sb.Restart(ctx, lost); err != nil {
		t.Fatal(err)
	}
	if out, stderr, code := e.cli("release", lost); code != 0 || strings.TrimSpace(out) != "node/"+lost+" released" {
		t.Fatalf("release: exit %d %q %s", code, out, stderr)
	}
	if e.nodeHasFence(lost) {
		t.Fatal("fence still there after release")
	}
	if out, _, code := e.cli("release", lost); code != 0 || !strings.Contains(out, "nothing to release") {
		t.Fatalf("second release: exit %d %q", code, out)
	}
	if dels := e.auditedDeletes("persistentvolumeclaims", "persistentvolumes"); len(dels) != 0 {
		t.Errorf("data deleted: %v", dels)
	}
}

func f2Pod(name string) string { return "f2/" + name }

// TestFailoverVolumeLeftOnDeadNode: the old driver is gone from the API, but
// its volume is still attached to its machine (the kubelet had not reported it
// unmounted) when that machine dies. Nothing frees the volume while the
// machine is away, so the replacement is blocked: inspect must not call that
// Starting (found by chaos seed 20068, where the kill came a second after a
// rejoin). failover refuses while the machine may come back and, once it is
// confirmed down, fences it so the volume moves.
func TestFailoverVolumeLeftOnDeadNode(t *testing.T) {
	e := start(t, twoNodes)
	const ns, app = "f3", "stream"
	e.namespace(ns)
	e.submitStreaming(ns, app, "--checkpoint-access-mode", "ReadWriteOncePod", "--annotations", kubelet.StuckUnmountAnnotation+"=true")
	old := e.runningDriver(ns, app)
	held := old.Spec.NodeName
	// The kubelet mounted the checkpoint only once its node status listed it in use, which
	// keeps the attach/detach controller from detaching it.
	if n := e.node(held); len(n.Status.VolumesInUse) != 1 {
		t.Fatalf("%s runs the driver but reports volumes in use %v", held, n.Status.VolumesInUse)
	}
	// The operator moves the driver off a flaky machine; its kubelet stops
	// and removes the pod but never finishes unmounting the checkpoint.
	e.kubectl("cordon", held)
	e.kubectl("delete", "pod", old.Name, "-n", ns)
	var repl *corev1.Pod
	e.eventually(30*time.Second, "a replacement scheduled away from "+held, func() (bool, string) {
		var pods []corev1.Pod
		repl, pods = e.replacement(ns, app, old.Name)
		return repl != nil && len(pods) == 1 && repl.Spec.NodeName != "", describePods(pods)
	})
	e.verdict(ns, app, "f3-volume-held", analysis.Starting)

	e.killNode(held)
	got := e.verdict(ns, app, "f3-volume-left-on-dead-node", analysis.ReplacementBlocked)
	wantReason := fmt.Sprintf("new driver %s on %s waits for volume checkpoint (claim %s-checkpoint) still attached to %s (Ready=Unknown, tainted node.kubernetes.io/unreachable:NoExecute); no driver pod is left there",
		repl.Name, repl.Spec.NodeName, app, held)
	if got.LostNode != held || !strings.HasPrefix(got.Reason, wantReason) ||
		!strings.HasSuffix(got.Reason, "; no driver pod is left there, but only its kubelet can report the volume unmounted") {
		t.Errorf("inspect: lost node %q, reason %q; want %s and a reason starting %q", got.LostNode, got.Reason, held, wantReason)
	}
	if want := "if " + held + " comes back, recovery completes by itself; once you know it is powered off, or cut from its storage and network (a network partition is not enough): kubectl sparkha failover stream -n f3 --node-down"; got.NextAction != want {
		t.Errorf("next action %q, want %q", got.NextAction, want)
	}

	_, stderr, code := e.cli("failover", app, "-n", ns)
	if want := "error: refusing to fail over f3/stream: " + wantReason; code != 4 || !strings.Contains(stderr, want) ||
		!strings.Contains(stderr, ", and whatever held it there may still be running. Starting another driver now could run two at once.") {
		t.Fatalf("failover without --node-down: exit %d, want 4 and %q\nstderr: %s", code, want, stderr)
	}
	if e.nodeHasFence(held) {
		t.Fatal("the refusal fenced the node")
	}

	stdout, stderr, code := e.cli("failover", app, "-n", ns, "--node-down", "--yes", "--timeout", "90s")
	if code != 0 || !strings.Contains(stderr, "fence node "+held+" (taint node.kubernetes.io/out-of-service=nodeshutdown:NoExecute): done") ||
		!strings.Contains(stdout, "failover of f3/stream complete") {
		t.Fatalf("failover --node-down: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	evs := e.failoverEvents(ns)
	if len(evs) != 1 || evs[0].Reason != "FailoverFencedNode" ||
		!strings.HasSuffix(evs[0].Message, "the operator declared "+held+" powered off or cut from its storage; the out-of-service taint lets Kubernetes detach the volumes still attached there") {
		t.Fatalf("audit events: %+v", evs)
	}
	now, pods := e.replacement(ns, app, old.Name)
	if now == nil || now.UID != repl.UID || now.Status.Phase != corev1.PodRunning || len(pods) != 1 {
		t.Fatalf("after failover the blocked replacement must run: %s", describePods(pods))
	}
	e.noOverlap(ns)
	e.verdict(ns, app, "f3-recovered", analysis.Healthy)
	if dels := e.auditedDeletes("persistentvolumeclaims", "persistentvolumes"); len(dels) != 0 {
		t.Errorf("data deleted: %v", dels)
	}
}

// TestFailoverEvidenceOfLife: a machine whose kubelet runs but whose container runtime is down
// (Lease renewed, Ready=False): the driver is evicted but its containers keep running, and
// nothing in the pod shows it. inspect names the evidence and says not to fence; failover
// --node-down refuses on it, naming it, and fences nothing. The override shows why: with
// --ignore-node-evidence the fence lets a second driver start while the first still runs, as
// the ground truth records; once the runtime answers again, the kubelet stops the orphan.
func TestFailoverEvidenceOfLife(t *testing.T) {
	e := start(t, twoNodes)
	const ns, app = "f4", "stream"
	e.namespace(ns)
	e.submitStreaming(ns, app)
	old := e.runningDriver(ns, app)
	sick := old.Spec.NodeName
	must(t, e.sb.RuntimeDown(sick, true))
	e.waitEvicted(ns, old.Name)
	got := e.verdict(ns, app, "f4-runtime-down", analysis.StuckTerminating)
	ev := got.LostNodeEvidence
	if got.LostNode != sick || ev == nil || ev.Ready != "False" || ev.ReadyReason != "KubeletNotReady" ||
		!strings.HasPrefix(ev.Alive, "its kubelet reports Ready=False (KubeletNotReady)") ||
		!strings.Contains(got.NextAction, "machine is running") || !strings.HasSuffix(got.NextAction, "do not fence it") {
		t.Fatalf("inspect: lost node %q, evidence %+v, next %q", got.LostNode, ev, got.NextAction)
	}
	stdout, stderr, code := e.cli("failover", app, "-n", ns, "--node-down", "--yes", "--timeout", "60s")
	if code != 4 || !strings.Contains(stderr, "error: refusing to fence node "+sick+": its kubelet reports Ready=False (KubeletNotReady)") ||
		!strings.Contains(stderr, "--ignore-node-evidence") || e.nodeHasFence(sick) {
		t.Fatalf("failover --node-down on a running machine: exit %d, fenced %t\nstdout: %s\nstderr: %s", code, e.nodeHasFence(sick), stdout, stderr)
	}
	if ivs := e.truth(ns); len(ivs) != 1 || !ivs[0].Running() {
		t.Fatalf("ground truth: %v; want the old driver still running", ivs)
	}

	// The override: what the refusal prevented.
	stdout, stderr, code = e.cli("failover", app, "-n", ns, "--node-down", "--yes", "--ignore-node-evidence", "--timeout", "60s")
	if code != 0 || !strings.Contains(stdout, "What the cluster says of node "+sick) || !strings.Contains(stdout, "EVIDENCE OF LIFE") {
		t.Fatalf("override: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	// The fence's audit (the node's annotation and the Event on the Job) says the evidence was overridden.
	var fenceAudit failover.Audit
	if err := json.Unmarshal([]byte(e.node(sick).Annotations[failover.AuditAnnotation]), &fenceAudit); err != nil ||
		fenceAudit.Action != analysis.FenceNode || !strings.Contains(fenceAudit.Why, "evidence that the machine runs ignored on the operator's word: its kubelet reports Ready=False") {
		t.Errorf("node audit annotation: %+v (%v)", fenceAudit, err)
	}
	if evs := e.failoverEvents(ns); len(evs) == 0 || evs[0].Reason != "FailoverFencedNode" || !strings.Contains(evs[0].Message, "ignored on the operator's word") {
		t.Errorf("audit events: %v", eventReasons(evs))
	}
	var overlap [][2]truth.Interval
	e.eventually(30*time.Second, "two drivers running at once, recorded", func() (bool, string) {
		overlap = truth.Overlaps(e.truth(ns))
		return len(overlap) > 0, fmt.Sprint(e.truth(ns))
	})
	t.Logf("with the evidence ignored, two drivers ran at once: %s | %s", overlap[0][0], overlap[0][1])
	must(t, e.sb.RuntimeDown(sick, false))
	e.eventually(30*time.Second, "the orphan stopped once the runtime answers", func() (bool, string) {
		for _, iv := range e.truth(ns) {
			if iv.UID == string(old.UID) && iv.Running() {
				return false, fmt.Sprint(e.truth(ns))
			}
		}
		return true, ""
	})
}
