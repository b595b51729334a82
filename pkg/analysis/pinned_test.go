package analysis_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
)

func affinity(key string, values ...string) *corev1.VolumeNodeAffinity {
	return &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: corev1.NodeSelectorOpIn, Values: values}}}}}}
}

func zones(s *analysis.Snapshot, byNode map[string]string) {
	for i := range s.Nodes {
		if z, ok := byNode[s.Nodes[i].Name]; ok {
			s.Nodes[i].Labels[corev1.LabelTopologyZone] = z
		}
	}
}

// TestPinnedVolumes: a checkpoint volume only some nodes may mount (a local PV, a zonal one)
// is followed into the verdict and the plan: when no Ready node may mount it, inspect says the
// replacement is blocked by it, names the PV and its affinity, and failover refuses to fence
// for a driver that could not start anywhere; when a Ready node may, nothing changes.
func TestPinnedVolumes(t *testing.T) {
	for _, tt := range []struct {
		name, fixture string
		mutate        func(*analysis.Snapshot)
		verdict       analysis.Verdict
		reason        string
		next          string
		fence         bool // failover --node-down fences
	}{
		{name: "local PV on the lost node", fixture: "s3-step4-stuck-terminating",
			mutate: func(s *analysis.Snapshot) {
				s.Volumes[0].Spec.NodeAffinity = affinity(corev1.LabelHostname, "node-a")
			},
			verdict: analysis.ReplacementBlocked,
			reason:  "volume checkpoint (claim stream-checkpoint, pv pvc-d1448301-fc46-4202-be50-f52463b63cd8) can only be mounted on nodes matching kubernetes.io/hostname in (node-a), and no Ready node does: no new driver can start until one does; driver stream-p48hf is Terminating on lost node node-a (Ready=Unknown, tainted node.kubernetes.io/unreachable:NoExecute)",
			next:    "bring node-a back: the driver then recovers by itself; a failover cannot move the volume (if node-a is gone for good, restore the checkpoint onto a volume a Ready node can mount and resubmit)"},
		{name: "zonal PV, no Ready node left in the zone", fixture: "s3-step4-stuck-terminating",
			mutate: func(s *analysis.Snapshot) {
				zones(s, map[string]string{"node-a": "zone-1", "node-b": "zone-2"})
				s.Volumes[0].Spec.NodeAffinity = affinity(corev1.LabelTopologyZone, "zone-1")
			},
			verdict: analysis.ReplacementBlocked,
			reason:  "can only be mounted on nodes matching topology.kubernetes.io/zone in (zone-1), and no Ready node does"},
		{name: "zonal PV, another Ready node in the zone", fixture: "s3-step4-stuck-terminating",
			mutate: func(s *analysis.Snapshot) {
				zones(s, map[string]string{"node-a": "zone-1", "node-b": "zone-1"})
				s.Volumes[0].Spec.NodeAffinity = affinity(corev1.LabelTopologyZone, "zone-1")
			},
			verdict: analysis.StuckTerminating, reason: "driver stream-p48hf was deleted", fence: true},
		{name: "zonal PV, the zone's other node cordoned", fixture: "s3-step4-stuck-terminating",
			mutate: func(s *analysis.Snapshot) {
				zones(s, map[string]string{"node-a": "zone-1", "node-b": "zone-1"})
				s.Nodes[1].Spec.Unschedulable = true
				s.Volumes[0].Spec.NodeAffinity = affinity(corev1.LabelTopologyZone, "zone-1")
			},
			verdict: analysis.ReplacementBlocked, reason: "and no Ready node does"},
		// The node controller lifts the unreachable (or not-ready) taint a moment after the node
		// is Ready again: until then the scheduler keeps new pods off it, so it does not count.
		{name: "zonal PV, the zone's other node Ready but still tainted unreachable", fixture: "s3-step4-stuck-terminating",
			mutate: func(s *analysis.Snapshot) {
				zones(s, map[string]string{"node-a": "zone-1", "node-b": "zone-1"})
				s.Nodes[1].Spec.Taints = []corev1.Taint{{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule}}
				s.Volumes[0].Spec.NodeAffinity = affinity(corev1.LabelTopologyZone, "zone-1")
			},
			verdict: analysis.ReplacementBlocked, reason: "and no Ready node does"},
		{name: "zonal PV, the zone's other node Ready but still tainted not-ready", fixture: "s3-step4-stuck-terminating",
			mutate: func(s *analysis.Snapshot) {
				zones(s, map[string]string{"node-a": "zone-1", "node-b": "zone-1"})
				s.Nodes[1].Spec.Taints = []corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}}
				s.Volumes[0].Spec.NodeAffinity = affinity(corev1.LabelTopologyZone, "zone-1")
			},
			verdict: analysis.ReplacementBlocked, reason: "and no Ready node does"},
		{name: "zonal PV, the zone's other node carries an unrelated taint", fixture: "s3-step4-stuck-terminating",
			mutate: func(s *analysis.Snapshot) {
				zones(s, map[string]string{"node-a": "zone-1", "node-b": "zone-1"})
				s.Nodes[1].Spec.Taints = []corev1.Taint{{Key: "example.com/maintenance", Effect: corev1.TaintEffectPreferNoSchedule}}
				s.Volumes[0].Spec.NodeAffinity = affinity(corev1.LabelTopologyZone, "zone-1")
			},
			verdict: analysis.StuckTerminating, reason: "driver stream-p48hf was deleted", fence: true},
		{name: "local PV whose affinity also compares a number", fixture: "s3-step4-stuck-terminating",
			mutate: func(s *analysis.Snapshot) {
				s.Volumes[0].Spec.NodeAffinity = affinity(corev1.LabelHostname, "node-a")
				term := &s.Volumes[0].Spec.NodeAffinity.Required.NodeSelectorTerms[0]
				term.MatchExpressions = append(term.MatchExpressions, corev1.NodeSelectorRequirement{Key: "example.com/disks", Operator: corev1.NodeSelectorOpGt, Values: []string{"3"}})
			},
			verdict: analysis.ReplacementBlocked,
			reason:  "can only be mounted on nodes matching kubernetes.io/hostname in (node-a), example.com/disks gt 3, and no Ready node does"},
		{name: "local PV under a running driver on a cordoned node: healthy", fixture: "s1-step1-running",
			mutate: func(s *analysis.Snapshot) {
				s.Volumes[0].Spec.NodeAffinity = affinity(corev1.LabelHostname, "node-a")
				for i := range s.Nodes {
					s.Nodes[i].Spec.Unschedulable = true
				}
			},
			verdict: analysis.Healthy, reason: "driver spark-pi-95sbm runs on node-a"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture.Load(t, tt.fixture)
			tt.mutate(&f.Snapshot)
			a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]
			if a.Verdict != tt.verdict || !strings.Contains(a.Reason, tt.reason) || !strings.Contains(a.NextAction, tt.next) {
				t.Fatalf("%s (%q), next %q;\nwant %s (%q), next %q", a.Verdict, a.Reason, a.NextAction, tt.verdict, tt.reason, tt.next)
			}
			v := a.Drivers[0].Volumes[0]
			// On the cordoned node the volume has no Ready node to go to, though its driver runs.
			if v.NodeAffinity == "" || v.NoReadyNode != (tt.verdict == analysis.ReplacementBlocked || tt.verdict == analysis.Healthy) {
				t.Errorf("volume facts: affinity %q, noReadyNode %t", v.NodeAffinity, v.NoReadyNode)
			}
			p := analysis.Decide(a, analysis.Operator{NodeDown: true})
			fences := len(p.Steps) > 0 && p.Steps[0].Action == analysis.FenceNode
			if fences != tt.fence {
				t.Errorf("--node-down: %s %+v (%s), want fence=%t", p.Outcome, p.Steps, p.Message, tt.fence)
			}
			if tt.verdict == analysis.ReplacementBlocked && (p.Outcome != analysis.Refuse || !strings.Contains(p.Message, "A fence would only stop the old driver")) {
				t.Errorf("--node-down on a stranded volume: %s %q", p.Outcome, p.Message)
			}
		})
	}
}
