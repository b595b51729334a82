package cloud

import (
	"context"
	_ "embed"
	"fmt"
	"log"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/crd"
)

// The simulated fence-agents-remediation operator follows medik8s/fence-agents-remediation v0.7.0
// (the CRD beside this file is vendored from the same commit): controllers/
// fenceagentsremediation_controller.go, Reconcile and handleFARDeletion; pkg/utils/conditions.go,
// UpdateConditions; pkg/utils/taints.go; pkg/cli/cliexecuter.go, updateStatus. Its fence agent
// powers the machine off (the agent's --action=off; the default, reboot, would bring the
// machine back, which a sandbox machine does only on Restart). Not modelled: the Node
// Healthcheck timeout annotation, the fence agent's retries and timeout (powering a sandbox
// machine off cannot fail), Events.

//go:embed fenceagentsremediations.crd.yaml
var farCRD []byte

// FARResource is the FenceAgentsRemediation resource.
var FARResource = schema.GroupVersionResource{Group: "fence-agents-remediation.medik8s.io", Version: "v1alpha1", Resource: "fenceagentsremediations"}

const (
	farFinalizer = "fence-agents-remediation.medik8s.io/far-finalizer"
	// FARTaintKey is the NoSchedule taint the operator puts on the node it remediates
	// (v1alpha1.FARNoScheduleTaintKey).
	FARTaintKey        = "remediation.medik8s.io/fence-agents-remediation"
	nodeNameAnnotation = "remediation.medik8s.io/node-name"

	condProcessing = "Processing"
	condFenceAgent = "FenceAgentActionSucceeded"
	condSucceeded  = "Succeeded"
)

// operator reconciles every FenceAgentsRemediation twice a second.
type operator struct {
	client   kubernetes.Interface
	dyn      dynamic.Interface
	machines Machines
	log      *log.Logger
}

func (o *operator) run(ctx context.Context) {
	for {
		list, err := o.dyn.Resource(FARResource).Namespace(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
		if err != nil {
			o.log.Printf("listing FenceAgentsRemediations: %v", err)
			list = &unstructured.UnstructuredList{}
		}
		for i := range list.Items {
			if err := o.reconcile(ctx, &list.Items[i]); err != nil {
				o.log.Printf("FenceAgentsRemediation %s/%s: %v", list.Items[i].GetNamespace(), list.Items[i].GetName(), err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// reconcile takes one step of Reconcile, as one pass of the real controller does before it
// requeues: each step ends with the status update (the deferred updateStatus).
func (o *operator) reconcile(ctx context.Context, far *unstructured.Unstructured) error {
	nodeName := far.GetName()
	if n, ok := far.GetAnnotations()[nodeNameAnnotation]; ok {
		nodeName = n
	}
	strategy, _, _ := unstructured.NestedString(far.Object, "spec", "remediationStrategy")
	conds := crd.Conditions(far)
	if _, err := o.client.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		return o.setConditions(ctx, far, conds, "RemediationFinishedNodeNotFound", "FAR CR name doesn't match a node name",
			metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionFalse)
	} else if err != nil {
		return err
	}
	deleting := far.GetDeletionTimestamp() != nil
	hasFinalizer := slices.Contains(far.GetFinalizers(), farFinalizer)
	switch {
	case !hasFinalizer && !deleting:
		far.SetFinalizers(append(far.GetFinalizers(), farFinalizer))
		updated, err := o.dyn.Resource(FARResource).Namespace(far.GetNamespace()).Update(ctx, far, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("adding the finalizer: %w", err)
		}
		return o.setConditions(ctx, updated, conds, "RemediationStarted",
			"FAR CR was found, its name matches one of the cluster nodes, and a finalizer was set to the CR",
			metav1.ConditionTrue, metav1.ConditionUnknown, metav1.ConditionUnknown)
	case hasFinalizer && deleting:
		return o.handleDeletion(ctx, far, nodeName, strategy)
	case deleting:
		return nil
	}
	if err := o.taint(ctx, nodeName, corev1.Taint{Key: FARTaintKey, Effect: corev1.TaintEffectNoSchedule}, true); err != nil {
		return err
	}
	switch {
	case meta.IsStatusConditionTrue(conds, condProcessing) && !meta.IsStatusConditionTrue(conds, condFenceAgent):
		// The fence agent (AsyncExecute upstream; its status update is the executor's updateStatus).
		if err := o.machines.PowerOff(nodeName, "fence agent of FenceAgentsRemediation "+far.GetNamespace()+"/"+far.GetName()); err != nil {
			return fmt.Errorf("fence agent: %w", err)
		}
		o.log.Printf("fence agent powered %s off", nodeName)
		return o.setConditions(ctx, far, conds, "FenceAgentSucceeded",
			"FAR taint was added and the fence agent command has been created and executed successfully", "", metav1.ConditionTrue, "")
	case meta.IsStatusConditionTrue(conds, condFenceAgent) && !meta.IsStatusConditionTrue(conds, condSucceeded):
		switch strategy {
		case "ResourceDeletion", "":
			if err := o.deletePods(ctx, nodeName); err != nil {
				return err
			}
		case "OutOfServiceTaint":
			oos := corev1.Taint{Key: corev1.TaintNodeOutOfService, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute}
			if err := o.taint(ctx, nodeName, oos, true); err != nil {
				return err
			}
		default:
			return nil
		}
		return o.setConditions(ctx, far, conds, "RemediationFinishedSuccessfully",
			"The unhealthy node was fully remediated (it was tainted, fenced using the fence agent and all the node resources have been deleted)",
			metav1.ConditionFalse, "", metav1.ConditionTrue)
	}
	return nil
}

// handleDeletion lifts what the remediation put on the node, then lets the object go.
func (o *operator) handleDeletion(ctx context.Context, far *unstructured.Unstructured, node, strategy string) error {
	if strategy == "OutOfServiceTaint" {
		if err := o.taint(ctx, node, corev1.Taint{Key: corev1.TaintNodeOutOfService, Effect: corev1.TaintEffectNoExecute}, false); err != nil {
			return err
		}
	}
	if err := o.taint(ctx, node, corev1.Taint{Key: FARTaintKey, Effect: corev1.TaintEffectNoSchedule}, false); err != nil {
		return err
	}
	far.SetFinalizers(slices.DeleteFunc(far.GetFinalizers(), func(f string) bool { return f == farFinalizer }))
	_, err := o.dyn.Resource(FARResource).Namespace(far.GetNamespace()).Update(ctx, far, metav1.UpdateOptions{})
	return err
}

// taint adds (with TimeAdded) or removes a taint, matched by key and effect as MatchTaint does,
// with a read and an update (utils.AppendTaint, RemoveTaint).
func (o *operator) taint(ctx context.Context, node string, t corev1.Taint, add bool) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := o.client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		has := slices.ContainsFunc(n.Spec.Taints, func(x corev1.Taint) bool { return x.MatchTaint(&t) })
		switch {
		case add && has, !add && !has:
			return nil
		case add:
			t.TimeAdded = &metav1.Time{Time: time.Now()}
			n.Spec.Taints = append(n.Spec.Taints, t)
		default:
			n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(x corev1.Taint) bool { return x.MatchTaint(&t) })
		}
		_, err = o.client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
		return err
	})
}

// deletePods deletes every pod of the node with grace period 0, namespace by namespace
// (medik8s/common pkg/resources, DeletePods).
func (o *operator) deletePods(ctx context.Context, node string) error {
	namespaces, err := o.client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	zero, background := int64(0), metav1.DeletePropagationBackground
	for _, ns := range namespaces.Items {
		if err := o.client.CoreV1().Pods(ns.Name).DeleteCollection(ctx,
			metav1.DeleteOptions{GracePeriodSeconds: &zero, PropagationPolicy: &background},
			metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("spec.nodeName", node).String()}); err != nil {
			return fmt.Errorf("deleting the pods of %s in %s: %w", node, ns.Name, err)
		}
	}
	return nil
}

// setConditions sets the three conditions as UpdateConditions does ("" leaves one as it is),
// stamps lastUpdateTime when one changed, and updates the status.
func (o *operator) setConditions(ctx context.Context, far *unstructured.Unstructured, conds []metav1.Condition, reason, message string, processing, fenceAgent, succeeded metav1.ConditionStatus) error {
	changed := false
	for _, c := range []struct {
		typ    string
		status metav1.ConditionStatus
	}{{condProcessing, processing}, {condFenceAgent, fenceAgent}, {condSucceeded, succeeded}} {
		if c.status != "" && !meta.IsStatusConditionPresentAndEqual(conds, c.typ, c.status) {
			meta.SetStatusCondition(&conds, metav1.Condition{Type: c.typ, Status: c.status, Reason: reason, Message: message})
			changed = true
		}
	}
	if !changed {
		return nil
	}
	list := make([]any, 0, len(conds))
	for _, c := range conds {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&c)
		if err != nil {
			return err
		}
		list = append(list, m)
	}
	if err := unstructured.SetNestedSlice(far.Object, list, "status", "conditions"); err != nil {
		return err
	}
	if err := unstructured.SetNestedField(far.Object, time.Now().UTC().Format(time.RFC3339), "status", "lastUpdateTime"); err != nil {
		return err
	}
	_, err := o.dyn.Resource(FARResource).Namespace(far.GetNamespace()).UpdateStatus(ctx, far, metav1.UpdateOptions{})
	return err
}

// conditions reads status.conditions.
