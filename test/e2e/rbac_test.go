package e2e

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"

	corev1 "k8s.io/api/core/v1"
)

// inspectAs runs `inspect ARGS -o json` with extra identity flags and decodes the report.
func (e *env) inspectAs(identity []string, args ...string) (*analysis.Report, string, int) {
	e.t.Helper()
	out, stderr, code := e.cli(append(append([]string{"inspect", "-o", "json"}, args...), identity...)...)
	if code == 1 {
		return nil, stderr, code
	}
	var r analysis.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		e.t.Fatalf("inspect %v printed invalid JSON (%v): %q\nstderr: %s", args, err, out, stderr)
	}
	return &r, stderr, code
}

func unavailableKinds(r *analysis.Report) []string {
	var kinds []string
	for _, u := range r.Unavailable {
		kind, reason, _ := strings.Cut(u, ": ")
		if reason != "Forbidden" {
			return append(kinds, "unexpected "+u)
		}
		kinds = append(kinds, kind)
	}
	sort.Strings(kinds)
	return kinds
}

// TestRBAC applies docs/rbac.yaml and runs the plugin as identities with only those roles:
//   - sandbox-viewer (static token) with sparkha-inspect bound cluster-wide: the full picture;
//   - sandbox-team (the admin impersonating it with --as) with sparkha-submit and
//     sparkha-inspect bound by RoleBindings in one namespace only: it submits the app, gets a
//     partial but honest inspect there (the hidden kinds listed, a warning in table mode) and a
//     clean refusal for -A and for failover;
//   - sandbox-oncall (static token) with sparkha-failover bound cluster-wide fences a dead node
//     and the new driver runs, while the viewer's failover fails on the forbidden action
//     without fencing anything.
func TestRBAC(t *testing.T) {
	e := start(t, twoNodes)
	const ns, app = "rbac", "stream"
	e.namespace(ns)
	e.kubectl("apply", "-f", filepath.Join("..", "..", "docs", "rbac.yaml"))
	dir := t.TempDir()
	viewerKC, oncallKC := filepath.Join(dir, "viewer.kubeconfig"), filepath.Join(dir, "oncall.kubeconfig")
	if err := e.sb.WriteUserKubeconfig(viewerKC, "sandbox-viewer"); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.WriteUserKubeconfig(oncallKC, "sandbox-oncall"); err != nil {
		t.Fatal(err)
	}
	viewer, oncall := []string{"--kubeconfig", viewerKC}, []string{"--kubeconfig", oncallKC}
	team := []string{"--as", "sandbox-team"}

	// No binding yet: the viewer cannot even list driver pods.
	if _, stderr, code := e.inspectAs(viewer, "-A"); code != 1 || !strings.Contains(stderr, `User "sandbox-viewer" cannot list resource "pods"`) {
		t.Fatalf("viewer without a binding: exit %d, stderr %q", code, stderr)
	}

	e.kubectl("create", "clusterrolebinding", "viewer-inspect", "--clusterrole=sparkha-inspect", "--user=sandbox-viewer")
	e.kubectl("create", "clusterrolebinding", "oncall-failover", "--clusterrole=sparkha-failover", "--user=sandbox-oncall")
	e.kubectl("create", "rolebinding", "team-submit", "-n", ns, "--clusterrole=sparkha-submit", "--user=sandbox-team")
	e.kubectl("create", "rolebinding", "team-inspect", "-n", ns, "--clusterrole=sparkha-inspect", "--user=sandbox-team")

	// submit with sparkha-submit alone, in its namespace, including --wait (list/watch pods).
	stdout, stderr, code := e.cli(append([]string{"submit", app, "-n", ns, "--image", "spark:3.5.3", "--class", "org.example.Stream",
		"local:///opt/app/stream.jar", "--checkpoint-size", "1Gi", "--node-lost-timeout", "5s", "--wait", "--timeout", "60s"}, team...)...)
	if code != 0 {
		t.Fatalf("submit as sandbox-team (sparkha-submit in %s): exit %d\nstdout: %s\nstderr: %s", ns, code, stdout, stderr)
	}
	old := e.runningDriver(ns, app)
	lost := old.Spec.NodeName

	// Read-only, cluster-wide: the whole answer.
	var r *analysis.Report
	e.eventually(20*time.Second, "viewer inspect -A Healthy", func() (bool, string) {
		r, stderr, code = e.inspectAs(viewer, "-A")
		return code == 0 && len(r.Apps) == 1 && r.Apps[0].Verdict == analysis.Healthy, stderr
	})
	if len(r.Unavailable) != 0 || r.Apps[0].Drivers[0].NodeReady != "True" {
		t.Errorf("viewer sees a partial answer: unavailable %v, node Ready %q", r.Unavailable, r.Apps[0].Drivers[0].NodeReady)
	}

	// Namespace-only: partial but honest.
	hidden := "[csidrivers leases nodes persistentvolumes volumeattachments]"
	r, stderr, code = e.inspectAs(team, "-n", ns)
	if code != 0 || len(r.Apps) != 1 || r.Apps[0].Verdict != analysis.Healthy || r.Apps[0].Reason == "" {
		t.Fatalf("team inspect -n %s: exit %d, %+v\nstderr: %s", ns, code, r, stderr)
	}
	if got := unavailableKinds(r); strings.Join(got, " ") != strings.Trim(hidden, "[]") {
		t.Errorf("team inspect: unavailable %v, want %s", r.Unavailable, hidden)
	}
	t.Logf("namespace-only, healthy: %s — %s; unavailable %v", r.Apps[0].Verdict, r.Apps[0].Reason, r.Unavailable)
	_, stderr, code = e.cli(append([]string{"inspect", "-n", ns}, team...)...)
	if code != 0 || !strings.Contains(stderr, "warning: partial answer, not visible with your permissions: [nodes: Forbidden leases: Forbidden") {
		t.Errorf("team inspect table: exit %d, stderr %q", code, stderr)
	}
	t.Logf("namespace-only table warning: %s", strings.TrimSpace(stderr))
	if _, stderr, code = e.inspectAs(team, "-A"); code != 1 || !strings.Contains(stderr, "error: listing Spark driver pods:") ||
		!strings.Contains(stderr, `User "sandbox-team" cannot list resource "pods" in API group "" at the cluster scope`) {
		t.Errorf("team inspect -A: exit %d, stderr %q", code, stderr)
	}
	t.Logf("namespace-only inspect -A: %s", strings.TrimSpace(stderr))

	// The machine dies.
	e.killNode(lost)
	e.waitEvicted(ns, old.Name)
	e.verdict(ns, app, "rbac-node-dead", analysis.StuckTerminating)

	r, stderr, code = e.inspectAs(viewer, "-A")
	if code != 3 || len(r.Apps) != 1 || r.Apps[0].Verdict != analysis.StuckTerminating || r.Apps[0].LostNode != lost {
		t.Fatalf("viewer inspect -A on the dead node: exit %d %+v\n%s", code, r, stderr)
	}
	r, stderr, code = e.inspectAs(team, "-n", ns)
	if len(r.Apps) != 1 || code != map[bool]int{false: 0, true: 3}[r.Apps[0].Verdict.NeedsAttention()] {
		t.Fatalf("team inspect on the dead node: exit %d, %+v\n%s", code, r, stderr)
	}
	if got := unavailableKinds(r); strings.Join(got, " ") != strings.Trim(hidden, "[]") {
		t.Errorf("team inspect: unavailable %v, want %s", r.Unavailable, hidden)
	}
	t.Logf("namespace-only, node dead: exit %d, %s — %s; next: %s", code, r.Apps[0].Verdict, r.Apps[0].Reason, r.Apps[0].NextAction)

	// Without the failover role: refused by the API server, cleanly, nothing fenced.
	stdout, stderr, code = e.cli(append([]string{"failover", app, "-n", ns, "--node-down", "--yes", "--timeout", "60s"}, viewer...)...)
	if code != 1 || !strings.Contains(stderr, `User "sandbox-viewer" cannot get resource "nodes"`) || !strings.Contains(stderr, "sparkha-failover") {
		t.Fatalf("viewer failover: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	t.Logf("viewer failover: %s", strings.TrimSpace(stderr))
	stdout, stderr, code = e.cli(append([]string{"failover", app, "-n", ns, "--node-down", "--yes", "--timeout", "60s"}, team...)...)
	if code != 1 || !strings.Contains(stderr, "cannot decide safely without seeing nodes: Forbidden") {
		t.Fatalf("team failover: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	t.Logf("namespace-only failover: %s", strings.TrimSpace(stderr))
	if e.nodeHasFence(lost) || len(e.failoverEvents(ns)) != 0 {
		t.Fatal("a failover without the role changed something")
	}

	// With sparkha-failover: fence, new driver Running, audit names the on-call identity.
	stdout, stderr, code = e.cli(append([]string{"failover", app, "-n", ns, "--node-down", "--yes", "--timeout", "90s"}, oncall...)...)
	if code != 0 || !strings.Contains(stdout, "failover of rbac/stream complete") {
		t.Fatalf("oncall failover: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if !e.nodeHasFence(lost) {
		t.Fatal("oncall failover did not fence the node")
	}
	if a, ok := e.jobAudit(ns, app); !ok || a.By != "sandbox-oncall" {
		t.Errorf("audit annotation %+v (present %t), want by sandbox-oncall", a, ok)
	}
	repl, pods := e.replacement(ns, app, old.Name)
	if repl == nil || repl.Status.Phase != corev1.PodRunning || len(pods) != 1 {
		t.Fatalf("after failover: %s", describePods(pods))
	}
	e.noOverlap(ns)
	e.eventually(20*time.Second, "viewer inspect -A Healthy after failover", func() (bool, string) {
		r, stderr, code = e.inspectAs(viewer, "-A")
		return code == 0 && len(r.Apps) == 1 && r.Apps[0].Verdict == analysis.Healthy, stderr
	})
}
