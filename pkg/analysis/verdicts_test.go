package analysis_test

import (
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

func nodeNamed(s *analysis.Snapshot, name string) *corev1.Node {
	for i := range s.Nodes {
		if s.Nodes[i].Name == name {
			return &s.Nodes[i]
		}
	}
	return nil
}

// TestVerdictsBeyondTheCaptures derives the states the scenarios did not
// capture from captured snapshots, changing only what makes the difference.
func TestVerdictsBeyondTheCaptures(t *testing.T) {
	tests := []struct {
		name, fixture string
		mutate        func(*analysis.Snapshot)
		want          analysis.Verdict
		reason, next  string
	}{
		{
			name: "fenced node: out-of-service taint makes the stuck driver safe to complete", fixture: "s3-step4-stuck-terminating",
			mutate: func(s *analysis.Snapshot) {
				n := nodeNamed(s, s.DriverPods[0].Spec.NodeName)
				n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeOutOfService, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute})
			},
			want: analysis.SafeToComplete, reason: "is fenced (node.kubernetes.io/out-of-service)", next: "kubectl sparkha failover stream -n s3",
		},
		{
			name: "node rejoined, kubelet stopped the containers, pod lingers on a finalizer", fixture: "s3-step4-stuck-terminating",
			mutate: func(s *analysis.Snapshot) {
				p := &s.DriverPods[0]
				n := nodeNamed(s, p.Spec.NodeName)
				n.Spec.Taints = nil
				later := metav1.NewTime(p.DeletionTimestamp.Add(time.Minute))
				for i := range n.Status.Conditions {
					if n.Status.Conditions[i].Type == corev1.NodeReady {
						n.Status.Conditions[i].Status = corev1.ConditionTrue
						n.Status.Conditions[i].LastHeartbeatTime = later
					}
				}
				p.Finalizers = []string{"example.com/hold"}
				for i := range p.Status.ContainerStatuses {
					p.Status.ContainerStatuses[i].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error"}}
				}
			},
			want: analysis.SafeToComplete, reason: "rejoined and its kubelet stopped driver", next: "kubectl sparkha failover stream -n s3",
		},
		{
			name: "a ReadWriteMany volume left attached to a dead node blocks nothing", fixture: "f3-volume-left-on-dead-node",
			mutate: func(s *analysis.Snapshot) {
				for i := range s.Claims {
					s.Claims[i].Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
				}
			},
			want: analysis.Starting, reason: "waits for volume checkpoint (node-b)", next: "kubectl sparkha inspect stream -n f3 --watch",
		},
		{
			name: "two drivers running on Ready nodes (plain Job replacing a driver still shutting down)", fixture: "s2-split-brain",
			mutate: func(s *analysis.Snapshot) {
				for i := range s.Nodes {
					s.Nodes[i].Spec.Taints = nil
					for j := range s.Nodes[i].Status.Conditions {
						if s.Nodes[i].Status.Conditions[j].Type == corev1.NodeReady {
							s.Nodes[i].Status.Conditions[j].Status = corev1.ConditionTrue
						}
					}
				}
			},
			want: analysis.SplitBrainRisk, reason: "both run: two drivers can write the checkpoint at once",
		},
		{
			name: "a fenced lingering driver does not hide one that may run on another lost node", fixture: "s1-step5-replacement-blocked",
			mutate: func(s *analysis.Snapshot) {
				// The replacement's node is fenced too; the old driver's node-a is lost and unfenced.
				n := nodeNamed(s, s.DriverPods[1].Spec.NodeName)
				n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeOutOfService, Effect: corev1.TaintEffectNoExecute})
				s.DriverPods[1].DeletionTimestamp = s.DriverPods[0].DeletionTimestamp
			},
			want: analysis.ReplacementBlocked, reason: "where old driver spark-pi-95sbm is Terminating; Ready=Unknown",
			next: "if node-a comes back, recovery completes by itself; once you know it is powered off, or cut from its storage and network (a network partition is not enough): kubectl sparkha failover spark-pi -n s1 --node-down",
		},
		{
			name: "replacement the scheduler cannot place (RWOP claim in use) is blocked, not a second driver", fixture: "s1-step5-replacement-blocked",
			mutate: func(s *analysis.Snapshot) {
				repl := &s.DriverPods[1]
				repl.Spec.NodeName = ""
				repl.Status = corev1.PodStatus{Phase: corev1.PodPending}
				s.Events = append(s.Events, corev1.Event{
					ObjectMeta:     metav1.ObjectMeta{Name: "sched", Namespace: repl.Namespace},
					InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: repl.Namespace, Name: repl.Name, UID: repl.UID},
					Type:           corev1.EventTypeWarning, Reason: "FailedScheduling", LastTimestamp: metav1.Now(),
					Message: "0/2 nodes are available: 2 node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod.",
				})
			},
			want: analysis.ReplacementBlocked, reason: "on no node yet waits for volume checkpointpvc",
		},
		{
			name: "nodes not visible: a deleted driver that has not stopped needs attention", fixture: "s3-step4-stuck-terminating",
			mutate: func(s *analysis.Snapshot) {
				s.Nodes, s.Leases = nil, nil
				s.Unavailable = []string{"nodes: Forbidden", "leases: Forbidden"}
			},
			want: analysis.StuckTerminating, reason: "node state not visible",
		},
		{
			name: "Job complete", fixture: "s1-step1-running",
			mutate: func(s *analysis.Snapshot) {
				s.Jobs[0].Status.Conditions = append(s.Jobs[0].Status.Conditions, batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue})
			},
			want: analysis.Finished, reason: "the Job completed", next: "none",
		},
		{
			name: "Job failed: backoff limit", fixture: "s1-step7-recovered",
			mutate: func(s *analysis.Snapshot) {
				s.Jobs[0].Status.Conditions = append(s.Jobs[0].Status.Conditions, batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"})
			},
			want: analysis.RetriesExhausted, reason: "BackoffLimitExceeded", next: "kubectl describe job spark-pi -n s1",
		},
		{
			name: "bare spark-submit driver on a lost node is at risk", fixture: "s1-step3-node-lost",
			mutate: func(s *analysis.Snapshot) {
				s.DriverPods[0].OwnerReferences = nil
				s.DriverPods[0].Labels[sparkapp.LabelAppName] = "pi"
				s.Jobs = nil
			},
			want: analysis.DriverAtRisk, reason: "Ready=Unknown",
		},
		{
			name: "bare spark-submit driver that failed is never recreated", fixture: "s1-step1-running",
			mutate: func(s *analysis.Snapshot) {
				s.DriverPods[0].OwnerReferences = nil
				s.DriverPods[0].Status.Phase = corev1.PodFailed
				s.Jobs = nil
			},
			want: analysis.RetriesExhausted, reason: "nothing recreates a spark-submit driver",
		},
		{
			name: "Spark operator driver groups by its application", fixture: "s1-step1-running",
			mutate: func(s *analysis.Snapshot) {
				s.DriverPods[0].OwnerReferences = []metav1.OwnerReference{{APIVersion: "sparkoperator.k8s.io/v1beta2", Kind: "SparkApplication", Name: "pi"}}
				s.DriverPods[0].Labels[sparkapp.LabelOperatorApp] = "pi"
				s.Jobs = nil
			},
			want: analysis.Healthy, reason: "runs on",
		},
		{
			name: "nodes not visible: a Running driver is still reported, the gap is named", fixture: "s1-step1-running",
			mutate: func(s *analysis.Snapshot) {
				s.Nodes, s.Leases = nil, nil
				s.Unavailable = []string{"nodes: Forbidden", "leases: Forbidden"}
			},
			want: analysis.Healthy, reason: "node state not visible",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := loadFixture(t, tt.fixture)
			tt.mutate(&f.Snapshot)
			r := analysis.Analyze(&f.Snapshot, f.Now)
			if len(r.Apps) != 1 {
				t.Fatalf("want one app, got %+v", r.Apps)
			}
			a := r.Apps[0]
			if a.Verdict != tt.want || !strings.Contains(a.Reason, tt.reason) || (tt.next != "" && a.NextAction != tt.next) {
				t.Fatalf("got %s: %q next %q; want %s containing %q next %q", a.Verdict, a.Reason, a.NextAction, tt.want, tt.reason, tt.next)
			}
			if len(f.Snapshot.Unavailable) > 0 && len(r.Unavailable) != len(f.Snapshot.Unavailable) {
				t.Errorf("report must carry what was not visible: %v", r.Unavailable)
			}
		})
	}
}

func TestKubectlStatus(t *testing.T) {
	deleted := metav1.Now()
	tests := []struct {
		name string
		pod  corev1.Pod
		want string
	}{
		{"running", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}}, "Running"},
		{"waiting for volumes", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}}}, "ContainerCreating"},
		{"evicted on current Kubernetes", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &deleted}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}, "Terminating"},
		{"evicted on a 2018 cluster (NodeLost)", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &deleted}, Status: corev1.PodStatus{Phase: corev1.PodRunning, Reason: "NodeLost"}}, "Unknown"},
		{"deleted but already failed", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &deleted}, Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error"}}}}}}, "Error"},
	}
	for _, tt := range tests {
		if got := analysis.KubectlStatus(&tt.pod); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}
