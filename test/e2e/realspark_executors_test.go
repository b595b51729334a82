package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

// TestRealSparkExecutorOnLostNode: Spark's own streaming query (the newest line), its driver on
// node-a and its executor on another machine, which dies. The executor's evicted pod stays
// Running in the API, Spark asks for no other executor and the query commits nothing: inspect
// says ExecutorsOnLostNode (exit 3), naming the executor and the node; failover --node-down
// fences the node and collects the executor, the driver stays, Spark starts a new executor on
// the third machine, and the query commits again.
func TestRealSparkExecutorOnLostNode(t *testing.T) {
	version := newestSparkLine
	const ns = "execlost"
	e, image := startRealSpark(t, sandbox.Options{Nodes: []string{"node-a", "node-b", "node-c"}}, version, ns)
	// The executors may run on node-b or node-c, never beside the driver.
	for _, n := range []string{"node-b", "node-c"} {
		patch := []byte(`{"metadata":{"labels":{"sparkha.test/pool":"executors"}}}`)
		if _, err := e.client().CoreV1().Nodes().Patch(ctx, n, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	volume := e.submitStream(ns, "clicks", image, false,
		"--conf", "spark.kubernetes.driver.node.selector.kubernetes.io/hostname=node-a",
		"--conf", "spark.kubernetes.executor.node.selector.sparkha.test/pool=executors")
	query := func() truth.Query { return e.streamQuery(volume) }
	e.eventually(3*time.Minute, "three batches committed", func() (bool, string) {
		q := query()
		return q.LastCommit() >= 2, fmt.Sprintf("commits %v", q.Commits)
	})
	driver := e.runningDriver(ns, "clicks")
	execs, err := e.client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "spark-role=executor"})
	if err != nil || len(execs.Items) != 1 {
		t.Fatalf("executors: %v %v", describePods(execs.Items), err)
	}
	ex := execs.Items[0]
	lost := ex.Spec.NodeName
	if lost == driver.Spec.NodeName {
		t.Fatalf("executor %s on the driver's node %s", ex.Name, lost)
	}

	e.killNode(lost)
	before := query().LastCommit()
	// The stall: Spark still counts the executor's pod, so it asks for no other.
	e.holds(30*time.Second, "no batch committed while the executor's pod is on the dead machine", func() (bool, string) {
		q := query()
		return q.LastCommit() == before, fmt.Sprintf("commits %v (last before: %d)", q.Commits, before)
	})
	if p, err := e.pod(ns, ex.Name); err != nil || p.Status.Phase != corev1.PodRunning {
		t.Fatalf("executor pod %s after its machine died: %v %v", ex.Name, p, err)
	}

	out, stderr, code := e.cli("inspect", "clicks", "-n", ns, "-o", "json")
	var rep analysis.Report
	if err := json.Unmarshal([]byte(out), &rep); code != 3 || err != nil || len(rep.Apps) != 1 {
		t.Fatalf("inspect: exit %d, %v\n%s\n%s", code, err, out, stderr)
	}
	a := rep.Apps[0]
	if a.Verdict != analysis.ExecutorsOnLostNode || a.LostNode != lost || !strings.Contains(a.Reason, "executor "+ex.Name+" of it is on lost node "+lost) ||
		!strings.HasSuffix(a.NextAction, "kubectl sparkha failover clicks -n "+ns+" --node-down") {
		t.Fatalf("inspect: %s (lost node %q): %s; next: %s", a.Verdict, a.LostNode, a.Reason, a.NextAction)
	}
	t.Logf("inspect: %s: %s", a.Verdict, a.Reason)

	began := time.Now()
	out, stderr, code = e.cli("failover", "clicks", "-n", ns, "--node-down", "--yes", "--timeout", "2m")
	if code != 0 || !strings.Contains(out, "failover of "+ns+"/clicks complete: its executors on "+lost+" are gone; the driver runs on") ||
		!strings.Contains(stderr, "collect executor "+ex.Name+" from fenced node "+lost) {
		t.Fatalf("failover --node-down: exit %d\n%s\n%s", code, out, stderr)
	}
	fenced := time.Since(began)
	took := e.eventually(2*time.Minute, "two more batches committed after the fence", func() (bool, string) {
		q := query()
		return q.LastCommit() >= before+2, fmt.Sprintf("commits %v (before the fence: up to %d)", q.Commits, before)
	})
	t.Logf("Spark %s: stalled at batch %d for 30 s and more; failover took %.1fs; two more batches %.1fs after it", version, before, fenced.Seconds(), took.Seconds())

	// The driver is the same; its new executor runs on the machine that is left.
	if d := e.runningDriver(ns, "clicks"); d.UID != driver.UID {
		t.Errorf("driver %s (%s), want %s (%s) untouched", d.Name, d.UID, driver.Name, driver.UID)
	}
	execs, err = e.client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "spark-role=executor"})
	if err != nil || len(execs.Items) != 1 || execs.Items[0].Name == ex.Name || execs.Items[0].Spec.NodeName == lost || execs.Items[0].Spec.NodeName == driver.Spec.NodeName {
		t.Errorf("executors after the failover: %v %v", describePods(execs.Items), err)
	}
	if err := query().Check(); err != nil {
		t.Error(err)
	}
	if _, _, code := e.cli("inspect", "clicks", "-n", ns); code != 0 {
		t.Errorf("inspect after the failover: exit %d", code)
	}
}
