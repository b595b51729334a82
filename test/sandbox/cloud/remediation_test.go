package cloud

import (
	"context"
	"io"
	"log"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/crd"
)

// machines records what the fence agent powered off.
type machines struct{ off []string }

func (m *machines) MachineRunning(node string) bool { return !slices.Contains(m.off, node) }
func (m *machines) PowerOff(node, by string) error {
	m.off = append(m.off, node+" by "+by)
	return nil
}

// TestOperatorReconcilesAsUpstream: pass by pass, what the fence-agents-remediation controller
// does on node loss: finalizer and Processing; its NoSchedule taint and the fence agent,
// FenceAgentActionSucceeded; the strategy's action, Succeeded; on deletion its taints and
// finalizer go.
func TestOperatorReconcilesAsUpstream(t *testing.T) {
	for _, strategy := range []string{"OutOfServiceTaint", "ResourceDeletion"} {
		t.Run(strategy, func(t *testing.T) {
			ctx := context.Background()
			client := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}},
				&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "spark"}})
			far := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "fence-agents-remediation.medik8s.io/v1alpha1", "kind": "FenceAgentsRemediation",
				"metadata": map[string]any{"name": "node-a", "namespace": "medik8s"},
				"spec":     map[string]any{"agent": "fence_ipmilan", "remediationStrategy": strategy},
			}}
			dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
				map[schema.GroupVersionResource]string{FARResource: "FenceAgentsRemediationList"}, far)
			m := &machines{}
			op := &operator{client: client, dyn: dyn, machines: m, log: log.New(io.Discard, "", 0)}
			pass := func() *unstructured.Unstructured {
				t.Helper()
				got, err := dyn.Resource(FARResource).Namespace("medik8s").Get(ctx, "node-a", metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if err := op.reconcile(ctx, got); err != nil {
					t.Fatal(err)
				}
				got, err = dyn.Resource(FARResource).Namespace("medik8s").Get(ctx, "node-a", metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			state := func(u *unstructured.Unstructured) string {
				var s []string
				for _, c := range crd.Conditions(u) {
					s = append(s, c.Type+"="+string(c.Status)+"/"+c.Reason)
				}
				return strings.Join(s, ",")
			}
			taints := func() string {
				n, err := client.CoreV1().Nodes().Get(ctx, "node-a", metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				var s []string
				for _, t := range n.Spec.Taints {
					s = append(s, t.ToString())
				}
				return strings.Join(s, ",")
			}

			got := pass()
			if want := "Processing=True/RemediationStarted,FenceAgentActionSucceeded=Unknown/RemediationStarted,Succeeded=Unknown/RemediationStarted"; state(got) != want ||
				!slices.Equal(got.GetFinalizers(), []string{farFinalizer}) || taints() != "" || len(m.off) != 0 {
				t.Fatalf("pass 1: %s, finalizers %v, taints %q, off %v", state(got), got.GetFinalizers(), taints(), m.off)
			}
			got = pass()
			if want := "Processing=True/RemediationStarted,FenceAgentActionSucceeded=True/FenceAgentSucceeded,Succeeded=Unknown/RemediationStarted"; state(got) != want ||
				taints() != FARTaintKey+":NoSchedule" || !slices.Equal(m.off, []string{"node-a by fence agent of FenceAgentsRemediation medik8s/node-a"}) {
				t.Fatalf("pass 2: %s, taints %q, off %v", state(got), taints(), m.off)
			}
			client.ClearActions()
			got = pass()
			wantTaints := FARTaintKey + ":NoSchedule"
			if strategy == "OutOfServiceTaint" {
				wantTaints += "," + corev1.TaintNodeOutOfService + "=nodeshutdown:NoExecute"
			}
			if want := "Processing=False/RemediationFinishedSuccessfully,FenceAgentActionSucceeded=True/FenceAgentSucceeded,Succeeded=True/RemediationFinishedSuccessfully"; state(got) != want ||
				taints() != wantTaints || len(m.off) != 1 {
				t.Fatalf("pass 3: %s, taints %q, off %v", state(got), taints(), m.off)
			}
			var deletes []string
			for _, a := range client.Actions() {
				if dc, ok := a.(k8stesting.DeleteCollectionAction); ok && a.GetVerb() == "delete-collection" {
					deletes = append(deletes, dc.GetNamespace()+" "+dc.GetListRestrictions().Fields.String())
				}
			}
			if wantDeletes := map[string]string{"ResourceDeletion": "spark spec.nodeName=node-a"}[strategy]; strings.Join(deletes, ";") != wantDeletes {
				t.Fatalf("pod deletions %v, want %q", deletes, wantDeletes)
			}
			if got = pass(); state(got) != "Processing=False/RemediationFinishedSuccessfully,FenceAgentActionSucceeded=True/FenceAgentSucceeded,Succeeded=True/RemediationFinishedSuccessfully" || len(m.off) != 1 {
				t.Fatalf("a finished remediation changed: %s, off %v", state(got), m.off)
			}

			got.SetDeletionTimestamp(new(metav1.Now()))
			if err := op.reconcile(ctx, got); err != nil {
				t.Fatal(err)
			}
			after, err := dyn.Resource(FARResource).Namespace("medik8s").Get(ctx, "node-a", metav1.GetOptions{})
			if err != nil || len(after.GetFinalizers()) != 0 || taints() != "" {
				t.Fatalf("after deletion: finalizers %v (%v), taints %q", after.GetFinalizers(), err, taints())
			}
		})
	}
}

// TestOperatorNodeNotFound: a remediation named after no node ends with every condition False.
func TestOperatorNodeNotFound(t *testing.T) {
	ctx := context.Background()
	far := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "fence-agents-remediation.medik8s.io/v1alpha1", "kind": "FenceAgentsRemediation",
		"metadata": map[string]any{"name": "node-z", "namespace": "medik8s"},
	}}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{FARResource: "FenceAgentsRemediationList"}, far)
	m := &machines{}
	op := &operator{client: fake.NewClientset(), dyn: dyn, machines: m, log: log.New(io.Discard, "", 0)}
	if err := op.reconcile(ctx, far); err != nil {
		t.Fatal(err)
	}
	got, err := dyn.Resource(FARResource).Namespace("medik8s").Get(ctx, "node-z", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, c := range crd.Conditions(got) {
		s = append(s, c.Type+"="+string(c.Status)+"/"+c.Reason)
	}
	if strings.Join(s, ",") != "Processing=False/RemediationFinishedNodeNotFound,FenceAgentActionSucceeded=False/RemediationFinishedNodeNotFound,Succeeded=False/RemediationFinishedNodeNotFound" ||
		len(got.GetFinalizers()) != 0 || len(m.off) != 0 {
		t.Fatalf("conditions %v, finalizers %v, off %v", s, got.GetFinalizers(), m.off)
	}
}

// TestProviderShutdown: the provider reports shut down exactly the machines that are powered off.
func TestProviderShutdown(t *testing.T) {
	p := &provider{&machines{off: []string{"node-a"}}}
	for node, want := range map[string]bool{"node-a": true, "node-b": false} {
		got, err := p.InstanceShutdown(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}})
		if err != nil || got != want {
			t.Errorf("%s: shutdown %t (%v), want %t", node, got, err, want)
		}
	}
	if exists, err := p.InstanceExists(context.Background(), &corev1.Node{}); !exists || err != nil {
		t.Errorf("exists %t (%v)", exists, err)
	}
}
