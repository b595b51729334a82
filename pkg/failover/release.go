package failover

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/apiretry"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
)

// ErrRefused marks a refusal: acting now would not be safe.
type ErrRefused struct{ Msg string }

func (e *ErrRefused) Error() string { return e.Msg }

// Release lifts the fence from a repaired node: it removes the
// out-of-service taint once the node's kubelet reports Ready again. It
// returns false when there was no fence to lift.
func (r *Runner) Release(ctx context.Context, nodeName string) (bool, error) {
	r.Actor(ctx)
	var node *corev1.Node
	released := false
	// Heartbeats update the node all the time: on a conflict, read it again.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() (err error) {
		if node, err = r.Client.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{}); err != nil {
			return fmt.Errorf("reading node %s: %w", nodeName, err)
		}
		if !analysis.Fenced(node) {
			return nil
		}
		if analysis.NodeReady(node) != string(corev1.ConditionTrue) {
			return &ErrRefused{Msg: fmt.Sprintf("refusing to release node %s: it is not Ready. Lift the fence only once the machine is repaired and its kubelet reports Ready; until then its pods must stay off it", nodeName)}
		}
		node.Spec.Taints = slices.DeleteFunc(node.Spec.Taints, func(t corev1.Taint) bool { return t.Key == corev1.TaintNodeOutOfService })
		if err := r.annotate(&node.ObjectMeta, Audit{Action: "release-node", Node: nodeName, Why: "the node is repaired and Ready again"}); err != nil {
			return err
		}
		if _, err := r.Client.CoreV1().Nodes().Update(ctx, node, r.writeOpts()); err != nil {
			return fmt.Errorf("removing the taint from node %s: %w", nodeName, err)
		}
		released = true
		return nil
	})
	if err != nil || !released {
		return false, err
	}
	now := metav1.NewTime(r.now())
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", nodeName, now.UnixNano()), Namespace: metav1.NamespaceDefault},
		InvolvedObject: corev1.ObjectReference{Kind: "Node", APIVersion: "v1", Name: nodeName, UID: node.UID},
		Reason:         "FailoverReleasedNode", Type: corev1.EventTypeNormal,
		Message: fmt.Sprintf("out-of-service taint removed by %s: the node is repaired and Ready again", r.actor),
		Source:  corev1.EventSource{Component: EventSource}, FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}
	if err := r.recordEvent(ctx, ev); err != nil {
		return true, fmt.Errorf("the fence was lifted, but recording it failed (%d tries): %w", apiretry.Backoff.Steps, err)
	}
	return true, nil
}
