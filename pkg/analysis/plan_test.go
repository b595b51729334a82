package analysis_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
)

// app analyses a snapshot captured on the sandbox (internal/fixture).
func app(t *testing.T, name string, mutate func(*analysis.Snapshot)) analysis.App {
	t.Helper()
	f := fixture.Load(t, name)
	if mutate != nil {
		mutate(&f.Snapshot)
	}
	r := analysis.Analyze(&f.Snapshot, f.Now)
	if len(r.Apps) != 1 {
		t.Fatalf("%s: want one app, got %d", name, len(r.Apps))
	}
	return r.Apps[0]
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name, fixture string
		nodeDown      bool
		resubmit      bool
		mutate        func(*analysis.Snapshot)
		outcome       analysis.Outcome
		steps         []analysis.Action
		message       string
	}{
		{name: "blocked-unconfirmed", fixture: "s1-step5-replacement-blocked", outcome: analysis.Refuse,
			message: "refusing to fail over s1/spark-pi: driver spark-pi-95sbm may still be running on node node-a (Ready=Unknown"},
		{name: "blocked-node-down", fixture: "s1-step5-replacement-blocked", nodeDown: true, outcome: analysis.Act, steps: []analysis.Action{analysis.FenceNode, analysis.CollectOldDriver}},
		{name: "at-risk-node-down", fixture: "s1-step3-node-lost", nodeDown: true, outcome: analysis.Act, steps: []analysis.Action{analysis.FenceNode, analysis.CollectOldDriver}},
		{name: "split-brain-node-down", fixture: "s2-split-brain", nodeDown: true, outcome: analysis.Act, steps: []analysis.Action{analysis.FenceNode, analysis.CollectOldDriver}},
		{name: "stuck-unconfirmed", fixture: "s3-step4-stuck-terminating", outcome: analysis.Refuse, message: "It becomes safe when node-a rejoins"},
		{name: "rejoined-lingering", fixture: "f1-rejoined-lingering", outcome: analysis.Act, steps: []analysis.Action{analysis.FinishOldDriver}},
		{name: "recovered", fixture: "s1-step7-recovered", outcome: analysis.NothingToDo, message: "nothing to fail over: driver spark-pi-s5d8t runs on node-b (Healthy)"},
		{name: "recovered-node-down-is-still-nothing", fixture: "f2-recovered", nodeDown: true, outcome: analysis.NothingToDo},
		{name: "volume-held-by-ready-node-is-nothing", fixture: "f3-volume-held", nodeDown: true, outcome: analysis.NothingToDo,
			message: "nothing to fail over: driver stream-"},
		{name: "volume-left-unconfirmed", fixture: "f3-volume-left-on-dead-node", outcome: analysis.Refuse,
			message: "no driver pod is left there, but only its kubelet can report the volume unmounted, and whatever held it there may still be running. Starting another driver now could run two at once. It becomes safe when node-"},
		{name: "volume-left-node-down", fixture: "f3-volume-left-on-dead-node", nodeDown: true, outcome: analysis.Act, steps: []analysis.Action{analysis.FenceNode}},
		{name: "split-brain-on-ready-nodes-never-fences", fixture: "s2-split-brain", nodeDown: true, outcome: analysis.Refuse, message: "no node is lost, so there is nothing to fence",
			mutate: func(s *analysis.Snapshot) {
				for i := range s.Nodes {
					s.Nodes[i].Spec.Taints = nil
					for j := range s.Nodes[i].Status.Conditions {
						if s.Nodes[i].Status.Conditions[j].Type == "Ready" {
							s.Nodes[i].Status.Conditions[j].Status = "True"
						}
					}
				}
			}},
		{name: "bare-pod", fixture: "s3-step4-stuck-terminating", nodeDown: true, outcome: analysis.Refuse,
			message: "is a bare spark-submit driver pod: nothing would start a new driver after a failover. driver stream-p48hf was deleted (DisruptionTarget: DeletionByTaintManager) but only node-a's kubelet can confirm it stopped; Ready=Unknown, tainted node.kubernetes.io/unreachable:NoExecute. Add --resubmit to relaunch it as a sparkha Job once the old driver is gone: kubectl sparkha failover stream -n s3 --node-down --resubmit",
			mutate:  func(s *analysis.Snapshot) { s.DriverPods[0].OwnerReferences = nil; s.Jobs = nil }},
		// With --resubmit the fence is planned as for a Job, and the plan waits only for the old
		// driver to be gone: the caller then starts the new one.
		{name: "bare-pod-resubmit", fixture: "s3-step4-stuck-terminating", nodeDown: true, resubmit: true, outcome: analysis.Act,
			steps:  []analysis.Action{analysis.FenceNode, analysis.CollectOldDriver},
			mutate: func(s *analysis.Snapshot) { s.DriverPods[0].OwnerReferences = nil; s.Jobs = nil }},
		{name: "bare-pod-resubmit-unconfirmed", fixture: "s3-step4-stuck-terminating", resubmit: true, outcome: analysis.Refuse,
			message: "refusing to fail over s3/stream: driver stream-p48hf may still be running on node node-a",
			mutate:  func(s *analysis.Snapshot) { s.DriverPods[0].OwnerReferences = nil; s.Jobs = nil }},
		// FinishOldDriver only for a deleted pod on a Ready node: on a fenced node Kubernetes
		// force-deletes the pod itself, and a pod nobody deleted is its kubelet's to finish.
		{name: "fenced-stopped-driver-is-left-to-kubernetes", fixture: "s3-step4-stuck-terminating", outcome: analysis.Act,
			mutate: func(s *analysis.Snapshot) {
				for i := range s.Nodes {
					if s.Nodes[i].Name == s.DriverPods[0].Spec.NodeName {
						s.Nodes[i].Spec.Taints = append(s.Nodes[i].Spec.Taints, corev1.Taint{Key: corev1.TaintNodeOutOfService, Value: analysis.OutOfServiceValue, Effect: corev1.TaintEffectNoExecute})
					}
				}
				terminated(&s.DriverPods[0])
			}},
		// Its kubelet is back before the node controller lifts the unreachable taint: the node
		// is not down, whatever the operator says (found by FuzzAnalyze).
		{name: "ready-node-still-tainted-is-not-fenced", fixture: "s1-step3-node-lost", nodeDown: true, outcome: analysis.Refuse,
			message: "refusing to fence node node-a: it is Ready again, so it is not down. Rerun without --node-down: kubectl sparkha failover spark-pi -n s1",
			mutate: func(s *analysis.Snapshot) {
				setReady(s, "node-a", corev1.ConditionTrue, time.Date(2026, 11, 25, 14, 29, 22, 0, time.UTC))
			}},
		// A fenced node that is Ready again is not down: its kubelet stops the driver, the pod
		// garbage collector would not collect it, and neither does failover.
		{name: "fenced-ready-node-is-not-collected", fixture: "s1-step3-node-lost", nodeDown: true, outcome: analysis.Act,
			mutate: func(s *analysis.Snapshot) {
				setReady(s, "node-a", corev1.ConditionTrue, time.Date(2026, 11, 25, 14, 29, 22, 0, time.UTC))
				nodeNamed(s, "node-a").Spec.Taints = []corev1.Taint{{Key: corev1.TaintNodeOutOfService, Value: analysis.OutOfServiceValue, Effect: corev1.TaintEffectNoExecute}}
			}},
		{name: "rejoined-lingering-finishes-only-the-deleted-stopped-driver", fixture: "f1-rejoined-lingering", outcome: analysis.Act, steps: []analysis.Action{analysis.FinishOldDriver},
			mutate: func(s *analysis.Snapshot) {
				// Beside the lingering driver, on the same Ready node: one whose containers ended
				// that nobody deleted, one deleted whose containers still run, one already Failed.
				for i, name := range []string{"stream-notdeleted", "stream-stillrunning", "stream-failed"} {
					p := *s.DriverPods[0].DeepCopy()
					p.Name, p.UID = name, types.UID(name+"-uid")
					p.CreationTimestamp = metav1.NewTime(p.CreationTimestamp.Add(time.Duration(i+1) * time.Second))
					switch name {
					case "stream-notdeleted":
						p.DeletionTimestamp, p.DeletionGracePeriodSeconds = nil, nil
					case "stream-stillrunning":
						for j := range p.Status.ContainerStatuses {
							p.Status.ContainerStatuses[j].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
						}
					case "stream-failed":
						p.Status.Phase = corev1.PodFailed
					}
					s.DriverPods = append(s.DriverPods, p)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := analysis.Decide(app(t, tt.fixture, tt.mutate), analysis.Operator{NodeDown: tt.nodeDown, Resubmit: tt.resubmit})
			var got []analysis.Action
			for _, s := range p.Steps {
				got = append(got, s.Action)
			}
			if p.Outcome != tt.outcome || len(got) != len(tt.steps) || !strings.Contains(p.Message, tt.message) {
				t.Fatalf("got %s %v %q; want %s %v containing %q", p.Outcome, got, p.Message, tt.outcome, tt.steps, tt.message)
			}
			for i := range got {
				if got[i] != tt.steps[i] {
					t.Fatalf("steps %v, want %v", got, tt.steps)
				}
			}
			js, err := json.MarshalIndent(p, "", "    ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("plan", tt.name+".json"), append(js, '\n'))
		})
	}
}

func terminated(p *corev1.Pod) {
	for i := range p.Status.ContainerStatuses {
		p.Status.ContainerStatuses[i].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error"}}
	}
}

// TestFenceTargetsTheLostNode: the fence names the node under the old driver,
// never the one the replacement waits on.
func TestFenceTargetsTheLostNode(t *testing.T) {
	a := app(t, "s1-step5-replacement-blocked", nil)
	p := analysis.Decide(a, analysis.Operator{NodeDown: true})
	if p.Steps[0].Node != "node-a" || a.LostNode != "node-a" {
		t.Fatalf("fence %q, lost node %q", p.Steps[0].Node, a.LostNode)
	}
	want := []string{analysis.WaitOldGone, analysis.WaitDetached, analysis.WaitNewAttached, analysis.WaitNewRunning}
	if strings.Join(p.Waits, "|") != strings.Join(want, "|") {
		t.Fatalf("waits %v", p.Waits)
	}
}

// TestWaitsOnlyForWhatExists: with a checkpoint that never attaches (NFS, or a CSI driver
// with attachRequired: false) the plan waits for no VolumeAttachment; with one that attaches
// it waits for the detach and the attach.
func TestWaitsOnlyForWhatExists(t *testing.T) {
	nfs := func(s *analysis.Snapshot) {
		s.Volumes[0].Spec.PersistentVolumeSource = corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs.example.com", Path: "/ckpt"}}
		s.VolumeAttachments = nil
	}
	noAttachCSI := func(s *analysis.Snapshot) {
		s.CSIDrivers = []storagev1.CSIDriver{{ObjectMeta: metav1.ObjectMeta{Name: s.Volumes[0].Spec.CSI.Driver},
			Spec: storagev1.CSIDriverSpec{AttachRequired: ptr.To(false)}}}
		s.VolumeAttachments = nil
	}
	short := []string{analysis.WaitOldGone, analysis.WaitNewRunning}
	for _, tt := range []struct {
		name   string
		mutate func(*analysis.Snapshot)
		want   []string
	}{
		{"attaching CSI", nil, []string{analysis.WaitOldGone, analysis.WaitDetached, analysis.WaitNewAttached, analysis.WaitNewRunning}},
		{"in-tree NFS", nfs, short},
		{"CSI without attach", noAttachCSI, short},
	} {
		p := analysis.Decide(app(t, "s3-step4-stuck-terminating", tt.mutate), analysis.Operator{NodeDown: true})
		if p.Outcome != analysis.Act || strings.Join(p.Waits, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: outcome %s, waits %q, want %q", tt.name, p.Outcome, p.Waits, tt.want)
		}
	}
}
