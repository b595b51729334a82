package failover

import (
	"context"
	"encoding/json"
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

// Checked is what Release looked at on the node before lifting its fence.
type Checked struct {
	// Pods are the pods bound to the node (namespace/name), VolumeAttachments the volumes
	// attached to it (pv@node): what returns to service with it.
	Pods, VolumeAttachments []string
}

// Release lifts the fence from a repaired node: it removes the out-of-service taint, only one
// that failover put there (the node's sparkha.io/last-failover annotation records the fence),
// and only once the node's kubelet reports Ready again. It returns false when there was no
// fence to lift, and what it checked on the node.
func (r *Runner) Release(ctx context.Context, nodeName string) (bool, *Checked, error) {
	r.Actor(ctx)
	checked, err := r.check(ctx, nodeName)
	if err != nil {
		return false, nil, err
	}
	var node *corev1.Node
	released := false
	// Heartbeats update the node all the time: on a conflict, read it again.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() (err error) {
		if node, err = r.Client.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{}); err != nil {
			return fmt.Errorf("reading node %s: %w", nodeName, err)
		}
		if !analysis.Fenced(node) {
			return nil
		}
		if analysis.NodeReady(node) != string(corev1.ConditionTrue) {
			return &ErrRefused{Msg: fmt.Sprintf("refusing to release node %s: it is not Ready. Lift the fence only once the machine is repaired and its kubelet reports Ready; until then its pods must stay off it", nodeName)}
		}
		var last Audit
		if err := json.Unmarshal([]byte(node.Annotations[AuditAnnotation]), &last); err != nil || last.Action != analysis.FenceNode {
			return &ErrRefused{Msg: fmt.Sprintf("refusing to release node %s: its %s taint was not put there by kubectl sparkha failover (its %s annotation records no fence), so whoever fenced it decides when it ends; to lift it yourself: kubectl taint node %s %s-",
				nodeName, corev1.TaintNodeOutOfService, AuditAnnotation, nodeName, corev1.TaintNodeOutOfService)}
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
		return false, checked, err
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
		return true, checked, fmt.Errorf("the fence was lifted, but recording it failed (%d tries): %w", apiretry.Backoff.Steps, err)
	}
	return true, checked, nil
}

// check lists what is bound or attached to the node.
func (r *Runner) check(ctx context.Context, node string) (*Checked, error) {
	c := &Checked{}
	var err error
	if c.Pods, err = r.podsOn(ctx, node); err != nil {
		return nil, fmt.Errorf("listing the pods on node %s: %w", node, err)
	}
	vas, err := r.Client.StorageV1().VolumeAttachments().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing the volume attachments: %w", err)
	}
	for _, va := range vas.Items {
		if va.Spec.NodeName == node && va.Spec.Source.PersistentVolumeName != nil {
			c.VolumeAttachments = append(c.VolumeAttachments, *va.Spec.Source.PersistentVolumeName+"@"+node)
		}
	}
	return c, nil
}
