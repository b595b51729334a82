// Package crd installs the vendored CustomResourceDefinitions of the operators the sandbox
// simulates (medik8s's fence-agents-remediation, the Spark operators), as their charts do, and
// reads the conditions of custom objects.
package crd

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

var resource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Install creates the CRD of doc (YAML) and waits until the API server reports it
// Established, so its objects can be created right away.
func Install(ctx context.Context, dyn dynamic.Interface, doc []byte) error {
	crd := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(doc, &crd.Object); err != nil {
		return fmt.Errorf("reading a vendored CRD: %w", err)
	}
	if _, err := dyn.Resource(resource).Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("installing %s: %w", crd.GetName(), err)
	}
	for {
		got, err := dyn.Resource(resource).Get(ctx, crd.GetName(), metav1.GetOptions{})
		if err == nil && meta.IsStatusConditionTrue(Conditions(got), "Established") {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Conditions reads u's status.conditions.
func Conditions(u *unstructured.Unstructured) []metav1.Condition {
	raw, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	var out []metav1.Condition
	for _, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		var c metav1.Condition
		if runtime.DefaultUnstructuredConverter.FromUnstructured(m, &c) == nil {
			out = append(out, c)
		}
	}
	return out
}
