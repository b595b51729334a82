package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/operators"
)

// operatorCase is one Spark operator as the origin test drives it.
type operatorCase struct {
	gvr schema.GroupVersionResource
	// spec is the SparkApplication's spec; resubmit whether its restart policy starts a new
	// driver after the one on the lost node.
	spec func(resubmit bool) map[string]any
	// driverPod names the driver pod of the attempt-th driver (1 for the first).
	driverPod func(app string, attempt int) string
	// state reads the SparkApplication's state.
	state func(u *unstructured.Unstructured) string
	// running is the state of an app whose driver runs; want the SparkApplication of the app
	// that resubmits while its first driver is on the lost node.
	running string
	want    analysis.OperatorApp
	// never is why the app with policy Never is refused.
	never string
}

var operatorCases = map[string]operatorCase{
	"kubeflow": {
		gvr: operators.KubeflowResource,
		spec: func(resubmit bool) map[string]any {
			policy := map[string]any{"type": "Never"}
			if resubmit {
				policy = map[string]any{"type": "OnFailure", "onFailureRetries": int64(3), "onFailureRetryInterval": int64(1)}
			}
			return map[string]any{"type": "Scala", "mode": "cluster", "image": "spark:4.0.0", "sparkVersion": "4.0.0",
				"mainClass": "org.example.Stream", "mainApplicationFile": "local:///opt/app/stream.jar",
				"sparkConf": map[string]any{"spark.executor.instances": "1"}, "restartPolicy": policy,
				"driver": map[string]any{}, "executor": map[string]any{}}
		},
		driverPod: func(app string, _ int) string { return app + "-driver" },
		state: func(u *unstructured.Unstructured) string {
			s, _, _ := unstructured.NestedString(u.Object, "status", "applicationState", "state")
			return s
		},
		running: "RUNNING",
		want: analysis.OperatorApp{APIVersion: "sparkoperator.k8s.io/v1beta2", Name: "stream", State: "RUNNING", RestartPolicy: "OnFailure",
			RetriesLeft: ptr.To[int64](3), Resubmits: true, Why: "restart policy OnFailure, onFailureRetries 3, 1 attempts so far: 3 retries left"},
		never: "restart policy Never: the operator starts no new driver when this one fails",
	},
	"apache": {
		gvr: operators.ApacheResource,
		spec: func(resubmit bool) map[string]any {
			rc := map[string]any{"restartPolicy": "Never"}
			if resubmit {
				rc = map[string]any{"restartPolicy": "OnFailure", "maxRestartAttempts": int64(2), "restartBackoffMillis": int64(1000)}
			}
			return map[string]any{"mainClass": "org.example.Stream", "jars": "local:///opt/app/stream.jar",
				"runtimeVersions":        map[string]any{"sparkVersion": "4.0.0"},
				"sparkConf":              map[string]any{"spark.executor.instances": "1", "spark.kubernetes.container.image": "apache/spark:4.0.0"},
				"applicationTolerations": map[string]any{"restartConfig": rc}}
		},
		driverPod: func(app string, attempt int) string { return fmt.Sprintf("%s-%d-driver", app, attempt-1) },
		state: func(u *unstructured.Unstructured) string {
			s, _, _ := unstructured.NestedString(u.Object, "status", "currentState", "currentStateSummary")
			return s
		},
		running: "RunningHealthy",
		want: analysis.OperatorApp{APIVersion: "spark.apache.org/v1", Name: "stream", State: "RunningHealthy", RestartPolicy: "OnFailure",
			RetriesLeft: ptr.To[int64](2), Resubmits: true, Why: "restart policy OnFailure, maxRestartAttempts 2, restartCounter 0: 2 restarts left"},
		never: "restart policy Never: the operator does not restart an attempt that ended Failed",
	},
}

// TestOriginKubeflowOperator and TestOriginApacheOperator: two apps of the operator on one
// node, "stream" whose restart policy resubmits and "batch" with policy Never; the node is
// killed. inspect shows each SparkApplication's state and retries; failover refuses without
// --node-down, and for batch refuses even with it, naming migrate, with nothing fenced; then
// failover --node-down --yes --wait fences for stream, its operator starts the next driver,
// which runs; the ground truth never has two drivers of one app.
func TestOriginKubeflowOperator(t *testing.T) { testOriginOperator(t, "kubeflow") }

func TestOriginApacheOperator(t *testing.T) { testOriginOperator(t, "apache") }

func testOriginOperator(t *testing.T, name string) {
	oc := operatorCases[name]
	e := start(t, sandbox.Options{Nodes: []string{"node-a", "node-b"}, Operators: true})
	const stream, batch = "stream", "batch"
	nsOf := map[string]string{stream: name + "-stream", batch: name + "-batch"}
	// Both first drivers on node-a.
	e.kubectl("cordon", "node-b")
	for app, resubmit := range map[string]bool{stream: true, batch: false} {
		e.namespace(nsOf[app])
		e.createSparkApplication(oc, nsOf[app], app, oc.spec(resubmit))
	}
	olds := map[string]*corev1.Pod{}
	for _, app := range []string{stream, batch} {
		olds[app] = e.operatorDriverRunning(oc, nsOf[app], app, oc.driverPod(app, 1))
		if olds[app].Spec.NodeName != "node-a" {
			t.Fatalf("%s: driver on %s, want node-a", app, olds[app].Spec.NodeName)
		}
	}
	e.kubectl("uncordon", "node-b")
	e.killNode("node-a")
	for _, app := range []string{stream, batch} {
		e.waitEvicted(nsOf[app], olds[app].Name)
	}
	// The operators see the evicted drivers' last phase, Running: nothing moves.
	e.holds(3*time.Second, "no new driver while the old driver pods exist", func() (bool, string) {
		pods := e.driverPods(nsOf[stream])
		return len(pods) == 1 && pods[0].UID == olds[stream].UID, describePods(pods)
	})

	// inspect: the SparkApplication's state, restart policy and retries.
	got := e.verdict(nsOf[stream], stream, name+"-stuck", analysis.StuckTerminating)
	want := oc.want
	if got.Kind != sparkapp.KindSparkApplication || got.SparkApplication == nil || *got.SparkApplication.RetriesLeft != *want.RetriesLeft {
		t.Fatalf("inspect: kind %s, SparkApplication %+v", got.Kind, got.SparkApplication)
	}
	got.SparkApplication.RetriesLeft = want.RetriesLeft
	if *got.SparkApplication != want {
		t.Fatalf("inspect SparkApplication:\n%+v\nwant\n%+v", *got.SparkApplication, want)
	}
	out, _, code := e.cli("inspect", stream, "-n", nsOf[stream])
	wantCell := fmt.Sprintf("%s (OnFailure, %d left)", want.State, *want.RetriesLeft)
	if code != 3 || !strings.Contains(out, "SPARKAPP") || !strings.Contains(out, wantCell) {
		t.Fatalf("inspect table (exit %d) lacks %q:\n%s", code, wantCell, out)
	}
	never := e.verdict(nsOf[batch], batch, name+"-never", analysis.StuckTerminating)
	migrate := fmt.Sprintf("kubectl sparkha migrate sparkapplication/%s -n %s --apply", batch, nsOf[batch])
	resubmit := fmt.Sprintf("kubectl sparkha failover %s -n %s --node-down --resubmit", batch, nsOf[batch])
	if never.SparkApplication == nil || never.SparkApplication.Resubmits || never.SparkApplication.Why != oc.never ||
		never.NextAction != "its operator will not start a new driver after a fence ("+oc.never+"): once node-a is powered off or cut from its storage and network (a network partition is not enough), "+
			"relaunch it as a sparkha Job: "+resubmit+"; if node-a comes back first: "+migrate {
		t.Fatalf("inspect batch: %+v, next %q", never.SparkApplication, never.NextAction)
	}

	// failover refuses without --node-down; for batch even with it, naming migrate.
	if out, stderr, code := e.cli("failover", stream, "-n", nsOf[stream], "--yes"); code != 4 ||
		!strings.Contains(out+stderr, fmt.Sprintf("kubectl sparkha failover %s -n %s --node-down", stream, nsOf[stream])) {
		t.Fatalf("failover without --node-down: exit %d\n%s%s", code, out, stderr)
	}
	out, stderr, code := e.cli("failover", batch, "-n", nsOf[batch], "--node-down", "--yes")
	wantMsg := fmt.Sprintf("refusing to fail over %s/%s: its operator will not start a new driver after the fence (%s), so a fence would only stop the app. "+
		"Add --resubmit to relaunch it as a sparkha Job once the old driver is gone (the SparkApplication is deleted, its spec kept on the Job): %s; or, if node-a comes back first: %s",
		nsOf[batch], batch, oc.never, resubmit, migrate)
	if code != 4 || !strings.Contains(out+stderr, wantMsg) {
		t.Fatalf("failover --node-down of the Never app: exit %d, want the refusal\n%s\ngot\n%s%s", code, wantMsg, out, stderr)
	}
	if e.nodeHasFence("node-a") || len(e.failoverEvents(nsOf[batch])) != 0 {
		t.Fatalf("refused, yet node-a fenced (%t) or audit events %v", e.nodeHasFence("node-a"), e.failoverEvents(nsOf[batch]))
	}

	// failover --node-down fences for stream and waits for the operator's next driver.
	out, stderr, code = e.cli("failover", stream, "-n", nsOf[stream], "--node-down", "--yes", "--wait", "--timeout", "120s")
	if code != 0 || !strings.Contains(out, "then its Spark operator starts the next driver: "+want.Why) {
		t.Fatalf("failover --node-down: exit %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}
	t.Logf("failover:\n%s%s", out, stderr)
	if !e.nodeHasFence("node-a") || !strings.Contains(stderr, analysis.WaitNewRunning) {
		t.Fatalf("after failover: fenced %t, progress %s", e.nodeHasFence("node-a"), stderr)
	}
	next := oc.driverPod(stream, 2)
	repl := e.operatorDriverRunning(oc, nsOf[stream], stream, next)
	if repl.UID == olds[stream].UID || repl.Spec.NodeName != "node-b" {
		t.Fatalf("next driver %s (%s) on %s", repl.Name, repl.UID, repl.Spec.NodeName)
	}
	after := e.verdict(nsOf[stream], stream, name+"-recovered", analysis.Healthy)
	if after.SparkApplication == nil || after.SparkApplication.State != oc.running || *after.SparkApplication.RetriesLeft != *want.RetriesLeft-1 {
		t.Fatalf("after failover: %+v", after.SparkApplication)
	}
	for _, app := range []string{stream, batch} {
		e.noOverlap(nsOf[app])
	}
	runs := e.truth(nsOf[stream])
	if len(runs) != 2 || runs[0].Pod != olds[stream].Name || runs[1].Pod != next || !runs[0].End.Before(runs[1].Start) {
		t.Fatalf("ground truth of %s: %v", stream, runs)
	}

	// batch, whose operator would not start a new driver: relaunched as a sparkha Job. node-a
	// is fenced already; the SparkApplication is deleted (its spec kept on the Job) before the
	// Job runs.
	out, stderr, code = e.cli("failover", batch, "-n", nsOf[batch], "--node-down", "--resubmit", "--yes", "--wait", "--timeout", "120s")
	if code != 0 || !strings.Contains(out, "failover of "+nsOf[batch]+"/"+batch+" complete: resubmitted as job.batch/"+batch+", a new driver runs") {
		t.Fatalf("failover --resubmit of the Never app: exit %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}
	if _, err := e.dynamic().Resource(oc.gvr).Namespace(nsOf[batch]).Get(ctx, batch, metav1.GetOptions{}); !isNotFound(err) {
		t.Errorf("the SparkApplication %s still exists (%v)", batch, err)
	}
	job, err := e.client().BatchV1().Jobs(nsOf[batch]).Get(ctx, batch, metav1.GetOptions{})
	if err != nil || !strings.Contains(job.Annotations["sparkha.io/migrated-from"], `"sparkApplication":{"apiVersion":"`+oc.gvr.GroupVersion().String()+`","name":"batch"`) {
		t.Fatalf("the Job does not record the SparkApplication it replaces (%v): %v", err, job.Annotations)
	}
	e.verdict(nsOf[batch], batch, name+"-resubmitted", analysis.Healthy)
	e.noOverlap(nsOf[batch])
}

// createSparkApplication creates a SparkApplication of the operator oc.
func (e *env) createSparkApplication(oc operatorCase, ns, name string, spec map[string]any) {
	e.t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": oc.gvr.GroupVersion().String(), "kind": "SparkApplication",
		"metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec,
	}}
	if _, err := e.dynamic().Resource(oc.gvr).Namespace(ns).Create(ctx, u, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

// operatorDriverRunning waits until the driver pod named pod runs and the SparkApplication says
// so, and returns the pod.
func (e *env) operatorDriverRunning(oc operatorCase, ns, app, pod string) *corev1.Pod {
	e.t.Helper()
	var p *corev1.Pod
	e.eventually(60*time.Second, "driver "+pod+" Running and SparkApplication "+app+" "+oc.running, func() (bool, string) {
		var err error
		if p, err = e.pod(ns, pod); err != nil {
			return false, err.Error()
		}
		u, err := e.dynamic().Resource(oc.gvr).Namespace(ns).Get(ctx, app, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		st, _ := json.Marshal(u.Object["status"])
		return p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && oc.state(u) == oc.running, fmt.Sprintf("pod %s; status %s", p.Status.Phase, st)
	})
	return p
}

// driverPods are the driver pods of ns.
func (e *env) driverPods(ns string) []corev1.Pod {
	e.t.Helper()
	list, err := e.client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sparkapp.LabelSparkRole + "=" + sparkapp.RoleDriver})
	if err != nil {
		e.t.Fatal(err)
	}
	return list.Items
}
