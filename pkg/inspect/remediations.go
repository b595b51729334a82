package inspect

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
)

// RemediationKinds are the medik8s remediation resources inspect lists, across namespaces
// (their operators create them in their own namespace, named after the node), with the dynamic
// client: a cluster without the operators has no such resource, and sparkha needs none of
// their Go types.
var RemediationKinds = []struct {
	Kind string
	GVR  schema.GroupVersionResource
}{
	{analysis.KindFenceAgentsRemediation, schema.GroupVersionResource{Group: "fence-agents-remediation.medik8s.io", Version: "v1alpha1", Resource: "fenceagentsremediations"}},
	{analysis.KindSelfNodeRemediation, schema.GroupVersionResource{Group: "self-node-remediation.medik8s.io", Version: "v1alpha1", Resource: "selfnoderemediations"}},
}

// nodeNameAnnotation names the remediated node when the object is not named after it
// (medik8s/common pkg/annotations, NodeNameAnnotation).
const nodeNameAnnotation = "remediation.medik8s.io/node-name"

// Remediations lists the medik8s remediations, one LIST per kind. A kind whose resource does
// not exist (its operator is not installed) is simply absent; one the caller may not list is
// named in unseen. Nothing else about them fails the gather.
func Remediations(ctx context.Context, dyn dynamic.Interface, q Query) (rems []analysis.Remediation, unseen []string, err error) {
	for _, k := range RemediationKinds {
		items, refused, err := listOptional(ctx, dyn, q, k.GVR, metav1.NamespaceAll)
		switch {
		case refused != "":
			unseen = append(unseen, fmt.Sprintf("%s: %s", k.GVR.Resource, refused))
			continue
		case err != nil:
			return nil, nil, fmt.Errorf("listing %s: %w", k.GVR.Resource, err)
		}
		for i := range items {
			rems = append(rems, remediation(k.Kind, &items[i]))
		}
	}
	return rems, unseen, nil
}

// listOptional lists a custom resource that may not exist in the cluster (its operator is not
// installed: no items, no error) or that the caller may not list (refused says why).
func listOptional(ctx context.Context, dyn dynamic.Interface, q Query, gvr schema.GroupVersionResource, namespace string) (items []unstructured.Unstructured, refused string, err error) {
	items, err = list[unstructured.Unstructured](ctx, q, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return dyn.Resource(gvr).Namespace(namespace).List(ctx, o)
	})
	switch {
	case apierrors.IsNotFound(err):
		return nil, "", nil
	case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
		return nil, string(apierrors.ReasonForError(err)), nil
	}
	return items, "", err
}

// remediation reads what analysis needs from one listed object; fields of the wrong type
// read as absent.
func remediation(kind string, u *unstructured.Unstructured) analysis.Remediation {
	r := analysis.Remediation{Kind: kind, Namespace: u.GetNamespace(), Name: u.GetName(), Node: u.GetName(),
		Created: u.GetCreationTimestamp().Time, Deleting: u.GetDeletionTimestamp() != nil}
	if n := u.GetAnnotations()[nodeNameAnnotation]; n != "" {
		r.Node = n
	}
	r.Strategy, _, _ = unstructured.NestedString(u.Object, "spec", "remediationStrategy")
	r.Phase, _, _ = unstructured.NestedString(u.Object, "status", "phase")
	if s, ok, _ := unstructured.NestedString(u.Object, "status", "timeAssumedRebooted"); ok {
		var t metav1.Time
		if t.UnmarshalQueryParameter(s) == nil && !t.IsZero() {
			r.TimeAssumedRebooted = &t.Time
		}
	}
	if conds, ok, _ := unstructured.NestedSlice(u.Object, "status", "conditions"); ok {
		for _, c := range conds {
			m, ok := c.(map[string]any)
			if !ok {
				continue
			}
			var cond metav1.Condition
			if runtime.DefaultUnstructuredConverter.FromUnstructured(m, &cond) == nil {
				r.Conditions = append(r.Conditions, cond)
			}
		}
	}
	return r
}
