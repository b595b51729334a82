package e2e

import (
	"strings"
	"testing"
)

// TestFailoverNodeAllApps: two apps in two namespaces have their drivers on one machine, which
// dies. failover --node NODE -A shows one plan listing both, fences once (one confirmation),
// collects both old drivers, and waits for both new ones. A bare spark-submit driver on the
// node would make it refuse for all: the fence would force-delete it with nothing to start
// another.
func TestFailoverNodeAllApps(t *testing.T) {
	e := start(t, twoNodes)
	apps := [][2]string{{"team-a", "clicks"}, {"team-b", "orders"}}
	// Both drivers on node-a: node-b is cordoned while they start.
	e.kubectl("cordon", "node-b")
	for _, a := range apps {
		e.namespace(a[0])
		e.submitStreaming(a[0], a[1])
	}
	e.kubectl("uncordon", "node-b")
	olds := map[string]string{}
	for _, a := range apps {
		olds[a[0]] = e.runningDriver(a[0], a[1]).Name
	}
	e.killNode("node-a")
	for _, a := range apps {
		e.waitEvicted(a[0], olds[a[0]])
	}

	if _, stderr, code := e.cli("failover", "--node", "node-a", "-A"); code != 4 || !strings.Contains(stderr, "refusing to act on node node-a for any app") ||
		!strings.Contains(stderr, "team-a/clicks: refusing to fail over team-a/clicks") || !strings.Contains(stderr, "team-b/orders: refusing") {
		t.Fatalf("without --node-down: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := e.cli("failover", "clicks", "--node", "node-a"); code != 1 || !strings.Contains(stderr, "error: give either APP or --node NODE, not both") {
		t.Fatalf("APP and --node: exit %d\n%s", code, stderr)
	}
	out, stderr, code := e.cli("failover", "--node", "node-a", "-A", "--node-down", "--dry-run=client")
	if code != 0 || !strings.Contains(out, "Node node-a: 2 apps (dry run)") || !strings.Contains(out, "Failover plan for team-a/clicks") || !strings.Contains(out, "Failover plan for team-b/orders") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, stderr)
	}
	if e.nodeHasFence("node-a") {
		t.Fatal("the dry run fenced the node")
	}
	// Only namespace team-a without -A.
	if out, _, code := e.cli("failover", "--node", "node-a", "-n", "team-a", "--node-down", "--dry-run=client"); code != 0 || !strings.Contains(out, "Node node-a: 1 apps") || strings.Contains(out, "Failover plan for team-b") {
		t.Fatalf("one namespace: exit %d\n%s", code, out)
	}

	out, stderr, code = e.cli("failover", "--node", "node-a", "-A", "--node-down", "--yes", "--timeout", "90s")
	if code != 0 || !strings.Contains(out, "failover of team-a/clicks complete: a new driver runs") || !strings.Contains(out, "failover of team-b/orders complete: a new driver runs") {
		t.Fatalf("failover --node -A: exit %d\n%s\n%s", code, out, stderr)
	}
	// One fence, by the first app's run; the second finds it done.
	if n := strings.Count(stderr, "fence node node-a (taint node.kubernetes.io/out-of-service=nodeshutdown:NoExecute): done"); n != 1 || !strings.Contains(stderr, "already done") {
		t.Errorf("fences done %d times:\n%s", n, stderr)
	}
	for _, a := range apps {
		if d := e.runningDriver(a[0], a[1]); d.Name == olds[a[0]] || d.Spec.NodeName == "node-a" {
			t.Errorf("%s/%s: driver %s on %s", a[0], a[1], d.Name, d.Spec.NodeName)
		}
		if got := eventReasons(e.failoverEvents(a[0])); !strings.Contains(got, "FailoverCollectedOldDriver") {
			t.Errorf("%s: events %s", a[0], got)
		}
	}
	if _, _, code := e.cli("failover", "--node", "node-a", "-A", "--node-down", "--yes"); code != 0 {
		t.Errorf("rerun after success: exit %d", code)
	}
}
