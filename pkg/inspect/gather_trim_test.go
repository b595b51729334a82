package inspect_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
)

// TestGatherTrims: Gather keeps no managed fields and no node image lists,
// which inspect never reads and which dominate the memory held on a large
// cluster (see docs/benchmarks.md).
func TestGatherTrims(t *testing.T) {
	mf := []metav1.ManagedFieldsEntry{{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pi-driver", Namespace: "spark", ManagedFields: mf,
		Labels: map[string]string{inspect.LabelSparkRole: inspect.RoleDriver}}, Spec: corev1.PodSpec{NodeName: "n1"}}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", ManagedFields: mf}, Status: corev1.NodeStatus{
		Images:     []corev1.ContainerImage{{Names: []string{"spark:3.5.3"}, SizeBytes: 1}},
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
	}}
	s, err := inspect.Gather(context.Background(), fake.NewClientset(pod, node), inspect.Scope{})
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
