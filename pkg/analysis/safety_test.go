package analysis_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// setReady sets a node's Ready condition (status and heartbeat) and its Lease renewal.
func setReady(s *analysis.Snapshot, node string, status corev1.ConditionStatus, heartbeat time.Time) {
	n := nodeNamed(s, node)
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == corev1.NodeReady {
			n.Status.Conditions[i].Status = status
			n.Status.Conditions[i].LastHeartbeatTime = metav1.NewTime(heartbeat)
		}
	}
	for i := range s.Leases {
		if s.Leases[i].Name == node {
			s.Leases[i].Spec.RenewTime = &metav1.MicroTime{Time: heartbeat}
		}
	}
}

func runningContainers(p *corev1.Pod) {
	for i := range p.Status.ContainerStatuses {
		p.Status.ContainerStatuses[i].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	}
}

// TestSafetyRules pins each rule that decides whether a node is lost, whether a driver may still
// run and whether finishing the old driver is safe, with a case that gives another verdict
// without the rule (make mutation; docs/benchmarks.md, "Mutation testing").
func TestSafetyRules(t *testing.T) {
	tests := []struct {
		name, fixture string
		mutate        func(*analysis.Snapshot)
		want          analysis.Verdict
		reason, next  string
		lostNode      string
		app           string // and its number of drivers, when set
		drivers       int
	}{
		{
			name: "safe to complete needs the rejoin: no heartbeat since the deletion", fixture: "f1-rejoined-lingering",
			mutate: func(s *analysis.Snapshot) {
				p := &s.DriverPods[0]
				setReady(s, p.Spec.NodeName, corev1.ConditionTrue, p.DeletionTimestamp.Add(-time.Hour))
			},
			want: analysis.Starting, reason: "driver stream-j4nqb is Terminating on node-a",
			next: "kubectl sparkha inspect stream -n f1 --watch",
		},
		{
			name: "safe to complete needs the containers stopped", fixture: "f1-rejoined-lingering",
			mutate: func(s *analysis.Snapshot) { runningContainers(&s.DriverPods[0]) },
			want:   analysis.Starting, reason: "driver stream-j4nqb is Terminating on node-a",
			next: "kubectl sparkha inspect stream -n f1 --watch",
		},
		{
			name: "a node not Ready is lost before its taint is set", fixture: "s1-step3-node-lost",
			mutate: func(s *analysis.Snapshot) { nodeNamed(s, "node-a").Spec.Taints = nil },
			want:   analysis.DriverAtRisk, reason: "node node-a of driver spark-pi-95sbm is Ready=Unknown; the driver will be evicted when its toleration of the node.kubernetes.io/unreachable taint expires",
			next: "kubectl describe node node-a", lostNode: "node-a",
		},
		{
			name: "a Ready node keeping its unreachable NoExecute taint is still lost", fixture: "s1-step3-node-lost",
			mutate: func(s *analysis.Snapshot) {
				setReady(s, "node-a", corev1.ConditionTrue, time.Date(2026, 11, 25, 14, 29, 22, 0, time.UTC))
			},
			want: analysis.DriverAtRisk, reason: "node node-a of driver spark-pi-95sbm is Ready=True, tainted node.kubernetes.io/unreachable:NoExecute; the driver will be evicted when its toleration of the node.kubernetes.io/unreachable taint expires",
			next: "kubectl describe node node-a", lostNode: "node-a",
		},
		{
			name: "a Ready node with only a NoSchedule unreachable taint is not lost", fixture: "s1-step3-node-lost",
			mutate: func(s *analysis.Snapshot) {
				setReady(s, "node-a", corev1.ConditionTrue, time.Date(2026, 11, 25, 14, 29, 22, 0, time.UTC))
				n := nodeNamed(s, "node-a")
				n.Spec.Taints = []corev1.Taint{{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule}}
			},
			want: analysis.Healthy, reason: "driver spark-pi-95sbm runs on node-a",
			next: "none",
		},
		{
			name: "a Ready node with the not-ready NoExecute taint is still lost", fixture: "s1-step3-node-lost",
			mutate: func(s *analysis.Snapshot) {
				setReady(s, "node-a", corev1.ConditionTrue, time.Date(2026, 11, 25, 14, 29, 22, 0, time.UTC))
				n := nodeNamed(s, "node-a")
				n.Spec.Taints = []corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}}
			},
			want: analysis.DriverAtRisk, reason: "node node-a of driver spark-pi-95sbm is Ready=True, tainted node.kubernetes.io/not-ready:NoExecute; the driver will be evicted when its toleration of the node.kubernetes.io/unreachable taint expires",
			next: "kubectl describe node node-a", lostNode: "node-a",
		},
		{
			name: "drivers on two lost nodes may both run", fixture: "s2-split-brain",
			mutate: func(s *analysis.Snapshot) {
				setReady(s, "node-b", corev1.ConditionUnknown, time.Date(2026, 11, 25, 14, 29, 50, 0, time.UTC))
			},
			want: analysis.SplitBrainRisk, reason: "driver spark-pi-tw4dd may still run on node-a (Ready=Unknown, tainted node.kubernetes.io/unreachable:NoExecute) while driver spark-pi-qmf69 runs on node-b: two drivers can write the checkpoint at once",
			next: "power off or isolate node-a now, then: kubectl sparkha failover spark-pi -n s2 --node-down", lostNode: "node-a",
		},
		{
			name: "a driver still starting when its node was lost may run now", fixture: "s2-split-brain",
			mutate: func(s *analysis.Snapshot) {
				setReady(s, "node-b", corev1.ConditionUnknown, time.Date(2026, 11, 25, 14, 29, 50, 0, time.UTC))
				p := &s.DriverPods[0]
				p.Status.Phase = corev1.PodPending
				for i := range p.Status.ContainerStatuses {
					p.Status.ContainerStatuses[i].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
				}
			},
			want: analysis.SplitBrainRisk, reason: "driver spark-pi-tw4dd may still run on node-a (Ready=Unknown, tainted node.kubernetes.io/unreachable:NoExecute) while driver spark-pi-qmf69 runs on node-b: two drivers can write the checkpoint at once",
			next: "power off or isolate node-a now, then: kubectl sparkha failover spark-pi -n s2 --node-down", lostNode: "node-a",
		},
		{
			name: "a replacement being deleted still runs beside the lost node's driver", fixture: "s2-split-brain",
			mutate: func(s *analysis.Snapshot) {
				s.DriverPods[0].DeletionTimestamp = s.DriverPods[1].DeletionTimestamp
			},
			want: analysis.SplitBrainRisk, reason: "driver spark-pi-tw4dd may still run on node-a (Ready=Unknown, tainted node.kubernetes.io/unreachable:NoExecute) while driver spark-pi-qmf69 runs on node-b: two drivers can write the checkpoint at once",
			next: "power off or isolate node-a now, then: kubectl sparkha failover spark-pi -n s2 --node-down", lostNode: "node-a",
		},
		{
			name: "a replacement starting beside the lost node's driver: two may run", fixture: "s2-split-brain",
			mutate: func(s *analysis.Snapshot) {
				repl := &s.DriverPods[0]
				repl.Status.Phase = corev1.PodPending
				for i := range repl.Status.ContainerStatuses {
					repl.Status.ContainerStatuses[i].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
				}
				var vas []storagev1.VolumeAttachment
				for _, va := range s.VolumeAttachments {
					if va.Spec.NodeName == repl.Spec.NodeName {
						vas = append(vas, va)
					}
				}
				s.VolumeAttachments = vas
			},
			want: analysis.SplitBrainRisk, reason: "driver spark-pi-tw4dd may still run on node-a (Ready=Unknown, tainted node.kubernetes.io/unreachable:NoExecute) while driver spark-pi-qmf69 is starting on node-b: two drivers can write the checkpoint at once",
			next: "power off or isolate node-a now, then: kubectl sparkha failover spark-pi -n s2 --node-down", lostNode: "node-a",
		},
		{
			name: "split brain names the driver that runs, not a newer one starting", fixture: "s2-split-brain",
			mutate: func(s *analysis.Snapshot) {
				// The driver on Ready node-b is the older one; the one on lost node-a the newer;
				// a third waits to start on node-b.
				s.DriverPods[0].CreationTimestamp, s.DriverPods[1].CreationTimestamp = s.DriverPods[1].CreationTimestamp, s.DriverPods[0].CreationTimestamp
				p := *s.DriverPods[0].DeepCopy()
				p.Name, p.UID = "spark-pi-third", "third-uid"
				p.CreationTimestamp = metav1.NewTime(s.DriverPods[1].CreationTimestamp.Add(time.Second))
				p.Status = corev1.PodStatus{Phase: corev1.PodPending}
				s.DriverPods = append(s.DriverPods, p)
			},
			want: analysis.SplitBrainRisk, reason: "driver spark-pi-tw4dd may still run on node-a (Ready=Unknown, tainted node.kubernetes.io/unreachable:NoExecute) while driver spark-pi-qmf69 runs on node-b: two drivers can write the checkpoint at once",
			next: "power off or isolate node-a now, then: kubectl sparkha failover spark-pi -n s2 --node-down", lostNode: "node-a",
		},
		{
			name: "bare driver pods are one app by their spark-app-selector", fixture: "s1-step7-recovered",
			mutate: func(s *analysis.Snapshot) {
				s.Jobs = nil
				p := &s.DriverPods[0]
				p.OwnerReferences = nil
				delete(p.Labels, sparkapp.LabelAppName)
				p.Labels[sparkapp.LabelAppSelector] = "spark-0123"
				old := *p.DeepCopy()
				old.Name, old.UID = "spark-pi-older", "older-uid"
				old.CreationTimestamp = metav1.NewTime(p.CreationTimestamp.Add(-time.Minute))
				old.Status.Phase = corev1.PodFailed
				s.DriverPods = append(s.DriverPods, old)
			},
			want: analysis.Healthy, reason: "driver spark-pi-s5d8t runs on node-b", next: "none", app: "spark-0123", drivers: 2,
		},
		{
			name: "a bare driver pod without Spark's labels is an app by its name", fixture: "s1-step7-recovered",
			mutate: func(s *analysis.Snapshot) {
				s.Jobs = nil
				p := &s.DriverPods[0]
				p.OwnerReferences = nil
				delete(p.Labels, sparkapp.LabelAppName)
				delete(p.Labels, sparkapp.LabelAppSelector)
			},
			want: analysis.Healthy, reason: "driver spark-pi-s5d8t runs on node-b", next: "none", app: "spark-pi-s5d8t", drivers: 1,
		},
		{
			name: "an unplaceable replacement whose only warning is FailedScheduling is blocked", fixture: "s1-step5-replacement-blocked",
			mutate: func(s *analysis.Snapshot) {
				repl := &s.DriverPods[1]
				repl.Spec.NodeName = ""
				repl.Status = corev1.PodStatus{Phase: corev1.PodPending}
				s.Events = []corev1.Event{{
					ObjectMeta:     metav1.ObjectMeta{Name: "sched", Namespace: repl.Namespace},
					InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: repl.Namespace, Name: repl.Name, UID: repl.UID},
					Type:           corev1.EventTypeWarning, Reason: "FailedScheduling", LastTimestamp: repl.CreationTimestamp,
					Message: "0/2 nodes are available: 2 node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod.",
				}}
			},
			want: analysis.ReplacementBlocked, reason: "new driver spark-pi-s5d8t on no node yet waits for volume checkpointpvc (claim spark-pi-checkpoint) still attached to node-a, where old driver spark-pi-95sbm is Terminating; Ready=Unknown, tainted node.kubernetes.io/unreachable:NoExecute",
			next: "if node-a comes back, recovery completes by itself; once you know it is powered off, or cut from its storage and network (a network partition is not enough): kubectl sparkha failover spark-pi -n s1 --node-down", lostNode: "node-a",
		},
		{
			name: "an unplaceable replacement is blocked by an older FailedScheduling too", fixture: "s1-step5-replacement-blocked",
			mutate: func(s *analysis.Snapshot) {
				repl := &s.DriverPods[1]
				repl.Spec.NodeName = ""
				repl.Status = corev1.PodStatus{Phase: corev1.PodPending}
				ref := corev1.ObjectReference{Kind: "Pod", Namespace: repl.Namespace, Name: repl.Name, UID: repl.UID}
				s.Events = []corev1.Event{
					{ObjectMeta: metav1.ObjectMeta{Name: "sched", Namespace: repl.Namespace}, InvolvedObject: ref, Type: corev1.EventTypeWarning,
						Reason: "FailedScheduling", LastTimestamp: repl.CreationTimestamp, Message: "0/2 nodes are available: PersistentVolumeClaim in use."},
					{ObjectMeta: metav1.ObjectMeta{Name: "later", Namespace: repl.Namespace}, InvolvedObject: ref, Type: corev1.EventTypeWarning,
						Reason: "Unhealthy", LastTimestamp: metav1.NewTime(repl.CreationTimestamp.Add(time.Second)), Message: "injected"},
				}
			},
			want: analysis.ReplacementBlocked, reason: "new driver spark-pi-s5d8t on no node yet waits for volume checkpointpvc (claim spark-pi-checkpoint) still attached to node-a, where old driver spark-pi-95sbm is Terminating; Ready=Unknown, tainted node.kubernetes.io/unreachable:NoExecute",
			next: "if node-a comes back, recovery completes by itself; once you know it is powered off, or cut from its storage and network (a network partition is not enough): kubectl sparkha failover spark-pi -n s1 --node-down", lostNode: "node-a",
		},
		{
			name: "an unplaceable replacement without volumes waits for no volume", fixture: "s1-step5-replacement-blocked",
			mutate: func(s *analysis.Snapshot) {
				repl := &s.DriverPods[1]
				repl.Spec.NodeName = ""
				repl.Spec.Volumes = nil
				repl.Status = corev1.PodStatus{Phase: corev1.PodPending}
				s.Events = []corev1.Event{{
					ObjectMeta:     metav1.ObjectMeta{Name: "sched", Namespace: repl.Namespace},
					InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: repl.Namespace, Name: repl.Name, UID: repl.UID},
					Type:           corev1.EventTypeWarning, Reason: "FailedScheduling", LastTimestamp: repl.CreationTimestamp,
					Message: "0/2 nodes are available: 1 Insufficient cpu.",
				}}
			},
			want: analysis.SplitBrainRisk, reason: "driver spark-pi-95sbm may still run on node-a (Ready=Unknown, tainted node.kubernetes.io/unreachable:NoExecute) while driver spark-pi-s5d8t is starting on no node yet: two drivers can write the checkpoint at once",
			next: "power off or isolate node-a now, then: kubectl sparkha failover spark-pi -n s1 --node-down", lostNode: "node-a",
		},
		{
			name: "a replacement whose volume is attached to another node is blocked without any event", fixture: "s1-step5-replacement-blocked",
			mutate: func(s *analysis.Snapshot) { s.Events = nil },
			want:   analysis.ReplacementBlocked, reason: "new driver spark-pi-s5d8t on node-b waits for volume checkpointpvc (claim spark-pi-checkpoint) still attached to node-a, where old driver spark-pi-95sbm is Terminating; Ready=Unknown, tainted node.kubernetes.io/unreachable:NoExecute",
			next: "if node-a comes back, recovery completes by itself; once you know it is powered off, or cut from its storage and network (a network partition is not enough): kubectl sparkha failover spark-pi -n s1 --node-down", lostNode: "node-a",
		},
		{
			name: "a pending driver whose volume is attached to its own node waits for nothing", fixture: "s1-step7-recovered",
			mutate: func(s *analysis.Snapshot) {
				s.Events = nil
				s.DriverPods[0].Status.Phase = corev1.PodPending
				for i := range s.DriverPods[0].Status.ContainerStatuses {
					s.DriverPods[0].Status.ContainerStatuses[i].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
				}
			},
			want: analysis.Starting, reason: "driver spark-pi-s5d8t is ContainerCreating on node-b", next: "kubectl sparkha inspect spark-pi -n s1 --watch",
		},
		{
			name: "a fenced node's driver not deleted yet will be force-deleted", fixture: "s1-step3-node-lost",
			mutate: func(s *analysis.Snapshot) {
				n := nodeNamed(s, "node-a")
				n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeOutOfService, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute})
			},
			want: analysis.SafeToComplete, reason: "node node-a is fenced (node.kubernetes.io/out-of-service); driver spark-pi-95sbm will be force-deleted",
			next: "kubectl sparkha failover spark-pi -n s1", lostNode: "node-a",
		},
		{
			name: "a second app's Job that runs no Spark driver is no app", fixture: "s1-step7-recovered",
			mutate: func(s *analysis.Snapshot) {
				j := *s.Jobs[0].DeepCopy()
				j.Name = "nightly-backup"
				j.Labels = map[string]string{"app": "backup"}
				j.Spec.Template.Labels = map[string]string{"app": "backup"}
				s.Jobs = append(s.Jobs, j)
			},
			want: analysis.Healthy, reason: "driver spark-pi-s5d8t runs on node-b", next: "none",
		},
		{
			name: "a Job's driver that ended is not running: the Job starts the next one", fixture: "s1-step7-recovered",
			mutate: func(s *analysis.Snapshot) {
				s.DriverPods[0].Status.Phase = corev1.PodFailed
				for i := range s.DriverPods[0].Status.ContainerStatuses {
					s.DriverPods[0].Status.ContainerStatuses[i].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}
				}
			},
			want: analysis.Starting, reason: "driver spark-pi-s5d8t ended (Error); the Job starts the next generation",
			next: "kubectl sparkha inspect spark-pi -n s1 --watch",
		},
		{
			name: "healthy needs a single live driver: a second one pending is a start", fixture: "s1-step7-recovered",
			mutate: func(s *analysis.Snapshot) {
				p := *s.DriverPods[0].DeepCopy()
				p.Name, p.UID = "spark-pi-next1", "next-uid"
				p.CreationTimestamp = metav1.NewTime(p.CreationTimestamp.Add(time.Second))
				p.Spec.NodeName = ""
				p.Status = corev1.PodStatus{Phase: corev1.PodPending}
				s.DriverPods = append(s.DriverPods, p)
			},
			want: analysis.Starting, reason: "driver spark-pi-next1 is Pending on no node yet",
			next: "kubectl sparkha inspect spark-pi -n s1 --watch",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture.Load(t, tt.fixture)
			tt.mutate(&f.Snapshot)
			r := analysis.Analyze(&f.Snapshot, f.Now)
			if len(r.Apps) != 1 {
				t.Fatalf("want one app, got %d", len(r.Apps))
			}
			a := r.Apps[0]
			if strings.HasPrefix(tt.name, "an unplaceable replacement whose only warning") {
				if ev := a.Drivers[1].Volumes[0].LastEvent; ev == nil || ev.Reason != "FailedScheduling" {
					t.Errorf("the blocked volume's last event: %+v, want the FailedScheduling one", ev)
				}
			}
			if tt.app != "" && (a.Name != tt.app || len(a.Drivers) != tt.drivers) {
				t.Errorf("app %s with %d drivers, want %s with %d", a.Name, len(a.Drivers), tt.app, tt.drivers)
			}
			if a.Verdict != tt.want || a.Reason != tt.reason || a.NextAction != tt.next || a.LostNode != tt.lostNode {
				t.Errorf("got %s (%q), next %q, lost node %q;\nwant %s (%q), next %q, lost node %q", a.Verdict, a.Reason, a.NextAction, a.LostNode, tt.want, tt.reason, tt.next, tt.lostNode)
			}
		})
	}
}

// TestStuckOnReadyNodeAfterTwoMinutes: a deleted driver whose containers run on a Ready node is
// stuck only once its deletion deadline (request + grace period) is more than 2 minutes past.
func TestStuckOnReadyNodeAfterTwoMinutes(t *testing.T) {
	f := fixture.Load(t, "f1-rejoined-lingering")
	p := &f.Snapshot.DriverPods[0]
	runningContainers(p)
	deadline := p.DeletionTimestamp.Time
	for _, tc := range []struct {
		after  time.Duration
		want   analysis.Verdict
		reason string
	}{
		{2 * time.Minute, analysis.Starting, "driver stream-j4nqb is Terminating on node-a"},
		{2*time.Minute + time.Second, analysis.StuckTerminating, "driver stream-j4nqb has been terminating for more than 2 minutes on Ready node node-a: its kubelet has not stopped it"},
		{2*time.Hour + 4*time.Minute + 30*time.Second, analysis.StuckTerminating, "driver stream-j4nqb has been terminating for more than 2 minutes on Ready node node-a: its kubelet has not stopped it"},
	} {
		a := analysis.Analyze(&f.Snapshot, deadline.Add(tc.after)).Apps[0]
		if a.Verdict != tc.want || a.Reason != tc.reason {
			t.Errorf("%s past the deadline: %s (%q), want %s (%q)", tc.after, a.Verdict, a.Reason, tc.want, tc.reason)
		}
	}
}

// TestNotStuckForThePartition: a driver deleted while its node was partitioned is stopped by
// its kubelet only once the node rejoins: the 2 minutes count from the node's return to Ready
// when that is later than the deletion deadline.
func TestNotStuckForThePartition(t *testing.T) {
	f := fixture.Load(t, "f1-rejoined-lingering")
	p := &f.Snapshot.DriverPods[0]
	runningContainers(p)
	now := f.Now
	p.DeletionTimestamp = &metav1.Time{Time: now.Add(-10 * time.Minute)}
	for _, tc := range []struct {
		ready  time.Duration // the node Ready since, before now
		want   analysis.Verdict
		reason string
	}{
		{5 * time.Second, analysis.Starting, "driver stream-j4nqb is Terminating on node-a"},
		{2 * time.Minute, analysis.Starting, "driver stream-j4nqb is Terminating on node-a"},
		{3 * time.Minute, analysis.StuckTerminating, "driver stream-j4nqb has been terminating for more than 2 minutes on Ready node node-a: its kubelet has not stopped it"},
		// Ready before the deletion: the deadline counts.
		{time.Hour, analysis.StuckTerminating, "driver stream-j4nqb has been terminating for more than 2 minutes on Ready node node-a: its kubelet has not stopped it"},
	} {
		readySince(nodeNamed(&f.Snapshot, "node-a"), now.Add(-tc.ready))
		a := analysis.Analyze(&f.Snapshot, now).Apps[0]
		if a.Verdict != tc.want || a.Reason != tc.reason {
			t.Errorf("deleted 10m ago, node Ready since %s: %s (%q), want %s (%q)", tc.ready, a.Verdict, a.Reason, tc.want, tc.reason)
		}
	}
}

// TestTerminalBeforeUnmount: a v1.27+ kubelet writes the terminal phase once the containers
// stopped and deletes the pod only after its volumes are unmounted, so an unmount that hangs
// leaves the pod Failed with its deletion timestamp on a Ready node. That driver is ended, not
// lingering: nothing for failover to finish (the Job replaces a terminal pod by itself, and a
// forced delete would not unmount the volume).
func TestTerminalBeforeUnmount(t *testing.T) {
	f := fixture.Load(t, "f1-rejoined-lingering")
	p := &f.Snapshot.DriverPods[0]
	p.Status.Phase = corev1.PodFailed
	a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]
	d := a.Drivers[0]
	if a.Verdict != analysis.Starting || a.Reason != "driver stream-j4nqb ended (Error); the Job starts the next generation" ||
		d.Deleted == nil || !d.ContainersStopped || !d.Ended || d.MayRun {
		t.Errorf("%s (%q), driver %+v", a.Verdict, a.Reason, d)
	}
	if plan := analysis.Decide(a, analysis.Operator{}); plan.Outcome != analysis.NothingToDo || len(plan.Steps) != 0 {
		t.Errorf("plan %+v", plan)
	}
}

// readySince sets n Ready=True since t, with a heartbeat now.
func readySince(n *corev1.Node, t time.Time) {
	for i := range n.Status.Conditions {
		if c := &n.Status.Conditions[i]; c.Type == corev1.NodeReady {
			c.Status, c.LastTransitionTime = corev1.ConditionTrue, metav1.NewTime(t)
		}
	}
}

// TestPodlessJobKind: a driver Job between generations (no pod) is an app of its kind.
func TestPodlessJobKind(t *testing.T) {
	for _, managed := range []bool{false, true} {
		f := fixture.Load(t, "s1-step7-recovered")
		f.Snapshot.DriverPods = nil
		want := sparkapp.KindJob
		if managed {
			f.Snapshot.Jobs[0].Labels[sparkapp.LabelManagedBy] = sparkapp.ManagedBy
			want = sparkapp.KindSparkhaJob
		}
		a := analysis.Analyze(&f.Snapshot, f.Now).Apps[0]
		if a.Kind != want || a.Verdict != analysis.Starting || a.Reason != "the Job has no driver pod yet" {
			t.Errorf("managed %v: %s %s (%q), want %s Starting", managed, a.Kind, a.Verdict, a.Reason, want)
		}
	}
}
