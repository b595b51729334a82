package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

var twoNodes = sandbox.Options{Nodes: []string{"node-a", "node-b"}}

// replacement returns the Job's pod other than old, if any.
func (e *env) replacement(ns, job, old string) (*corev1.Pod, []corev1.Pod) {
	pods := e.jobPods(ns, job)
	for i := range pods {
		if pods[i].Name != old {
			return &pods[i], pods
		}
	}
	return nil, pods
}

func waitingReason(p *corev1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Waiting != nil {
			return cs.State.Waiting.Reason
		}
	}
	return ""
}

// blockedByVolume waits for the replacement driver to be held in
// ContainerCreating by the volume still attached to the lost node, with the
// attach/detach controller's and the kubelet's events, as in scenario step 5.
func (e *env) blockedByVolume(ns, job, old, pv, survivor, volume string) *corev1.Pod {
	e.t.Helper()
	var repl *corev1.Pod
	wantAttach := fmt.Sprintf("FailedAttachVolume: Waiting for detach for volume %q Volume is already used by pod(s) %s", pv, old)
	wantMount := fmt.Sprintf("FailedMount: Unable to attach or mount volumes: unmounted volumes=[%s], unattached volumes=[%s]", volume, volume)
	e.eventually(40*time.Second, "replacement blocked by the volume", func() (bool, string) {
		var pods []corev1.Pod
		if repl, pods = e.replacement(ns, job, old); repl == nil {
			return false, "no replacement: " + describePods(pods)
		}
		evs := e.events(ns, "Pod", repl.Name)
		ok := repl.Spec.NodeName == survivor && repl.Status.Phase == corev1.PodPending &&
			waitingReason(repl) == "ContainerCreating" && hasEvent(evs, wantAttach) && hasEvent(evs, wantMount)
		return ok, fmt.Sprintf("%s events=%q", describePods(pods), evs)
	})
	if got := e.kubectlStatus(ns, repl.Name); got != "ContainerCreating" {
		e.t.Errorf("kubectl prints the replacement as %q, want ContainerCreating", got)
	}
	vas := e.attachments(pv)
	if len(vas) != 1 || vas[0].Spec.NodeName == survivor || !vas[0].Status.Attached {
		e.t.Fatalf("volume %s should stay attached to the lost node only, got %s", pv, describeAttachments(vas))
	}
	return repl
}

// TestS1SeedJobRWO replays the seed incident exactly: the 2018 fork's driver
// Job with an RWO checkpoint on two nodes. The volume fences the replacement
// until the lost node rejoins.
func TestS1SeedJobRWO(t *testing.T) {
	e := start(t, twoNodes)
	const ns, job, claim = "s1", "spark-pi", "spark-pi-checkpoint"
	e.namespace(ns)
	e.seedJob(ns, job, corev1.ReadWriteOnce)
	pv := e.boundPV(ns, claim)

	// 1. The driver runs on node B with its volume attached there.
	old := e.runningDriver(ns, job)
	lost := old.Spec.NodeName
	survivor := otherNode(twoNodes.Nodes, lost)
	e.eventually(20*time.Second, "volume attached to "+lost, func() (bool, string) {
		vas := e.attachments(pv)
		return len(vas) == 1 && vas[0].Spec.NodeName == lost && vas[0].Status.Attached, describeAttachments(vas)
	})
	e.verdict(ns, job, "s1-step1-running", analysis.Healthy)

	// 2-3. Node B is cut off; the control plane declares it lost.
	if err := e.sb.Partition(lost); err != nil {
		t.Fatal(err)
	}
	e.waitNodeLost(lost)
	// The risk shows as soon as the node's Ready turns Unknown, while kubectl
	// still prints the driver Running.
	if got := e.kubectlStatus(ns, old.Name); got != "Running" {
		t.Errorf("before eviction kubectl prints the old driver as %q, want Running", got)
	}
	atRisk := e.verdict(ns, job, "s1-step3-node-lost", analysis.DriverAtRisk)
	if atRisk.LostNode != lost || atRisk.NextAction != "kubectl describe node "+lost {
		t.Errorf("DriverAtRisk: lost node %q, next %q", atRisk.LostNode, atRisk.NextAction)
	}

	// 4. The taint manager evicts the old driver; it cannot finish terminating.
	e.waitEvicted(ns, old.Name)
	if got := e.kubectlStatus(ns, old.Name); got != "Terminating" {
		t.Errorf("kubectl prints the evicted driver as %q, want Terminating", got)
	}

	// 5. The Job controller replaces it at once; the volume blocks the replacement.
	repl := e.blockedByVolume(ns, job, old.Name, pv, survivor, "checkpointpvc")
	ivs := e.truth(ns)
	if len(ivs) != 1 || ivs[0].Pod != old.Name || !ivs[0].Running() {
		t.Fatalf("ground truth while partitioned: want only the old driver, still running; got %v", ivs)
	}
	blocked := e.verdict(ns, job, "s1-step5-replacement-blocked", analysis.ReplacementBlocked)
	wantNext := fmt.Sprintf("if %s comes back, recovery completes by itself; once you know it is powered off, or cut from its storage and network (a network partition is not enough): kubectl sparkha failover %s -n %s --node-down", lost, job, ns)
	if blocked.LostNode != lost || blocked.NextAction != wantNext || !strings.Contains(blocked.Reason, "claim "+claim) {
		t.Errorf("ReplacementBlocked: lost node %q, reason %q, next %q", blocked.LostNode, blocked.Reason, blocked.NextAction)
	}
	if len(blocked.Drivers) != 2 || blocked.Drivers[1].Volumes[0].PV != pv || blocked.Drivers[1].Volumes[0].LastEvent == nil ||
		blocked.Drivers[1].Volumes[0].Attachments[0].Node != lost || blocked.Drivers[0].Status != "Terminating" || blocked.Drivers[0].NodeReady != "Unknown" {
		t.Errorf("ReplacementBlocked evidence incomplete: %+v", blocked.Drivers)
	}

	// 6. Node B rejoins: its kubelet kills the old driver, the volume moves.
	if err := e.sb.Rejoin(lost); err != nil {
		t.Fatal(err)
	}
	e.eventually(30*time.Second, "old driver gone", func() (bool, string) {
		_, err := e.pod(ns, old.Name)
		return isNotFound(err), fmt.Sprint(err)
	})
	// 7. The replacement starts on node A.
	e.eventually(30*time.Second, "replacement Running with the volume on "+survivor, func() (bool, string) {
		p, err := e.pod(ns, repl.Name)
		vas := e.attachments(pv)
		ok := err == nil && p.Status.Phase == corev1.PodRunning && len(vas) == 1 && vas[0].Spec.NodeName == survivor && vas[0].Status.Attached
		return ok, fmt.Sprintf("err=%v attachments=%s", err, describeAttachments(vas))
	})

	ivs = e.truth(ns)
	if len(ivs) != 2 || ivs[0].Pod != old.Name || ivs[0].Running() || ivs[1].Pod != repl.Name || !ivs[1].Running() {
		t.Fatalf("ground truth: want old driver stopped then replacement running, got %v", ivs)
	}
	if o := truth.Overlaps(ivs); len(o) != 0 {
		t.Fatalf("two drivers ran at once: %v", o)
	}
	e.verdict(ns, job, "s1-step7-recovered", analysis.Healthy)
	// The seed's Job counts the node loss as a failure: its only retry is gone.
	j, err := e.client().BatchV1().Jobs(ns).Get(ctx, job, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if j.Status.Failed != 1 {
		t.Errorf("seed Job failed count = %d, want 1 (node loss burns the retry budget)", j.Status.Failed)
	}
}

// TestS2SeedJobRWX shows the seed's admitted hole: with a ReadWriteMany
// checkpoint nothing fences the replacement, and two drivers run at once.
// This overlap is the baseline the plugin beats.
func TestS2SeedJobRWX(t *testing.T) {
	e := start(t, twoNodes)
	const ns, job = "s2", "spark-pi"
	e.namespace(ns)
	e.seedJob(ns, job, corev1.ReadWriteMany)
	e.boundPV(ns, job+"-checkpoint")
	old := e.runningDriver(ns, job)
	lost := old.Spec.NodeName
	if err := e.sb.Partition(lost); err != nil {
		t.Fatal(err)
	}
	e.waitNodeLost(lost)
	e.verdict(ns, job, "s2-node-lost", analysis.DriverAtRisk)
	e.waitEvicted(ns, old.Name)

	var repl *corev1.Pod
	e.eventually(40*time.Second, "replacement Running beside the partitioned driver", func() (bool, string) {
		var pods []corev1.Pod
		repl, pods = e.replacement(ns, job, old.Name)
		return repl != nil && repl.Status.Phase == corev1.PodRunning, describePods(pods)
	})
	ivs := e.truth(ns)
	overlaps := truth.Overlaps(ivs)
	if len(ivs) != 2 || len(overlaps) != 1 || !ivs[0].Running() || !ivs[1].Running() {
		t.Fatalf("want both drivers running at once in the ground truth, got %v (overlaps %v)", ivs, overlaps)
	}
	t.Logf("split brain, as the seed's authors warned: %s | %s", overlaps[0][0], overlaps[0][1])
	split := e.verdict(ns, job, "s2-split-brain", analysis.SplitBrainRisk)
	if split.LostNode != lost || !strings.HasPrefix(split.NextAction, "power off or isolate "+lost) {
		t.Errorf("SplitBrainRisk: lost node %q, next %q", split.LostNode, split.NextAction)
	}
	if err := e.sb.Rejoin(lost); err != nil {
		t.Fatal(err)
	}
	e.eventually(30*time.Second, "old driver killed after rejoin", func() (bool, string) {
		ivs := e.truth(ns)
		return len(ivs) == 2 && !ivs[0].Running(), fmt.Sprint(ivs)
	})
}

// submitStreaming submits the streaming app the failover tests use (new RWOP
// claim unless flags say otherwise, driver evicted 5 s after its node is
// lost) and waits for its driver.
func (e *env) submitStreaming(ns, app string, flags ...string) {
	e.t.Helper()
	args := []string{app, "-n", ns, "--image", "spark:3.5.3", "--class", "org.example.Stream", "local:///opt/app/stream.jar",
		"--checkpoint-size", "1Gi", "--node-lost-timeout", "5s"}
	e.submit(append(append(args, flags...), "--wait", "--timeout", "60s")...)
}

// submit runs `kubectl sparkha submit` against the sandbox.
func (e *env) submit(args ...string) string {
	e.t.Helper()
	out, err := e.run(bins.Plugin, append([]string{"submit"}, args...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// TestS3SparkhaJobRWX: the same partition with the plugin's Job and an RWX
// checkpoint. podReplacementPolicy Failed with the DisruptionTarget rule
// means no replacement exists while the old driver may run, whatever the
// storage; after the rejoin the replacement runs and no retry is spent.
func TestS3SparkhaJobRWX(t *testing.T) {
	e := start(t, twoNodes)
	const ns, app = "s3", "stream"
	e.namespace(ns)
	e.submitStreaming(ns, app, "--checkpoint-access-mode", "ReadWriteMany")
	old := e.runningDriver(ns, app)
	lost := old.Spec.NodeName
	if err := e.sb.Partition(lost); err != nil {
		t.Fatal(err)
	}
	e.waitNodeLost(lost)
	e.verdict(ns, app, "s3-node-lost", analysis.DriverAtRisk)
	e.waitEvicted(ns, old.Name)
	stuck := e.verdict(ns, app, "s3-step4-stuck-terminating", analysis.StuckTerminating)
	if stuck.LostNode != lost || len(stuck.Drivers) != 1 || stuck.Drivers[0].DisruptionTarget == nil ||
		stuck.Drivers[0].DisruptionTarget.Reason != "DeletionByTaintManager" || stuck.JobStatus == nil || stuck.JobStatus.ReplacementPolicy != "Failed" {
		t.Errorf("StuckTerminating evidence: %+v", stuck)
	}
	e.holds(20*time.Second, "no replacement while the old driver is terminating", func() (bool, string) {
		pods := e.jobPods(ns, app)
		return len(pods) == 1 && pods[0].Name == old.Name, describePods(pods)
	})
	j, err := e.client().BatchV1().Jobs(ns).Get(ctx, app, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if j.Status.Terminating == nil || *j.Status.Terminating != 1 || j.Status.Active != 0 {
		t.Errorf("Job status while fenced: terminating=%v active=%d, want 1 and 0", j.Status.Terminating, j.Status.Active)
	}

	if err := e.sb.Rejoin(lost); err != nil {
		t.Fatal(err)
	}
	var repl *corev1.Pod
	e.eventually(40*time.Second, "replacement Running after rejoin", func() (bool, string) {
		var pods []corev1.Pod
		repl, pods = e.replacement(ns, app, old.Name)
		return repl != nil && repl.Status.Phase == corev1.PodRunning, describePods(pods)
	})
	ivs := e.truth(ns)
	if len(ivs) != 2 || ivs[0].Pod != old.Name || ivs[1].Pod != repl.Name {
		t.Fatalf("ground truth: want old driver then replacement, got %v", ivs)
	}
	if o := truth.Overlaps(ivs); len(o) != 0 {
		t.Fatalf("two drivers ran at once: %v", o)
	}
	if !ivs[1].Start.After(ivs[0].End) {
		t.Fatalf("replacement started %s, before the old driver stopped %s", ivs[1].Start, ivs[0].End)
	}
	j, err = e.client().BatchV1().Jobs(ns).Get(ctx, app, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if j.Status.Failed != 0 {
		t.Errorf("Job failed count = %d, want 0: losing a node must not spend the retry budget", j.Status.Failed)
	}
	e.verdict(ns, app, "s3-step7-recovered", analysis.Healthy)
}

// TestS4NodeNeverReturns: the machine dies for good and forced detach is
// disabled, so the replacement stays blocked by the volume for as long as we
// wait; only a decision (the out-of-service taint) can unblock it.
func TestS4NodeNeverReturns(t *testing.T) {
	e := start(t, twoNodes)
	if e.sb.State.ForceDetach {
		t.Fatal("the sandbox must run with forced detach disabled by default")
	}
	const ns, job, claim = "s4", "spark-pi", "spark-pi-checkpoint"
	e.namespace(ns)
	e.seedJob(ns, job, corev1.ReadWriteOnce)
	pv := e.boundPV(ns, claim)
	old := e.runningDriver(ns, job)
	lost := old.Spec.NodeName
	survivor := otherNode(twoNodes.Nodes, lost)
	if err := e.sb.Kill(lost); err != nil {
		t.Fatal(err)
	}
	e.waitNodeLost(lost)
	e.verdict(ns, job, "s4-node-lost", analysis.DriverAtRisk)
	e.waitEvicted(ns, old.Name)
	repl := e.blockedByVolume(ns, job, old.Name, pv, survivor, "checkpointpvc")
	e.verdict(ns, job, "s4-node-dead-blocked", analysis.ReplacementBlocked)
	e.holds(30*time.Second, "replacement blocked, volume on the dead node", func() (bool, string) {
		p, err := e.pod(ns, repl.Name)
		o, oerr := e.pod(ns, old.Name)
		vas := e.attachments(pv)
		ok := err == nil && p.Status.Phase == corev1.PodPending && oerr == nil && o.DeletionTimestamp != nil &&
			len(vas) == 1 && vas[0].Spec.NodeName == lost
		return ok, fmt.Sprintf("replacement err=%v old err=%v attachments=%s", err, oerr, describeAttachments(vas))
	})
	ivs := e.truth(ns)
	if len(ivs) != 1 || ivs[0].Pod != old.Name || ivs[0].Running() {
		t.Fatalf("ground truth: want only the old driver, stopped when its machine died; got %v", ivs)
	}
}

// TestS5SubmitEndToEnd: submit creates the objects with owner references to
// the real Job, the driver runs, and deleting the Job garbage-collects the
// ConfigMap and Service but never the checkpoint claim.
func TestS5SubmitEndToEnd(t *testing.T) {
	e := start(t, twoNodes)
	const ns, app = "s5", "etl"
	e.namespace(ns)
	out := e.submit(app, "-n", ns, "--image", "spark:3.5.3", "--class", "org.example.Etl", "local:///opt/app/etl.jar",
		"--checkpoint-size", "1Gi", "--wait", "--timeout", "60s", "-o", "name")
	want := []string{"persistentvolumeclaim/etl-checkpoint", "job.batch/etl", "configmap/etl-spark-conf", "service/etl-driver-svc"}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("submit -o name printed %q, missing %s", out, w)
		}
	}
	c := e.client()
	j, err := c.BatchV1().Jobs(ns).Get(ctx, app, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm, err := c.CoreV1().ConfigMaps(ns).Get(ctx, app+"-spark-conf", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := c.CoreV1().Services(ns).Get(ctx, app+"-driver-svc", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for kind, refs := range map[string][]metav1.OwnerReference{"ConfigMap": cm.OwnerReferences, "Service": svc.OwnerReferences} {
		if len(refs) != 1 || refs[0].UID != j.UID || refs[0].Kind != "Job" || refs[0].Name != app {
			t.Errorf("%s owner references = %+v, want the Job %s (uid %s)", kind, refs, app, j.UID)
		}
	}
	pvc, err := c.CoreV1().PersistentVolumeClaims(ns).Get(ctx, app+"-checkpoint", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pvc.OwnerReferences) != 0 {
		t.Errorf("checkpoint claim must not be owned, has %+v", pvc.OwnerReferences)
	}
	driver := e.runningDriver(ns, app)
	for k, v := range map[string]string{"spark-role": "driver", "spark-app-name": app, "app.kubernetes.io/managed-by": "kubectl-sparkha"} {
		if driver.Labels[k] != v {
			t.Errorf("driver label %s=%q, want %q", k, driver.Labels[k], v)
		}
	}

	e.kubectl("delete", "job", app, "-n", ns, "--wait=true")
	e.eventually(30*time.Second, "ConfigMap and Service garbage-collected", func() (bool, string) {
		_, cmErr := c.CoreV1().ConfigMaps(ns).Get(ctx, cm.Name, metav1.GetOptions{})
		_, svcErr := c.CoreV1().Services(ns).Get(ctx, svc.Name, metav1.GetOptions{})
		return isNotFound(cmErr) && isNotFound(svcErr), fmt.Sprintf("configmap: %v, service: %v", cmErr, svcErr)
	})
	e.holds(3*time.Second, "checkpoint claim kept", func() (bool, string) {
		p, err := c.CoreV1().PersistentVolumeClaims(ns).Get(ctx, pvc.Name, metav1.GetOptions{})
		return err == nil && p.DeletionTimestamp == nil && p.Status.Phase == corev1.ClaimBound, fmt.Sprint(err)
	})
	if dels := e.auditedDeletes("persistentvolumeclaims", "persistentvolumes"); len(dels) != 0 {
		t.Errorf("the audit log shows deletes of data: %v", dels)
	}
}

// auditedDeletes returns the delete requests the API server audited on the
// given resources.
func (e *env) auditedDeletes(resources ...string) []string {
	e.t.Helper()
	f, err := os.Open(e.sb.AuditLog())
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	seen := 0
	for sc.Scan() {
		var ev struct {
			Verb      string `json:"verb"`
			User      struct{ Username string }
			ObjectRef struct{ Resource, Namespace, Name string }
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		seen++
		for _, r := range resources {
			if ev.ObjectRef.Resource == r && (ev.Verb == "delete" || ev.Verb == "deletecollection") {
				out = append(out, fmt.Sprintf("%s %s %s/%s by %s", ev.Verb, r, ev.ObjectRef.Namespace, ev.ObjectRef.Name, ev.User.Username))
			}
		}
	}
	if seen == 0 {
		e.t.Fatal("the audit log is empty: cannot prove anything about deletes")
	}
	return out
}
