package plugin

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/failover"
)

func fencedNode(ready corev1.ConditionStatus) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-7",
		Annotations: map[string]string{failover.AuditAnnotation: `{"by":"oncall","action":"fence-node","node":"worker-7","why":"down"}`}},
		Spec:   corev1.NodeSpec{Taints: []corev1.Taint{{Key: corev1.TaintNodeOutOfService, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute}}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}}}}
}

func TestRelease(t *testing.T) {
	for _, tt := range []struct {
		name    string
		node    *corev1.Node
		out     string
		refused bool
		tainted bool
	}{
		{"Ready: released", fencedNode(corev1.ConditionTrue), "node/worker-7 released\n", false, false},
		{"not Ready: refused", fencedNode(corev1.ConditionUnknown), "", true, true},
		{"not fenced", &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-7"}}, "node/worker-7 is not fenced: nothing to release\n", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset(tt.node)
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			err := (&ReleaseOptions{IOStreams: streams, Node: "worker-7", client: client}).Run(context.Background())
			if errOut.String() != "checked node worker-7: pods none; volume attachments none\n" {
				t.Errorf("stderr %q", errOut)
			}
			var refused *failover.ErrRefused
			if errors.As(err, &refused) != tt.refused || (!tt.refused && err != nil) || out.String() != tt.out {
				t.Fatalf("err %v, out %q", err, out)
			}
			n, _ := client.CoreV1().Nodes().Get(context.Background(), "worker-7", metav1.GetOptions{})
			if got := len(n.Spec.Taints) == 1; got != tt.tainted {
				t.Errorf("taints after: %v", n.Spec.Taints)
			}
		})
	}
}

// TestRunMapsErrorsToExitCodes: Run prints each error once, in kubectl's form, with its code.
func TestRunMapsErrorsToExitCodes(t *testing.T) {
	for _, tt := range []struct {
		err    error
		code   int
		stderr string
	}{
		{nil, ExitOK, ""},
		{errNeedsAttention, ExitNeedsAttention, ""},
		{&failover.ErrRefused{Msg: "refusing to release node n: it is not Ready"}, ExitRefused, "error: refusing to release node n: it is not Ready\n"},
		{errors.New("boom"), ExitError, "error: boom\n"},
		{&usageError{err: errors.New("missing NODE"), command: "kubectl sparkha release"}, ExitError, "error: missing NODE\nSee 'kubectl sparkha release --help' for usage.\n"},
	} {
		var stderr bytes.Buffer
		root := &cobra.Command{Use: "x", SilenceErrors: true, SilenceUsage: true, RunE: func(*cobra.Command, []string) error { return tt.err }}
		root.SetErr(&stderr)
		root.SetArgs(nil)
		if code := Run(context.Background(), root); code != tt.code || stderr.String() != tt.stderr {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tt.err, code, stderr.String(), tt.code, tt.stderr)
		}
	}
}

// TestReleaseCommandLine: release needs a NODE; failover --release-node still works, with a
// deprecation note.
func TestReleaseCommandLine(t *testing.T) {
	_, stderr, code := runCmd(t, "release")
	if code != ExitError || stderr != "error: missing NODE: kubectl sparkha release NODE\nSee 'kubectl sparkha release --help' for usage.\n" {
		t.Errorf("release without NODE: exit %d, %q", code, stderr)
	}
	stdout, stderr, code := runCmd(t, "failover", "--release-node", "worker-7", "--dry-run=client")
	if code != ExitOK || stdout != "would remove the node.kubernetes.io/out-of-service taint from node worker-7 if it is Ready (dry run)\n" ||
		stderr != "Flag --release-node has been deprecated: use kubectl sparkha release NODE; --release-node will be removed in the next release\n" {
		t.Errorf("failover --release-node: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
