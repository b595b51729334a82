package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/failover"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/cloud"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

const cloudShutdownTaint = "node.cloudprovider.kubernetes.io/shutdown"

// machineDownBy is who powered node's machine off, from its machine-down record in the ground
// truth ("" when it never went down).
func (e *env) machineDownBy(node string) string {
	e.t.Helper()
	f, err := os.Open(filepath.Join(e.sb.TruthDir(), node+".jsonl"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	by := ""
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var en truth.Entry
		if json.Unmarshal(sc.Bytes(), &en) == nil && en.Event == truth.MachineDown {
			by = en.Reason
		}
	}
	return by
}

// TestEvidenceCloudShutdown: with the cloud node lifecycle controller, a killed machine's node
// gets the cloud's shutdown taint and a partitioned one does not; inspect's evidence says the
// killed machine is down, naming the taint, and makes the fence the next action outright;
// failover --node-down's plan says the cluster agrees, fences, and the new driver runs, never
// beside the old one. Repaired, the node loses the shutdown taint and release lifts the fence.
func TestEvidenceCloudShutdown(t *testing.T) {
	e := start(t, sandbox.Options{Nodes: []string{"node-a", "node-b", "node-c"}, Cloud: true})
	const ns, app = "c1", "stream"
	e.namespace(ns)
	e.submitStreaming(ns, app)
	old := e.runningDriver(ns, app)
	lost := old.Spec.NodeName
	var others []string
	for _, n := range []string{"node-a", "node-b", "node-c"} {
		if n != lost {
			others = append(others, n)
		}
	}
	cut := others[0]
	must(t, e.sb.Partition(cut))
	e.killNode(lost)
	e.waitNodeLost(cut)
	e.eventually(20*time.Second, "the cloud's shutdown taint on the killed machine's node "+lost, func() (bool, string) {
		n := e.node(lost)
		return taint(n, cloudShutdownTaint, corev1.TaintEffectNoSchedule) != nil, fmt.Sprint(n.Spec.Taints)
	})
	// The controller looks every second: a partitioned machine runs, so its node stays untainted.
	e.holds(5*time.Second, "no shutdown taint on partitioned "+cut, func() (bool, string) {
		n := e.node(cut)
		return !slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == cloudShutdownTaint }), fmt.Sprint(n.Spec.Taints)
	})

	e.waitEvicted(ns, old.Name)
	got := e.verdict(ns, app, "c1-cloud-shutdown", analysis.StuckTerminating)
	ev := got.LostNodeEvidence
	wantDown := "the cloud provider reports the instance shut down (" + cloudShutdownTaint + ")"
	if got.LostNode != lost || ev == nil || !ev.CloudShutdown || ev.Down != wantDown || ev.Alive != "" ||
		got.NextAction != fmt.Sprintf("%s is down (%s): kubectl sparkha failover %s -n %s --node-down", lost, wantDown, app, ns) {
		t.Fatalf("inspect: lost node %q, evidence %+v, next %q", got.LostNode, ev, got.NextAction)
	}

	stdout, stderr, code := e.cli("failover", app, "-n", ns, "--node-down", "--yes", "--timeout", "90s")
	if code != 0 || !strings.Contains(stdout, "What the cluster says of node "+lost+": ") ||
		!strings.Contains(stdout, "cloud shutdown taint set; evidence it is down: "+wantDown) ||
		!strings.Contains(stdout, "; the cluster agrees: "+wantDown) {
		t.Fatalf("failover --node-down: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	t.Logf("plan:\n%s", stdout)
	var fenceAudit failover.Audit
	if err := json.Unmarshal([]byte(e.node(lost).Annotations[failover.AuditAnnotation]), &fenceAudit); err != nil ||
		fenceAudit.Action != analysis.FenceNode || !strings.HasSuffix(fenceAudit.Why, "the cluster agrees: "+wantDown) {
		t.Errorf("node audit annotation: %+v (%v)", fenceAudit, err)
	}
	repl, pods := e.replacement(ns, app, old.Name)
	if repl == nil || repl.Status.Phase != corev1.PodRunning || len(pods) != 1 || repl.Spec.NodeName != others[1] {
		t.Fatalf("after failover (want the new driver on %s): %s", others[1], describePods(pods))
	}
	e.noOverlap(ns)
	if n := e.node(cut); slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == cloudShutdownTaint }) {
		t.Fatalf("partitioned %s got the shutdown taint: %v", cut, n.Spec.Taints)
	}

	// Repaired: Ready again, the controller lifts its taint; release lifts sparkha's fence.
	must(t, e.sb.Rejoin(cut))
	must(t, e.sb.Restart(ctx, lost))
	e.eventually(20*time.Second, "the shutdown taint lifted from "+lost, func() (bool, string) {
		n := e.node(lost)
		return !slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == cloudShutdownTaint }), fmt.Sprint(n.Spec.Taints)
	})
	if out, stderr, code := e.cli("release", lost); code != 0 || strings.TrimSpace(out) != "node/"+lost+" released" {
		t.Fatalf("release: exit %d\n%s%s", code, out, stderr)
	}
	e.noOverlap(ns)
}

// TestEvidenceFenceAgentsRemediation: a FenceAgentsRemediation (strategy OutOfServiceTaint)
// created for the partitioned node of the driver, as Node Healthcheck would: the simulated
// operator taints the node, powers the machine off, sets FenceAgentActionSucceeded, then taints
// it out-of-service and sets Succeeded. inspect's evidence names the remediation; failover
// --node-down adds no fence of its own (the node is fenced already), completes, and the new
// driver runs, never beside the old one. Repaired, release refuses to lift the operator's taint;
// deleting the remediation does.
func TestEvidenceFenceAgentsRemediation(t *testing.T) {
	e := start(t, sandbox.Options{Nodes: []string{"node-a", "node-b"}, Cloud: true})
	const ns, app = "d1", "stream"
	e.namespace(ns)
	e.namespace("medik8s")
	e.submitStreaming(ns, app)
	old := e.runningDriver(ns, app)
	lost := old.Spec.NodeName
	must(t, e.sb.Partition(lost))
	e.waitNodeLost(lost)
	if got, _ := e.inspectCLI(ns, app); got.LostNodeEvidence == nil || got.LostNodeEvidence.Down != "" || len(got.LostNodeEvidence.Remediations) != 0 {
		t.Fatalf("before any remediation: %+v", got.LostNodeEvidence)
	}

	far := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "fence-agents-remediation.medik8s.io/v1alpha1", "kind": "FenceAgentsRemediation",
		"metadata": map[string]any{"name": lost, "namespace": "medik8s"},
		"spec": map[string]any{"agent": "fence_ipmilan", "remediationStrategy": "OutOfServiceTaint",
			"sharedparameters": map[string]any{"--action": "off"}},
	}}
	farClient := e.dynamic().Resource(cloud.FARResource).Namespace("medik8s")
	if _, err := farClient.Create(ctx, far, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Between the fence agent's success and the pod garbage collector's next pass (every 20 s)
	// over the out-of-service node, the old driver is still there and inspect says why it may go.
	var got analysis.App
	e.eventually(40*time.Second, "inspect's evidence naming the remediation", func() (bool, string) {
		got, _ = e.inspectCLI(ns, app)
		ev := got.LostNodeEvidence
		return ev != nil && strings.Contains(ev.Down, "FenceAgentsRemediation medik8s/"+lost+": the fence agent powered the machine off or rebooted it at "),
			fmt.Sprintf("%s %s: %+v", got.Verdict, got.Reason, ev)
	})
	t.Logf("inspect: %s — %s; evidence: %+v", got.Verdict, got.Reason, got.LostNodeEvidence)
	if rs := got.LostNodeEvidence.Remediations; len(rs) != 1 || !rs[0].Fenced || rs[0].Kind != "FenceAgentsRemediation" || rs[0].Name != lost {
		t.Fatalf("remediations in the evidence: %+v", rs)
	}
	if by := e.machineDownBy(lost); by != "fence agent of FenceAgentsRemediation medik8s/"+lost || e.sb.MachineRunning(lost) {
		t.Fatalf("machine %s: powered off by %q, running %t", lost, by, e.sb.MachineRunning(lost))
	}
	e.eventually(20*time.Second, "the remediation finished", func() (bool, string) {
		u, err := farClient.Get(ctx, lost, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		var states []string
		for _, c := range conds {
			m := c.(map[string]any)
			states = append(states, fmt.Sprintf("%s=%s", m["type"], m["status"]))
		}
		s := strings.Join(states, ",")
		return s == "Processing=False,FenceAgentActionSucceeded=True,Succeeded=True", s
	})
	n := e.node(lost)
	if e.outOfService(lost) != 1 || taint(n, cloud.FARTaintKey, corev1.TaintEffectNoSchedule) == nil || n.Annotations[failover.AuditAnnotation] != "" {
		t.Fatalf("node %s after the remediation: taints %v, annotations %v", lost, n.Spec.Taints, n.Annotations)
	}

	stdout, stderr, code := e.cli("failover", app, "-n", ns, "--node-down", "--yes", "--timeout", "90s")
	if code != 0 || strings.Contains(stdout, "fence node") {
		t.Fatalf("failover --node-down: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	t.Logf("failover:\n%s%s", stdout, stderr)
	for _, ev := range e.failoverEvents(ns) {
		if ev.Reason == "FailoverFencedNode" {
			t.Fatalf("failover fenced a node the remediation fenced: %s", ev.Message)
		}
	}
	if e.outOfService(lost) != 1 || e.node(lost).Annotations[failover.AuditAnnotation] != "" {
		t.Fatalf("node %s after failover: taints %v, audit %q", lost, e.node(lost).Spec.Taints, e.node(lost).Annotations[failover.AuditAnnotation])
	}
	// The pod garbage collector may have collected the old driver before failover ran, which
	// then had nothing to do: the new driver runs soon after either way.
	e.eventually(60*time.Second, "the new driver Running", func() (bool, string) {
		repl, pods := e.replacement(ns, app, old.Name)
		return repl != nil && repl.Status.Phase == corev1.PodRunning && len(pods) == 1, describePods(pods)
	})
	e.noOverlap(ns)

	// Repaired: the out-of-service taint is the remediation's, not sparkha's.
	must(t, e.sb.Restart(ctx, lost))
	if _, stderr, code := e.cli("release", lost); code != 4 || !strings.Contains(stderr, "was not put there by kubectl sparkha failover") || e.outOfService(lost) != 1 {
		t.Fatalf("release of the remediation's fence: exit %d, out-of-service taints %d\n%s", code, e.outOfService(lost), stderr)
	}
	if err := farClient.Delete(ctx, lost, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.eventually(20*time.Second, "the operator lifts its taints once the remediation is deleted", func() (bool, string) {
		n := e.node(lost)
		_, err := farClient.Get(ctx, lost, metav1.GetOptions{})
		return isNotFound(err) && e.outOfService(lost) == 0 && taint(n, cloud.FARTaintKey, corev1.TaintEffectNoSchedule) == nil, fmt.Sprint(n.Spec.Taints, err)
	})
	e.noOverlap(ns)
}
