package inspect_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
)

func nodeNamed(s *inspect.Snapshot, name string) *corev1.Node {
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
		mutate        func(*inspect.Snapshot)
		want          inspect.Verdict
		reason, next  string
	}{
		{
			name: "fenced node: out-of-service taint makes the stuck driver safe to complete", fixture: "s3-step4-stuck-terminating",
			mutate: func(s *inspect.Snapshot) {
				n := nodeNamed(s, s.DriverPods[0].Spec.NodeName)
				n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeOutOfService, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute})
			},
			want: inspect.SafeToComplete, reason: "is fenced (node.kubernetes.io/out-of-service)", next: "kubectl sparkha failover stream -n s3",
		},
		{
			name: "node rejoined, kubelet stopped the containers, pod lingers on a finalizer", fixture: "s3-step4-stuck-terminating",
			mutate: func(s *inspect.Snapshot) {
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
			want: inspect.SafeToComplete, reason: "rejoined and its kubelet stopped driver", next: "kubectl sparkha failover stream -n s3",
		},
		{
			name: "a ReadWriteMany volume left attached to a dead node blocks nothing", fixture: "f3-volume-left-on-dead-node",
			mutate: func(s *inspect.Snapshot) {
				for i := range s.Claims {
					s.Claims[i].Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
				}
			},
			want: inspect.Starting, reason: "waits for volume checkpoint (node-b)", next: "kubectl sparkha inspect stream -n f3 --watch",
		},
		{
			name: "two drivers running on Ready nodes (plain Job replacing a driver still shutting down)", fixture: "s2-split-brain",
			mutate: func(s *inspect.Snapshot) {
				for i := range s.Nodes {
					s.Nodes[i].Spec.Taints = nil
					for j := range s.Nodes[i].Status.Conditions {
						if s.Nodes[i].Status.Conditions[j].Type == corev1.NodeReady {
							s.Nodes[i].Status.Conditions[j].Status = corev1.ConditionTrue
						}
					}
				}
			},
			want: inspect.SplitBrainRisk, reason: "both run: two drivers can write the checkpoint at once",
		},
		{
			name: "a fenced lingering driver does not hide one that may run on another lost node", fixture: "s1-step5-replacement-blocked",
			mutate: func(s *inspect.Snapshot) {
				// The replacement's node is fenced too; the old driver's node-a is lost and unfenced.
				n := nodeNamed(s, s.DriverPods[1].Spec.NodeName)
				n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeOutOfService, Effect: corev1.TaintEffectNoExecute})
				s.DriverPods[1].DeletionTimestamp = s.DriverPods[0].DeletionTimestamp
			},
			want: inspect.ReplacementBlocked, reason: "where old driver spark-pi-95sbm is Terminating; Ready=Unknown",
			next: "if node-a comes back, recovery completes by itself; if it is confirmed down: kubectl sparkha failover spark-pi -n s1 --node-down",
		},
		{
			name: "replacement the scheduler cannot place (RWOP claim in use) is blocked, not a second driver", fixture: "s1-step5-replacement-blocked",
			mutate: func(s *inspect.Snapshot) {
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
			want: inspect.ReplacementBlocked, reason: "on no node yet waits for volume checkpointpvc",
		},
		{
			name: "nodes not visible: a deleted driver that has not stopped needs attention", fixture: "s3-step4-stuck-terminating",
			mutate: func(s *inspect.Snapshot) {
				s.Nodes, s.Leases = nil, nil
				s.Unavailable = []string{"nodes: Forbidden", "leases: Forbidden"}
			},
			want: inspect.StuckTerminating, reason: "node state not visible",
		},
		{
			name: "Job complete", fixture: "s1-step1-running",
			mutate: func(s *inspect.Snapshot) {
				s.Jobs[0].Status.Conditions = append(s.Jobs[0].Status.Conditions, batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue})
			},
			want: inspect.Finished, reason: "the Job completed", next: "none",
		},
		{
			name: "Job failed: backoff limit", fixture: "s1-step7-recovered",
			mutate: func(s *inspect.Snapshot) {
				s.Jobs[0].Status.Conditions = append(s.Jobs[0].Status.Conditions, batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"})
			},
			want: inspect.RetriesExhausted, reason: "BackoffLimitExceeded", next: "kubectl describe job spark-pi -n s1",
		},
		{
			name: "bare spark-submit driver on a lost node is at risk", fixture: "s1-step3-node-lost",
			mutate: func(s *inspect.Snapshot) {
				s.DriverPods[0].OwnerReferences = nil
				s.DriverPods[0].Labels[inspect.LabelAppName] = "pi"
				s.Jobs = nil
			},
			want: inspect.DriverAtRisk, reason: "Ready=Unknown",
		},
		{
			name: "bare spark-submit driver that failed is never recreated", fixture: "s1-step1-running",
			mutate: func(s *inspect.Snapshot) {
				s.DriverPods[0].OwnerReferences = nil
				s.DriverPods[0].Status.Phase = corev1.PodFailed
				s.Jobs = nil
			},
			want: inspect.RetriesExhausted, reason: "nothing recreates a spark-submit driver",
		},
		{
			name: "Spark operator driver groups by its application", fixture: "s1-step1-running",
			mutate: func(s *inspect.Snapshot) {
				s.DriverPods[0].OwnerReferences = []metav1.OwnerReference{{APIVersion: "sparkoperator.k8s.io/v1beta2", Kind: "SparkApplication", Name: "pi"}}
				s.DriverPods[0].Labels[inspect.LabelOperatorApp] = "pi"
				s.Jobs = nil
			},
			want: inspect.Healthy, reason: "runs on",
		},
		{
			name: "nodes not visible: a Running driver is still reported, the gap is named", fixture: "s1-step1-running",
			mutate: func(s *inspect.Snapshot) {
				s.Nodes, s.Leases = nil, nil
				s.Unavailable = []string{"nodes: Forbidden", "leases: Forbidden"}
			},
			want: inspect.Healthy, reason: "node state not visible",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := loadFixture(t, tt.fixture)
			tt.mutate(&f.Snapshot)
			r := inspect.Analyze(&f.Snapshot, f.Now)
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
		if got := inspect.KubectlStatus(&tt.pod); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestGatherPartialAnswer: a user who may not list cluster-scoped kinds still
// gets the driver pods, and the report names what it could not see.
func TestGatherPartialAnswer(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pi-driver", Namespace: "spark", Labels: map[string]string{inspect.LabelSparkRole: "driver"}}}
	client := fake.NewClientset(pod)
	for _, res := range []string{"nodes", "persistentvolumes", "volumeattachments", "csidrivers"} {
		client.PrependReactor("list", res, func(a k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: a.GetResource().Resource}, "", nil)
		})
	}
	s, err := inspect.Gather(context.Background(), client, inspect.Scope{Namespace: "spark"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.DriverPods) != 1 {
		t.Fatalf("driver pods: %v", s.DriverPods)
	}
	want := []string{"nodes: Forbidden", "persistentvolumes: Forbidden", "volumeattachments: Forbidden", "csidrivers: Forbidden"}
	if strings.Join(s.Unavailable, ";") != strings.Join(want, ";") {
		t.Fatalf("unavailable = %v, want %v", s.Unavailable, want)
	}
	var lists, podSelectors []string
	for _, a := range client.Actions() {
		if a.GetVerb() != "list" {
			t.Errorf("gather must only LIST, did %s %s", a.GetVerb(), a.GetResource().Resource)
		}
		lists = append(lists, a.GetResource().Resource)
		if l, ok := a.(k8stesting.ListAction); ok && a.GetResource().Resource == "pods" {
			podSelectors = append(podSelectors, l.GetListRestrictions().Labels.String()+" in "+a.GetNamespace())
		}
	}
	if len(lists) != 10 {
		t.Errorf("want 10 LIST calls, got %v", lists)
	}
	if want := "spark-role=driver in spark,spark-role=executor in spark"; strings.Join(podSelectors, ",") != want {
		t.Errorf("pod LISTs %v, want %s (driver pods, then executor pods, in the namespace)", podSelectors, want)
	}
	r := inspect.Analyze(s, time.Now())
	if len(r.Unavailable) != 4 || r.Apps[0].Drivers[0].NodeReady != "" {
		t.Errorf("report: unavailable %v, node ready %q", r.Unavailable, r.Apps[0].Drivers[0].NodeReady)
	}
}

// TestGatherRetriesTransientListFailures: a LIST that meets a 500 or a
// timeout is tried again (it changes nothing), up to three times; a
// permanent refusal (Forbidden) is not retried.
func TestGatherRetriesTransientListFailures(t *testing.T) {
	for _, tt := range []struct {
		name     string
		failures int
		err      error
		wantErr  string
		want     int // LIST calls on nodes
	}{
		{"one 500", 1, apierrors.NewInternalError(errors.New("boom")), "", 2},
		{"two timeouts", 2, apierrors.NewTimeoutError("slow", 1), "", 3},
		{"a 500 that persists", 5, apierrors.NewInternalError(errors.New("boom")), "listing nodes: Internal error occurred: boom", 3},
		{"forbidden is not retried", 5, apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", nil), "", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset()
			calls := 0
			client.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
				calls++
				if calls <= tt.failures {
					return true, nil, tt.err
				}
				return true, &corev1.NodeList{Items: []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}}}}, nil
			})
			s, err := inspect.Gather(context.Background(), client, inspect.Scope{})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if tt.want > 1 && (len(s.Nodes) != 1 || len(s.Unavailable) != 0) {
				t.Fatalf("nodes %v unavailable %v", s.Nodes, s.Unavailable)
			}
			if calls != tt.want {
				t.Fatalf("%d LIST calls on nodes, want %d", calls, tt.want)
			}
		})
	}
}
