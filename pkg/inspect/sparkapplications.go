package inspect

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// SparkApplicationKinds are the SparkApplication resources inspect lists, in the query's
// namespace, with the dynamic client: a cluster without an operator has no such resource, and
// sparkha needs none of their Go types.
var SparkApplicationKinds = sparkapp.SparkApplicationResources

// SparkApplications lists the SparkApplications, one LIST per kind. As for the remediations, a
// kind whose resource does not exist (its operator is not installed) is simply absent, and one
// the caller may not list is named in unseen.
func SparkApplications(ctx context.Context, dyn dynamic.Interface, q Query) (apps []analysis.SparkApplication, unseen []string, err error) {
	for _, gvr := range SparkApplicationKinds {
		items, refused, err := listOptional(ctx, dyn, q, gvr, q.Namespace)
		switch {
		case refused != "":
			unseen = append(unseen, fmt.Sprintf("%s.%s: %s", gvr.Resource, gvr.Group, refused))
			continue
		case err != nil:
			return nil, nil, fmt.Errorf("listing %s.%s: %w", gvr.Resource, gvr.Group, err)
		}
		for i := range items {
			if q.App == "" || items[i].GetName() == q.App {
				apps = append(apps, sparkApplication(gvr, &items[i]))
			}
		}
	}
	return apps, unseen, nil
}

// sparkApplication reads what analysis needs from one listed object; fields of the wrong type
// read as absent. The field paths are the operators' APIs: Kubeflow's api/v1beta2
// sparkapplication_types.go, Apache's spark-operator-api spec/RestartConfig.java and
// status/ApplicationStatus.java (their CRDs are vendored in test/sandbox/operators).
func sparkApplication(gvr schema.GroupVersionResource, u *unstructured.Unstructured) analysis.SparkApplication {
	s := analysis.SparkApplication{APIVersion: gvr.GroupVersion().String(), Namespace: u.GetNamespace(), Name: u.GetName(),
		Deleting: u.GetDeletionTimestamp() != nil}
	str := func(path ...string) string {
		v, _, _ := unstructured.NestedString(u.Object, path...)
		return v
	}
	num := func(path ...string) *int64 {
		if v, ok, err := unstructured.NestedFieldNoCopy(u.Object, path...); ok && err == nil {
			switch n := v.(type) {
			case int64:
				return &n
			case float64:
				i := int64(n)
				return &i
			}
		}
		return nil
	}
	val := func(path ...string) int64 {
		if n := num(path...); n != nil {
			return *n
		}
		return 0
	}
	switch gvr.Group {
	case analysis.OperatorKubeflow:
		s.RestartPolicy = str("spec", "restartPolicy", "type")
		s.OnFailureRetries = num("spec", "restartPolicy", "onFailureRetries")
		s.OnSubmissionFailureRetries = num("spec", "restartPolicy", "onSubmissionFailureRetries")
		s.State = str("status", "applicationState", "state")
		s.ExecutionAttempts = val("status", "executionAttempts")
		s.SubmissionAttempts = val("status", "submissionAttempts")
	case analysis.OperatorApache:
		rc := []string{"spec", "applicationTolerations", "restartConfig"}
		s.RestartPolicy = str(append(rc, "restartPolicy")...)
		s.MaxRestartAttempts = num(append(rc, "maxRestartAttempts")...)
		s.MaxRestartOnFailure = num(append(rc, "maxRestartOnFailure")...)
		s.State = str("status", "currentState", "currentStateSummary")
		ai := []string{"status", "currentAttemptSummary", "attemptInfo"}
		s.AttemptID = val(append(ai, "id")...)
		s.RestartCounter = val(append(ai, "restartCounter")...)
		s.FailureRestartCounter = val(append(ai, "failureRestartCounter")...)
		if s.State == "ResourceReleased" || s.State == "TerminatedWithoutReleaseResources" {
			s.EndedAs = apacheEndedAs(u)
		}
	}
	return s
}

// apacheEndedAs is the state an Apache SparkApplication was in before its terminal one: the
// entry of status.stateTransitionHistory (keyed by a growing state id) before the last, as
// AppCleanUpStep.getLastObservedStateBeforeTermination reads it.
func apacheEndedAs(u *unstructured.Unstructured) string {
	hist, ok, _ := unstructured.NestedMap(u.Object, "status", "stateTransitionHistory")
	if !ok || len(hist) < 2 {
		return ""
	}
	type entry struct {
		id    int64
		state string
	}
	var es []entry
	for k, v := range hist {
		id, err := strconv.ParseInt(k, 10, 64)
		m, isMap := v.(map[string]any)
		if err != nil || !isMap {
			continue
		}
		st, _ := m["currentStateSummary"].(string)
		es = append(es, entry{id, st})
	}
	if len(es) < 2 {
		return ""
	}
	slices.SortFunc(es, func(a, b entry) int { return cmp.Compare(a.id, b.id) })
	return es[len(es)-2].state
}
