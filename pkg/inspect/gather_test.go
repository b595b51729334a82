package inspect_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// TestGatherTrims: Gather keeps no managed fields and no node image lists,
// which inspect never reads and which dominate the memory held on a large
// cluster (see docs/benchmarks.md).
func TestGatherTrims(t *testing.T) {
	mf := []metav1.ManagedFieldsEntry{{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pi-driver", Namespace: "spark", ManagedFields: mf,
		Labels: map[string]string{sparkapp.LabelSparkRole: sparkapp.RoleDriver}}, Spec: corev1.PodSpec{NodeName: "n1"}}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", ManagedFields: mf}, Status: corev1.NodeStatus{
		Images:     []corev1.ContainerImage{{Names: []string{"spark:3.5.3"}, SizeBytes: 1}},
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
	}}
	s, err := inspect.Gather(context.Background(), fake.NewClientset(pod, node), fixture.Dynamic(), inspect.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.DriverPods) != 1 || len(s.Nodes) != 1 {
		t.Fatalf("gathered %d driver pods, %d nodes", len(s.DriverPods), len(s.Nodes))
	}
	if s.DriverPods[0].ManagedFields != nil || s.Nodes[0].ManagedFields != nil || s.Nodes[0].Status.Images != nil {
		t.Fatalf("not trimmed: pod managedFields %v, node managedFields %v, images %v",
			s.DriverPods[0].ManagedFields, s.Nodes[0].ManagedFields, s.Nodes[0].Status.Images)
	}
	if len(s.Nodes[0].Status.Conditions) != 1 || s.DriverPods[0].Spec.NodeName != "n1" {
		t.Fatalf("trimmed too much: %+v", s)
	}
}

// TestGatherPartialAnswer: a user who may not list cluster-scoped kinds still
// gets the driver pods, and the report names what it could not see.
func TestGatherPartialAnswer(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pi-driver", Namespace: "spark", Labels: map[string]string{sparkapp.LabelSparkRole: "driver"}}}
	client := fake.NewClientset(pod)
	for _, res := range []string{"nodes", "persistentvolumes", "volumeattachments", "csidrivers"} {
		client.PrependReactor("list", res, func(a k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: a.GetResource().Resource}, "", nil)
		})
	}
	s, err := inspect.Gather(context.Background(), client, fixture.Dynamic(), inspect.Query{Namespace: "spark"})
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
	r := analysis.Analyze(s, time.Now())
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
			s, err := inspect.Gather(context.Background(), client, fixture.Dynamic(), inspect.Query{})
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
