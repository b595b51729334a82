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
			next: "if node-a comes back, recovery completes by itself; once you know it is powered off, or cut from its storage and network (a network partition is not enough): kubectl sparkha failover stream -n s3 --node-down", fence: true},
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

// TestRemediationEvidence: a medik8s remediation of the lost node is evidence that its machine
// is down only once its status says the machine was fenced: a FenceAgentsRemediation whose
// fence agent action succeeded, a SelfNodeRemediation whose node is assumed rebooted (phase
// Reboot-Completed or later, or timeAssumedRebooted passed). One in progress, failed or stopped is
// shown and is no evidence. A fence after the last sign of life outdates that sign.
func TestRemediationEvidence(t *testing.T) {
	const at = "14:30:22Z" // two seconds after node-a stopped being Ready, ten after its last Lease renewal
	fenced := time.Date(2026, 11, 25, 14, 30, 22, 0, time.UTC)
	cond := func(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason, LastTransitionTime: metav1.NewTime(fenced)}
	}
	far := func(conds ...metav1.Condition) analysis.Remediation {
		return analysis.Remediation{Kind: analysis.KindFenceAgentsRemediation, Namespace: "medik8s", Name: "node-a", Node: "node-a",
			Created: fenced.Add(-10 * time.Second), Strategy: "OutOfServiceTaint", Conditions: conds}
	}
	snr := func(phase string, rebootedAt time.Time, conds ...metav1.Condition) analysis.Remediation {
		r := analysis.Remediation{Kind: analysis.KindSelfNodeRemediation, Namespace: "medik8s", Name: "node-a", Node: "node-a",
			Created: fenced.Add(-10 * time.Second), Phase: phase, Conditions: conds}
		if !rebootedAt.IsZero() {
			r.TimeAssumedRebooted = &rebootedAt
		}
		return r
	}
	started := cond("Processing", metav1.ConditionTrue, "RemediationStarted")
	for _, tt := range []struct {
		name  string
		rems  []analysis.Remediation
		alive bool // renew node-a's Lease a second before the capture: a kubelet alive then
		state string
		down  string // "" for no evidence of death
		fence bool   // --node-down fences
	}{
		{name: "FAR without status", rems: []analysis.Remediation{far()},
			state: "no status yet: the operator has not started it", fence: true},
		{name: "FAR in progress", rems: []analysis.Remediation{far(started, cond("FenceAgentActionSucceeded", metav1.ConditionUnknown, "RemediationStarted"))},
			state: "in progress since " + at + ": the fence agent has not succeeded yet", fence: true},
		{name: "FAR whose fence agent failed", rems: []analysis.Remediation{far(cond("Processing", metav1.ConditionFalse, "FenceAgentFailed"),
			metav1.Condition{Type: "FenceAgentActionSucceeded", Status: metav1.ConditionFalse, Reason: "FenceAgentFailed", Message: "Fence agent command has failed"})},
			state: "the fence agent did not fence the machine: FenceAgentFailed (Fence agent command has failed)", fence: true},
		{name: "FAR whose fence agent succeeded", rems: []analysis.Remediation{far(started, cond("FenceAgentActionSucceeded", metav1.ConditionTrue, "FenceAgentSucceeded"))},
			state: "the fence agent powered the machine off or rebooted it at " + at + " (FenceAgentActionSucceeded=True)",
			down:  "FenceAgentsRemediation medik8s/node-a: the fence agent powered the machine off or rebooted it at " + at + " (FenceAgentActionSucceeded=True)", fence: true},
		{name: "FAR finished", rems: []analysis.Remediation{far(cond("Processing", metav1.ConditionFalse, "RemediationFinishedSuccessfully"),
			cond("FenceAgentActionSucceeded", metav1.ConditionTrue, "FenceAgentSucceeded"), cond("Succeeded", metav1.ConditionTrue, "RemediationFinishedSuccessfully"))},
			state: "the fence agent powered the machine off or rebooted it at " + at + " (FenceAgentActionSucceeded=True)",
			down:  "FenceAgentsRemediation medik8s/node-a: the fence agent", fence: true},
		{name: "FAR of another node", rems: []analysis.Remediation{{Kind: analysis.KindFenceAgentsRemediation, Namespace: "medik8s", Name: "node-b", Node: "node-b",
			Conditions: []metav1.Condition{cond("FenceAgentActionSucceeded", metav1.ConditionTrue, "FenceAgentSucceeded")}}}, fence: true},
		{name: "SNR started", rems: []analysis.Remediation{snr("", time.Time{}, started)},
			state: "in progress (phase none yet): no reboot time set yet", fence: true},
		{name: "SNR waiting for the reboot time", rems: []analysis.Remediation{snr("Pre-Reboot-Completed", fenced.Add(time.Minute), started)},
			state: "in progress (phase Pre-Reboot-Completed): the node is assumed rebooted only from 14:31:22Z", fence: true},
		{name: "SNR whose reboot time passed", rems: []analysis.Remediation{snr("Pre-Reboot-Completed", fenced, started)},
			state: "the node is assumed rebooted since " + at + " (phase Pre-Reboot-Completed)",
			down:  "SelfNodeRemediation medik8s/node-a: the node is assumed rebooted since " + at, fence: true},
		{name: "SNR reboot completed", rems: []analysis.Remediation{snr("Reboot-Completed", fenced, started)},
			state: "the node is assumed rebooted since " + at + " (phase Reboot-Completed)", down: "SelfNodeRemediation medik8s/node-a", fence: true},
		{name: "SNR stopped", rems: []analysis.Remediation{snr("", time.Time{}, cond("Processing", metav1.ConditionFalse, "RemediationSkippedNodeNotFound"),
			cond("Succeeded", metav1.ConditionFalse, "RemediationSkippedNodeNotFound"))},
			state: "stopped without a reboot: RemediationSkippedNodeNotFound", fence: true},
		{name: "FAR stopped before its fence agent ran", rems: []analysis.Remediation{far(cond("Processing", metav1.ConditionFalse, "RemediationSkippedNodeNotFound"),
			metav1.Condition{Type: "Succeeded", Status: metav1.ConditionFalse, Reason: "RemediationSkippedNodeNotFound", Message: "node not found"})},
			state: "stopped without fencing: RemediationSkippedNodeNotFound (node not found)", fence: true},
		{name: "SNR in progress, its reboot time to come", rems: []analysis.Remediation{snr("Pre-Reboot-Completed", fenced.Add(time.Hour), started)},
			state: "in progress (phase Pre-Reboot-Completed): the node is assumed rebooted only from 15:30:22Z", fence: true},
		{name: "a fence before the kubelet's last Lease renewal: the machine came back", alive: true,
			rems:  []analysis.Remediation{far(started, cond("FenceAgentActionSucceeded", metav1.ConditionTrue, "FenceAgentSucceeded"))},
			state: "the fence agent powered the machine off or rebooted it at " + at, down: "FenceAgentsRemediation medik8s/node-a"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture.Load(t, "s3-step4-stuck-terminating")
			f.Snapshot.Remediations = tt.rems
			if tt.alive {
				for i := range f.Snapshot.Leases {
					if f.Snapshot.Leases[i].Name == "node-a" {
						f.Snapshot.Leases[i].Spec.RenewTime = &metav1.MicroTime{Time: f.Now.Add(-time.Second)}
					}
				}
			}
			a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]
			e := a.LostNodeEvidence
			if e == nil || e.Node != "node-a" {
				t.Fatalf("evidence %+v", e)
			}
			if tt.state == "" {
				if len(e.Remediations) != 0 {
					t.Fatalf("remediations of node-a: %+v", e.Remediations)
				}
			} else if len(e.Remediations) != 1 || !strings.HasPrefix(e.Remediations[0].State, tt.state) ||
				e.Remediations[0].Fenced != (tt.down != "") || e.Remediations[0].Name != "node-a" {
				t.Fatalf("remediations %+v, want one whose state starts %q", e.Remediations, tt.state)
			}
			if !strings.HasPrefix(e.Down, tt.down) || (tt.down == "") != (e.Down == "") {
				t.Errorf("down %q, want %q", e.Down, tt.down)
			}
			if (e.Alive != "") != tt.alive {
				t.Errorf("alive %q, want alive=%t", e.Alive, tt.alive)
			}
			wantNext := "if node-a comes back, recovery completes by itself"
			switch {
			case tt.alive:
				wantNext = "node-a's machine is running"
			case tt.down != "":
				wantNext = "node-a is down (" + e.Down + "): kubectl sparkha failover stream -n s3 --node-down"
			}
			if !strings.HasPrefix(a.NextAction, wantNext) {
				t.Errorf("next %q, want %q", a.NextAction, wantNext)
			}
			p := analysis.Decide(a, analysis.Operator{NodeDown: true})
			fences := p.Outcome == analysis.Act && p.Steps[0].Action == analysis.FenceNode
			if fences != tt.fence {
				t.Fatalf("--node-down: %s %q", p.Outcome, p.Message)
			}
			if fences && tt.down != "" && !strings.HasSuffix(p.Steps[0].Why, "; the cluster agrees: "+e.Down) {
				t.Errorf("the fence's reason does not carry the evidence: %q", p.Steps[0].Why)
			}
		})
	}
}

// TestRemediationFenceOutdatesLife: Ready=False posted, and a Lease renewed, before a fence
// agent's success are a kubelet that ran on the machine then powered off: the evidence of life
// is gone.
func TestRemediationFenceOutdatesLife(t *testing.T) {
	f := fixture.Load(t, "s3-step4-stuck-terminating")
	n := nodeNamed(&f.Snapshot, "node-a")
	for i := range n.Status.Conditions {
		if c := &n.Status.Conditions[i]; c.Type == corev1.NodeReady {
			c.Status, c.Reason = corev1.ConditionFalse, "KubeletNotReady"
		}
	}
	alive := analysis.Analyze(&f.Snapshot, f.Now).Apps[0].LostNodeEvidence
	if alive.Alive == "" || alive.StatusHeartbeat == nil || alive.LeaseRenewed == nil || !alive.LeaseRenewed.After(*alive.StatusHeartbeat) {
		t.Fatalf("Ready=False without a remediation: %+v", alive)
	}
	f.Snapshot.Remediations = []analysis.Remediation{{Kind: analysis.KindFenceAgentsRemediation, Namespace: "medik8s", Name: "node-a", Node: "node-a",
		Conditions: []metav1.Condition{{Type: "FenceAgentActionSucceeded", Status: metav1.ConditionTrue, LastTransitionTime: metav1.NewTime(alive.LeaseRenewed.Add(time.Second))}}}}
	a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]
	if e := a.LostNodeEvidence; e.Alive != "" || !strings.HasPrefix(e.Down, "FenceAgentsRemediation medik8s/node-a: the fence agent powered the machine off") {
		t.Fatalf("alive %q, down %q", e.Alive, e.Down)
	}
	if p := analysis.Decide(a, analysis.Operator{NodeDown: true}); p.Outcome != analysis.Act || p.Steps[0].Action != analysis.FenceNode {
		t.Fatalf("--node-down: %s %q", p.Outcome, p.Message)
	}
}

// TestRemediationBeforeLastSignOfLife: a Ready=False status posted after the fence agent's
// success is a kubelet that runs again (the machine came back): the fence does not outdate that
// evidence of life (the status post counts even though the Lease is older), and failover refuses.
func TestRemediationBeforeLastSignOfLife(t *testing.T) {
	f := fixture.Load(t, "s3-step4-stuck-terminating")
	n := nodeNamed(&f.Snapshot, "node-a")
	lease := analysis.Analyze(&f.Snapshot, f.Now).Apps[0].LostNodeEvidence.LeaseRenewed
	if lease == nil {
		t.Fatal("the fixture's node has no Lease")
	}
	for i := range n.Status.Conditions {
		if c := &n.Status.Conditions[i]; c.Type == corev1.NodeReady {
			c.Status, c.Reason = corev1.ConditionFalse, "KubeletNotReady"
			c.LastHeartbeatTime = metav1.NewTime(lease.Add(2 * time.Second))
		}
	}
	f.Snapshot.Remediations = []analysis.Remediation{{Kind: analysis.KindFenceAgentsRemediation, Namespace: "medik8s", Name: "node-a", Node: "node-a",
		Conditions: []metav1.Condition{{Type: "FenceAgentActionSucceeded", Status: metav1.ConditionTrue, LastTransitionTime: metav1.NewTime(lease.Add(time.Second))}}}}
	a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]
	if e := a.LostNodeEvidence; !strings.HasPrefix(e.Alive, "its kubelet reports Ready=False (KubeletNotReady)") {
		t.Fatalf("a status posted after the fence: alive %q (down %q); want the evidence of life kept", e.Alive, e.Down)
	}
	if p := analysis.Decide(a, analysis.Operator{NodeDown: true}); p.Outcome != analysis.Refuse {
		t.Fatalf("--node-down on a machine that came back after its fence: %s", p.Outcome)
	}
}
