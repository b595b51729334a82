package analysis_test

import (
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
)

// TestNodeEvidence: what the cluster knows of the lost node's machine is in the report, and
// decides: a kubelet shown alive (a Lease renewed after the node stopped being Ready, or
// Ready=False, which only a running kubelet reports) stops --node-down unless the operator
// overrides it, recorded in the step's reason; the cloud provider's shutdown taint, or a Node
// deleted with its instance, makes the next action the fence itself.
func TestNodeEvidence(t *testing.T) {
	renewLease := func(s *analysis.Snapshot, at time.Time) {
		for i := range s.Leases {
			if s.Leases[i].Name == "node-a" {
				s.Leases[i].Spec.RenewTime = &metav1.MicroTime{Time: at}
				return
			}
		}
		s.Leases = append(s.Leases, coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "node-a", Namespace: corev1.NamespaceNodeLease},
			Spec: coordinationv1.LeaseSpec{RenewTime: &metav1.MicroTime{Time: at}}})
	}
	for _, tt := range []struct {
		name   string
		mutate func(s *analysis.Snapshot, now time.Time)
		alive  string
		down   string
		next   string
		fence  bool // --node-down fences (without --ignore-node-evidence)
	}{
		{name: "partitioned: no evidence either way", mutate: func(*analysis.Snapshot, time.Time) {},
			next: "if node-a comes back, recovery completes by itself; if it is confirmed down: kubectl sparkha failover stream -n s3 --node-down", fence: true},
		{name: "Lease renewed after NotReady: the kubelet runs", mutate: func(s *analysis.Snapshot, now time.Time) { renewLease(s, now.Add(-time.Second)) },
			alive: "its kubelet renewed its Lease at", next: "node-a's machine is running (its kubelet renewed its Lease at"},
		{name: "Ready=False: the kubelet reports it", mutate: func(s *analysis.Snapshot, now time.Time) {
			for i := range nodeNamed(s, "node-a").Status.Conditions {
				if c := &nodeNamed(s, "node-a").Status.Conditions[i]; c.Type == corev1.NodeReady {
					c.Status, c.Reason = corev1.ConditionFalse, "KubeletNotReady"
				}
			}
		}, alive: "its kubelet reports Ready=False (KubeletNotReady)", next: "do not fence it"},
		{name: "cloud shutdown taint: down", mutate: func(s *analysis.Snapshot, now time.Time) {
			n := nodeNamed(s, "node-a")
			n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "node.cloudprovider.kubernetes.io/shutdown", Effect: corev1.TaintEffectNoSchedule})
		}, down: "the cloud provider reports the instance shut down", next: "node-a is down (the cloud provider reports the instance shut down (node.cloudprovider.kubernetes.io/shutdown)): kubectl sparkha failover stream -n s3 --node-down", fence: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture.Load(t, "s3-step4-stuck-terminating")
			tt.mutate(&f.Snapshot, f.Now)
			a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]
			e := a.LostNodeEvidence
			if a.Verdict != analysis.StuckTerminating || e == nil || e.Node != "node-a" || e.ReadySince == nil {
				t.Fatalf("%s, evidence %+v", a.Verdict, e)
			}
			if !strings.Contains(e.Alive, tt.alive) || (tt.alive == "") != (e.Alive == "") || !strings.Contains(e.Down, tt.down) || (tt.down == "") != (e.Down == "") {
				t.Errorf("alive %q, down %q; want %q, %q", e.Alive, e.Down, tt.alive, tt.down)
			}
			if !strings.HasPrefix(a.NextAction, tt.next) && !strings.Contains(a.NextAction, tt.next) {
				t.Errorf("next %q, want %q", a.NextAction, tt.next)
			}
			p := analysis.Decide(a, analysis.Operator{NodeDown: true})
			if fences := p.Outcome == analysis.Act && p.Steps[0].Action == analysis.FenceNode; fences != tt.fence {
				t.Fatalf("--node-down: %s %q", p.Outcome, p.Message)
			}
			if p.NodeEvidence != e {
				t.Errorf("the plan does not carry the evidence")
			}
			if tt.fence {
				return
			}
			if !strings.Contains(p.Message, "refusing to fence node node-a: "+e.Alive) || !strings.Contains(p.Message, "--ignore-node-evidence") {
				t.Errorf("refusal %q", p.Message)
			}
			p = analysis.Decide(a, analysis.Operator{NodeDown: true, IgnoreNodeEvidence: true})
			if p.Outcome != analysis.Act || p.Steps[0].Action != analysis.FenceNode || !strings.HasSuffix(p.Steps[0].Why, "evidence that the machine runs ignored on the operator's word: "+e.Alive) {
				t.Errorf("override: %s %+v", p.Outcome, p.Steps)
			}
		})
	}
}

// TestNoNodeEvidenceWithoutNodes: without the right to list nodes there is no evidence either
// way: a node that is merely invisible is not "gone".
func TestNoNodeEvidenceWithoutNodes(t *testing.T) {
	f := fixture.Load(t, "s3-step4-stuck-terminating")
	f.Snapshot.Nodes, f.Snapshot.Leases = nil, nil
	f.Snapshot.Unavailable = []string{"nodes: Forbidden", "leases: Forbidden"}
	a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]
	if a.LostNodeEvidence != nil || !strings.HasPrefix(a.NextAction, "if node-a comes back, recovery completes by itself") {
		t.Errorf("evidence %+v, next %q", a.LostNodeEvidence, a.NextAction)
	}
}
