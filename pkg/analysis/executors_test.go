package analysis_test

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

func execLine(xs []analysis.Executor) string {
	var out []string
	for _, x := range xs {
		s := fmt.Sprintf("%s id=%s %s/%s on %s(%s)", x.Pod, x.ID, x.Phase, x.Status, x.Node, x.NodeReady)
		if x.Deleted != nil {
			s += " deleted"
		}
		if x.Stray {
			s += " STRAY"
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// TestExecutorsPerGeneration: each driver generation lists exactly its
// executors (by owner UID), those of a driver pod that is gone are orphans,
// and only the one running on a Ready node without a live driver is flagged.
func TestExecutorsPerGeneration(t *testing.T) {
	f := loadFixture(t, "x1-stray-executors")
	a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]
	if len(a.Drivers) != 1 {
		t.Fatalf("%d drivers", len(a.Drivers))
	}
	d := a.Drivers[0]
	if got, want := execLine(d.Executors), "stream-a41b07c19abf2a1c-exec-1 id=1 Running/Running on node-b(True); "+
		"stream-a41b07c19abf2a1c-exec-2 id=2 Pending/ContainerCreating on node-b(True)"; got != want {
		t.Errorf("generation 1 executors:\n got %s\nwant %s", got, want)
	}
	if c := d.ExecutorCounts; c == nil || c.Total != 2 || c.Running != 1 || c.ByPhase["Running"] != 1 || c.ByPhase["Pending"] != 1 || strings.Join(c.Nodes, ",") != "node-b" {
		t.Errorf("counts %+v", c)
	}
	if got, want := execLine(a.OrphanExecutors), "stream-3f9a1c19abf1e2d4-exec-1 id=1 Running/Running on node-b(True) STRAY; "+
		"stream-3f9a1c19abf1e2d4-exec-2 id=2 Running/Running on node-a(Unknown)"; got != want {
		t.Errorf("orphans:\n got %s\nwant %s", got, want)
	}
	wantReason := "executor stream-3f9a1c19abf1e2d4-exec-1 of driver pod stream-7xk2q (gone) still runs on Ready node node-b: it can keep writing to sinks"
	wantNext := "kubectl delete pod -n f2 -l spark-role=executor,spark-app-selector=spark-0b7d3c55-8d4e-4f7a-9c1e-3a5b7c9d1e2f (or wait for the garbage collector: it deletes them once their driver pod is gone)"
	if a.Verdict != analysis.StrayExecutors || a.Reason != wantReason || a.NextAction != wantNext {
		t.Errorf("got %s: %q / %q", a.Verdict, a.Reason, a.NextAction)
	}
	if len(a.Warnings) != 1 || a.Warnings[0] != wantReason+"; "+wantNext {
		t.Errorf("warnings %q", a.Warnings)
	}
}

// TestStrayExecutorsKeepTheDriverVerdict: a verdict that already needs
// attention stays; the stray executor is a warning beside it.
func TestStrayExecutorsKeepTheDriverVerdict(t *testing.T) {
	f := loadFixture(t, "x2-stuck-driver-executors")
	a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]
	if a.Verdict != analysis.StuckTerminating || !strings.HasPrefix(a.NextAction, "if node-a comes back") {
		t.Errorf("verdict %s next %q: the stuck driver decides", a.Verdict, a.NextAction)
	}
	if got, want := execLine(a.Drivers[0].Executors), "stream-6c2e9d19abf0c3b7-exec-1 id=1 Running/Running on node-b(True) STRAY; "+
		"stream-6c2e9d19abf0c3b7-exec-2 id=2 Running/Running on node-a(Unknown)"; got != want {
		t.Errorf("executors:\n got %s\nwant %s", got, want)
	}
	want := "executor stream-6c2e9d19abf0c3b7-exec-1 of driver generation 1 (stream-j4nqb, deleted) still runs on Ready node node-b: it can keep writing to sinks; " +
		"kubectl delete pod -n f1 -l spark-role=executor,spark-app-selector=spark-87426343-33f1-46e1-bc73-e5f6d4039955 (or wait for the garbage collector: it deletes them once their driver pod is gone)"
	if len(a.Warnings) != 1 || a.Warnings[0] != want {
		t.Errorf("warnings:\n got %q\nwant %q", a.Warnings, want)
	}
}

// TestExecutorsMatchedByLabelWithoutOwner: executors with no owner reference
// (a driver that did not know its pod name) are matched by spark-app-selector:
// "spark-"+UID for a sparkha driver, the driver's own label otherwise.
func TestExecutorsMatchedByLabelWithoutOwner(t *testing.T) {
	for _, sparkha := range []bool{true, false} {
		f := loadFixture(t, "x1-stray-executors")
		drv := &f.Snapshot.DriverPods[0]
		want := "spark-" + string(drv.UID)
		if !sparkha {
			delete(drv.Labels, sparkapp.LabelManagedBy)
			want = drv.Labels[sparkapp.LabelAppSelector]
		}
		f.Snapshot.ExecutorPods = f.Snapshot.ExecutorPods[2:]
		for i := range f.Snapshot.ExecutorPods {
			e := &f.Snapshot.ExecutorPods[i]
			e.OwnerReferences = nil
			e.Labels[sparkapp.LabelAppSelector] = want
		}
		a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]
		if n := len(a.Drivers[0].Executors); n != 2 || a.Verdict != analysis.Healthy {
			t.Errorf("sparkha=%t: %d executors matched by label %s, verdict %s", sparkha, n, want, a.Verdict)
		}
	}
}

// TestExecutorsOfAFencedDriver: the driver's node is fenced (out of service):
// its executors still running on Ready nodes are flagged, and a live driver's
// are not.
func TestExecutorsOfAFencedDriver(t *testing.T) {
	f := loadFixture(t, "x1-stray-executors")
	f.Snapshot.ExecutorPods = f.Snapshot.ExecutorPods[2:] // only the live generation's
	if a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]; a.Verdict != analysis.Healthy || len(a.Warnings) != 0 {
		t.Fatalf("live driver's executors: %s %q", a.Verdict, a.Warnings)
	}
	n := nodeNamed(&f.Snapshot, "node-b")
	n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeOutOfService, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute})
	// The executors run elsewhere, on a Ready node.
	f.Snapshot.ExecutorPods[0].Spec.NodeName = "node-c"
	c := n.DeepCopy()
	c.Name, c.Spec.Taints = "node-c", nil
	f.Snapshot.Nodes = append(f.Snapshot.Nodes, *c)
	a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]
	if len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0], "executor stream-a41b07c19abf2a1c-exec-1 of driver generation 1 (stream-v8dw6, on fenced node node-b) still runs on Ready node node-c") {
		t.Errorf("verdict %s warnings %q", a.Verdict, a.Warnings)
	}
	if !a.Verdict.NeedsAttention() {
		t.Errorf("verdict %s does not need attention", a.Verdict)
	}
}

// TestExecutorsOfADriverBeingDeleted: a driver deleted on a Ready node a few
// seconds ago is being stopped by its kubelet; its executors are not flagged
// until the deletion has taken longer than a kubelet would.
func TestExecutorsOfADriverBeingDeleted(t *testing.T) {
	for _, tt := range []struct {
		ago  time.Duration
		want bool
	}{{10 * time.Second, false}, {2 * time.Minute, false}, {2*time.Minute + time.Second, true}, {3 * time.Minute, true}} {
		f := loadFixture(t, "x1-stray-executors")
		f.Snapshot.ExecutorPods = f.Snapshot.ExecutorPods[2:]
		drv := &f.Snapshot.DriverPods[0]
		drv.DeletionTimestamp = &metav1.Time{Time: f.Now.Add(-tt.ago)}
		// Ready all along: the capture's node had just registered.
		readySince(nodeNamed(&f.Snapshot, "node-b"), f.Now.Add(-time.Hour))
		a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]
		stray := a.Drivers[0].Executors[0].Stray
		if stray != tt.want || (len(a.Warnings) > 0) != tt.want {
			t.Errorf("driver deleted %s ago on a Ready node: stray %t, warnings %q; want flagged=%t", tt.ago, stray, a.Warnings, tt.want)
		}
	}
}

// TestOrphanExecutorsFoundByLabelOrOwnerName: an executor whose driver pod is gone belongs to
// the app its spark-app-name label names, or else to the app its owner's name (a Job's pod
// name, APP-xxxxx) starts with; with neither it is nobody's orphan.
func TestOrphanExecutorsFoundByLabelOrOwnerName(t *testing.T) {
	for _, tt := range []struct {
		name, label, owner string
		orphans            int
	}{
		{"label and owner name", "stream", "stream-7xk2q", 2},
		{"label only", "stream", "driver-7xk2q", 2},
		{"owner name only", "", "stream-7xk2q", 2},
		{"owner name, the label naming no app", "batch", "stream-7xk2q", 2},
		{"neither", "", "7xk2q", 0},
	} {
		f := loadFixture(t, "x1-stray-executors")
		for i := range f.Snapshot.ExecutorPods[:2] {
			e := &f.Snapshot.ExecutorPods[i]
			e.Labels[sparkapp.LabelAppName] = tt.label
			e.OwnerReferences[0].Name = tt.owner
		}
		if a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]; len(a.OrphanExecutors) != tt.orphans {
			t.Errorf("%s: orphans %s, want %d", tt.name, execLine(a.OrphanExecutors), tt.orphans)
		}
	}
}

// TestExecutorsSortedAndCounted: a generation lists its executors by numeric executor ID, then
// by pod name; a deleted executor counts as Terminating until it is Failed or Succeeded.
func TestExecutorsSortedAndCounted(t *testing.T) {
	f := loadFixture(t, "x1-stray-executors")
	tmpl := f.Snapshot.ExecutorPods[2]
	f.Snapshot.ExecutorPods = nil
	deleted := &metav1.Time{Time: f.Now.Add(-time.Second)}
	for _, x := range []struct {
		name, id string
		phase    corev1.PodPhase
		deleted  bool
	}{
		{"stream-exec-a", "10", corev1.PodRunning, false},
		{"stream-exec-d", "2", corev1.PodFailed, true},
		{"stream-exec-c", "1", corev1.PodRunning, true},
		{"stream-exec-b", "2", corev1.PodRunning, false},
		{"stream-exec-e", "3", corev1.PodSucceeded, true},
	} {
		e := *tmpl.DeepCopy()
		e.Name, e.UID, e.Labels[sparkapp.LabelExecID] = x.name, types.UID(x.name), x.id
		e.Status.Phase = x.phase
		if x.deleted {
			e.DeletionTimestamp = deleted
		}
		f.Snapshot.ExecutorPods = append(f.Snapshot.ExecutorPods, e)
	}
	d := analysis.Analyze(&f.Snapshot, f.Now).Apps[0].Drivers[0]
	var order []string
	for _, x := range d.Executors {
		order = append(order, x.Pod)
	}
	if want := "stream-exec-c stream-exec-b stream-exec-d stream-exec-e stream-exec-a"; strings.Join(order, " ") != want {
		t.Errorf("executors %q, want %q", order, want)
	}
	c := d.ExecutorCounts
	want := map[string]int{"Running": 2, "Terminating": 1, "Failed": 1, "Succeeded": 1}
	if c == nil || c.Total != 5 || !maps.Equal(c.ByPhase, want) {
		t.Errorf("counts %+v, want %v", c, want)
	}
}

// lostExecutorSnapshot is x1's running driver on node-b with its executor exec-1 moved to
// node-c, a copy of node-b; lose changes node-c.
func lostExecutorSnapshot(t *testing.T, lose func(n *corev1.Node)) (analysis.App, *corev1.Node) {
	t.Helper()
	f := loadFixture(t, "x1-stray-executors")
	f.Snapshot.ExecutorPods = f.Snapshot.ExecutorPods[2:] // only the live generation's
	c := nodeNamed(&f.Snapshot, "node-b").DeepCopy()
	c.Name = "node-c"
	lose(c)
	f.Snapshot.Nodes = append(f.Snapshot.Nodes, *c)
	f.Snapshot.ExecutorPods[0].Spec.NodeName = "node-c"
	return analysis.Analyze(&f.Snapshot, f.Now).Apps[0], c
}

// unreachable makes a node what the node lifecycle controller makes of one it lost.
func unreachable(n *corev1.Node) {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == corev1.NodeReady {
			n.Status.Conditions[i].Status = corev1.ConditionUnknown
		}
	}
	n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute})
}

// TestExecutorsOnLostNode: the driver runs on a Ready node, one of its executors is on a lost
// node: its own verdict, naming the executor, the node and the next safe action; failover
// refuses without --node-down, fences and collects with it, and only collects once fenced.
func TestExecutorsOnLostNode(t *testing.T) {
	a, _ := lostExecutorSnapshot(t, unreachable)
	const exec1 = "stream-a41b07c19abf2a1c-exec-1"
	wantReason := "driver stream-v8dw6 runs on node-b, but executor " + exec1 + " of it is on lost node node-c (Ready=Unknown, tainted node.kubernetes.io/unreachable:NoExecute): " +
		"Spark counts it as running until its pod is gone from the API, asks for no other executor, and tasks wait"
	wantNext := "if node-c comes back, recovery completes by itself; once you know it is powered off, or cut from its storage and network (a network partition is not enough): kubectl sparkha failover stream -n f2 --node-down"
	if a.Verdict != analysis.ExecutorsOnLostNode || a.Reason != wantReason || a.NextAction != wantNext || a.LostNode != "node-c" {
		t.Fatalf("got %s (lost node %q):\n %q\n %q\nwant\n %q\n %q", a.Verdict, a.LostNode, a.Reason, a.NextAction, wantReason, wantNext)
	}
	if !a.Verdict.NeedsAttention() || a.LostNodeEvidence == nil || a.LostNodeEvidence.Node != "node-c" {
		t.Errorf("needs attention %t, evidence %+v", a.Verdict.NeedsAttention(), a.LostNodeEvidence)
	}
	if x := a.Drivers[0].Executors[0]; x.Pod != exec1 || !x.NodeLost || x.NodeFenced || x.UID == "" {
		t.Errorf("executor %+v", x)
	}

	p := analysis.Decide(a, analysis.Operator{})
	if p.Outcome != analysis.Refuse || !strings.HasPrefix(p.Message, "refusing to fence node node-c: executor "+exec1+" of f2/stream may still be running there (Unknown).") ||
		!strings.HasSuffix(p.Message, "kubectl sparkha failover stream -n f2 --node-down") {
		t.Errorf("without --node-down: %s %q", p.Outcome, p.Message)
	}
	p = analysis.Decide(a, analysis.Operator{NodeDown: true})
	if p.Outcome != analysis.Act || len(p.Steps) != 2 || p.Steps[0].Action != analysis.FenceNode || p.Steps[0].Node != "node-c" || p.Steps[0].Pod != "" ||
		p.Steps[1].Action != analysis.CollectExecutor || p.Steps[1].Pod != exec1 || p.Steps[1].PodUID != a.Drivers[0].Executors[0].UID ||
		strings.Join(p.Waits, ",") != analysis.WaitExecutorsGone {
		t.Errorf("with --node-down: %s %+v waits %v", p.Outcome, p.Steps, p.Waits)
	}
	if !strings.Contains(p.Steps[0].Why, "force-delete executor "+exec1+", so that Spark sees it gone and asks for others; the driver stays") {
		t.Errorf("fence: %q", p.Steps[0].Why)
	}
	// The fence's audit says what the cluster shows of the machine, when it shows it down.
	down := a
	down.LostNodeEvidence = &analysis.NodeEvidence{Node: "node-c", Down: "its Lease was last renewed 5m ago"}
	if p := analysis.Decide(down, analysis.Operator{NodeDown: true}); p.Outcome != analysis.Act || !strings.HasSuffix(p.Steps[0].Why, "; the cluster agrees: its Lease was last renewed 5m ago") {
		t.Errorf("evidence of death: %s %+v", p.Outcome, p.Steps)
	}
	// Every executor on the node gone since the inspection: nothing to fence for them.
	gone := a
	gone.Drivers = append([]analysis.Driver(nil), a.Drivers...)
	gone.Drivers[0].Executors = nil
	if p := analysis.Decide(gone, analysis.Operator{NodeDown: true}); p.Outcome != analysis.Refuse || len(p.Steps) != 0 ||
		!strings.Contains(p.Message, "but no executor of the running driver is on node-c any more; rerun to decide again") {
		t.Errorf("no executor left: %s %q", p.Outcome, p.Message)
	}

	// Fenced by anyone: Kubernetes deletes it; failover collects it at once on the operator's word.
	a, _ = lostExecutorSnapshot(t, func(n *corev1.Node) {
		unreachable(n)
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeOutOfService, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute})
	})
	if a.Verdict != analysis.ExecutorsOnLostNode || !strings.Contains(a.Reason, "node node-c of executor "+exec1+" is fenced") || a.NextAction != "kubectl sparkha failover stream -n f2" {
		t.Errorf("fenced: %s %q %q", a.Verdict, a.Reason, a.NextAction)
	}
	if p := analysis.Decide(a, analysis.Operator{NodeDown: true}); p.Outcome != analysis.Act || len(p.Steps) != 1 || p.Steps[0].Action != analysis.CollectExecutor {
		t.Errorf("fenced, --node-down: %s %+v", p.Outcome, p.Steps)
	}
	if p := analysis.Decide(a, analysis.Operator{}); p.Outcome != analysis.Act || len(p.Steps) != 0 || len(p.Waits) != 1 {
		t.Errorf("fenced: %s %+v %v", p.Outcome, p.Steps, p.Waits)
	}

	// A node that is only NotReady (its kubelet reported it): the same verdict, but evidence of
	// life: no fence on the operator's word alone.
	a, _ = lostExecutorSnapshot(t, func(n *corev1.Node) {
		for i := range n.Status.Conditions {
			if n.Status.Conditions[i].Type == corev1.NodeReady {
				n.Status.Conditions[i].Status = corev1.ConditionFalse
			}
		}
	})
	if a.Verdict != analysis.ExecutorsOnLostNode || a.LostNodeEvidence == nil || a.LostNodeEvidence.Alive == "" {
		t.Fatalf("NotReady: %s evidence %+v", a.Verdict, a.LostNodeEvidence)
	}
	if p := analysis.Decide(a, analysis.Operator{NodeDown: true}); p.Outcome != analysis.Refuse || !strings.HasPrefix(p.Message, "refusing to fence node node-c: ") {
		t.Errorf("alive: %s %q", p.Outcome, p.Message)
	}
	if p := analysis.Decide(a, analysis.Operator{NodeDown: true, IgnoreNodeEvidence: true}); p.Outcome != analysis.Act || p.Steps[0].Action != analysis.FenceNode ||
		!strings.HasSuffix(p.Steps[0].Why, "; evidence that the machine runs ignored on the operator's word: "+a.LostNodeEvidence.Alive) {
		t.Errorf("alive, ignored: %s %+v", p.Outcome, p.Steps)
	}

	// The executor's node Ready: nothing to do.
	a, _ = lostExecutorSnapshot(t, func(n *corev1.Node) {})
	if a.Verdict != analysis.Healthy {
		t.Errorf("executor on a Ready node: %s %q", a.Verdict, a.Reason)
	}
}

// Several executors on lost nodes: the reason names every one on the first lost node (sorted),
// and the other lost nodes.
func TestExecutorsOnSeveralLostNodes(t *testing.T) {
	f := loadFixture(t, "x1-stray-executors")
	f.Snapshot.ExecutorPods = f.Snapshot.ExecutorPods[2:] // only the live generation's
	base := f.Snapshot.ExecutorPods[0]
	for i, node := range []string{"node-c", "node-c", "node-d"} {
		x := *base.DeepCopy()
		x.Name, x.UID = fmt.Sprintf("stream-a41b07c19abf2a1c-exec-%d", i+1), types.UID(fmt.Sprintf("exec-uid-%d", i+1))
		x.Labels[sparkapp.LabelExecID] = strconv.Itoa(i + 1)
		x.Spec.NodeName = node
		if i == 0 {
			f.Snapshot.ExecutorPods[0] = x
		} else {
			f.Snapshot.ExecutorPods = append(f.Snapshot.ExecutorPods, x)
		}
	}
	for _, name := range []string{"node-c", "node-d"} {
		n := nodeNamed(&f.Snapshot, "node-b").DeepCopy()
		n.Name = name
		unreachable(n)
		f.Snapshot.Nodes = append(f.Snapshot.Nodes, *n)
	}
	a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]
	want := "driver stream-v8dw6 runs on node-b, but executors stream-a41b07c19abf2a1c-exec-1, stream-a41b07c19abf2a1c-exec-2 of it are on lost node node-c (Ready=Unknown, tainted node.kubernetes.io/unreachable:NoExecute): " +
		"Spark counts them as running until their pods are gone from the API, asks for no other executor, and tasks wait; executors are on other lost nodes too: node-d"
	if a.Verdict != analysis.ExecutorsOnLostNode || a.Reason != want || a.LostNode != "node-c" {
		t.Errorf("got %s on %s:\n %q\nwant\n %q", a.Verdict, a.LostNode, a.Reason, want)
	}
}

// A verdict the app already has keeps precedence: executors on a lost node are then a warning,
// with their own next action.
func TestExecutorsOnLostNodeBehindAnotherVerdict(t *testing.T) {
	f := loadFixture(t, "x1-stray-executors") // an earlier generation's stray executors too
	c := nodeNamed(&f.Snapshot, "node-b").DeepCopy()
	c.Name = "node-c"
	unreachable(c)
	f.Snapshot.Nodes = append(f.Snapshot.Nodes, *c)
	f.Snapshot.ExecutorPods[2].Spec.NodeName = "node-c"
	a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]
	want := "driver stream-v8dw6 runs on node-b, but executor " + f.Snapshot.ExecutorPods[2].Name + " of it is on lost node node-c (Ready=Unknown, tainted node.kubernetes.io/unreachable:NoExecute): " +
		"Spark counts it as running until its pod is gone from the API, asks for no other executor, and tasks wait; next: if node-c comes back, recovery completes by itself; " +
		"once you know it is powered off, or cut from its storage and network (a network partition is not enough): kubectl sparkha failover stream -n f2 --node-down"
	if a.Verdict != analysis.StrayExecutors || !slices.Contains(a.Warnings, want) {
		t.Errorf("got %s, warnings:\n %q\nwant among them\n %q", a.Verdict, a.Warnings, want)
	}
}
