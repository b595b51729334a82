package inspect_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
)

// remediationObject is a remediation as its operator leaves it, in the JSON of its CRD.
func remediationObject(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

const (
	farDoc = `{"apiVersion": "fence-agents-remediation.medik8s.io/v1alpha1", "kind": "FenceAgentsRemediation",
	  "metadata": {"name": "node-a", "namespace": "medik8s", "creationTimestamp": "2026-11-25T14:30:12Z", "managedFields": [{"manager": "far"}]},
	  "spec": {"agent": "fence_ipmilan", "remediationStrategy": "OutOfServiceTaint"},
	  "status": {"lastUpdateTime": "2026-11-25T14:30:22Z", "conditions": [
	    {"type": "Processing", "status": "False", "reason": "RemediationFinishedSuccessfully", "message": "", "lastTransitionTime": "2026-11-25T14:30:23Z"},
	    {"type": "FenceAgentActionSucceeded", "status": "True", "reason": "FenceAgentSucceeded", "message": "", "lastTransitionTime": "2026-11-25T14:30:22Z"},
	    {"type": "Succeeded", "status": "True", "reason": "RemediationFinishedSuccessfully", "message": "", "lastTransitionTime": "2026-11-25T14:30:23Z"}]}}`
	snrDoc = `{"apiVersion": "self-node-remediation.medik8s.io/v1alpha1", "kind": "SelfNodeRemediation",
	  "metadata": {"name": "worker-b-7x2", "namespace": "snr", "creationTimestamp": "2026-11-25T14:30:10Z",
	    "annotations": {"remediation.medik8s.io/node-name": "node-b"}},
	  "spec": {"remediationStrategy": "Automatic"},
	  "status": {"phase": "Pre-Reboot-Completed", "timeAssumedRebooted": "2026-11-25T14:33:10Z", "conditions": [
	    {"type": "Processing", "status": "True", "reason": "RemediationStarted", "message": "", "lastTransitionTime": "2026-11-25T14:30:11Z"}]}}`
)

// TestGatherRemediations: one LIST per remediation kind across namespaces, through the dynamic
// client; each object becomes plain data (its node from the node-name annotation, else its
// name), trimmed as everything Gather keeps.
func TestGatherRemediations(t *testing.T) {
	dyn := fixture.Dynamic(remediationObject(t, farDoc), remediationObject(t, snrDoc))
	s, err := inspect.Gather(context.Background(), fake.NewClientset(), dyn, inspect.Query{Namespace: "spark"})
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	want := []analysis.Remediation{
		{Kind: "FenceAgentsRemediation", Namespace: "medik8s", Name: "node-a", Node: "node-a", Created: at("2026-11-25T14:30:12Z"), Strategy: "OutOfServiceTaint",
			Conditions: []metav1.Condition{
				{Type: "Processing", Status: "False", Reason: "RemediationFinishedSuccessfully", LastTransitionTime: metav1.NewTime(at("2026-11-25T14:30:23Z"))},
				{Type: "FenceAgentActionSucceeded", Status: "True", Reason: "FenceAgentSucceeded", LastTransitionTime: metav1.NewTime(at("2026-11-25T14:30:22Z"))},
				{Type: "Succeeded", Status: "True", Reason: "RemediationFinishedSuccessfully", LastTransitionTime: metav1.NewTime(at("2026-11-25T14:30:23Z"))},
			}},
		{Kind: "SelfNodeRemediation", Namespace: "snr", Name: "worker-b-7x2", Node: "node-b", Created: at("2026-11-25T14:30:10Z"), Strategy: "Automatic",
			Phase: "Pre-Reboot-Completed", TimeAssumedRebooted: new(at("2026-11-25T14:33:10Z")),
			Conditions: []metav1.Condition{{Type: "Processing", Status: "True", Reason: "RemediationStarted", LastTransitionTime: metav1.NewTime(at("2026-11-25T14:30:11Z"))}}},
	}
	got, _ := json.Marshal(s.Remediations)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) || len(s.RemediationsUnseen) != 0 || len(s.Unavailable) != 0 {
		t.Fatalf("remediations\n%s\nwant\n%s\nunseen %v, unavailable %v", got, exp, s.RemediationsUnseen, s.Unavailable)
	}
	var lists []string
	for _, a := range remediationActions(dyn.Actions()) {
		lists = append(lists, a.GetVerb()+" "+a.GetResource().Resource+" in '"+a.GetNamespace()+"'")
	}
	if strings.Join(lists, ", ") != "list fenceagentsremediations in '', list selfnoderemediations in ''" {
		t.Fatalf("requests %v: want one LIST per kind across namespaces", lists)
	}
}

// TestGatherRemediationsAbsentOrForbidden: a cluster without the operators (no such resource)
// has no remediation and says nothing of it; one the caller may not list is named in
// RemediationsUnseen, not in Unavailable, so failover still decides.
func TestGatherRemediationsAbsentOrForbidden(t *testing.T) {
	for _, tt := range []struct {
		name   string
		err    error
		unseen string
	}{
		// What the API server answers for a resource it does not serve: 404 page not found.
		{"absent", apierrors.NewGenericServerResponse(http.StatusNotFound, "get", inspect.RemediationKinds[0].GVR.GroupResource(), "", "404 page not found", 0, true), ""},
		{"forbidden", apierrors.NewForbidden(inspect.RemediationKinds[0].GVR.GroupResource(), "", nil),
			"fenceagentsremediations: Forbidden,selfnoderemediations: Forbidden"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dyn := fixture.Dynamic(remediationObject(t, farDoc))
			dyn.PrependReactor("list", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, tt.err
			})
			f := fixture.Load(t, "s3-step4-stuck-terminating")
			client := fake.NewClientset(f.Objects()...)
			s, err := inspect.Gather(context.Background(), client, dyn, inspect.Query{Namespace: "s3"})
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Remediations) != 0 || strings.Join(s.RemediationsUnseen, ",") != tt.unseen || len(s.Unavailable) != 0 {
				t.Fatalf("remediations %v, unseen %v, unavailable %v", s.Remediations, s.RemediationsUnseen, s.Unavailable)
			}
			if n := len(remediationActions(dyn.Actions())); n != 2 {
				t.Fatalf("%d LISTs of remediations, want one per kind, none retried", n)
			}
			e := analysis.Analyze(s, f.Now).Apps[0].LostNodeEvidence
			if e == nil || e.Down != "" || strings.Join(e.RemediationsUnseen, ",") != tt.unseen {
				t.Fatalf("evidence %+v", e)
			}
		})
	}
}

// remediationActions are the requests for remediations among a fake dynamic client's actions
// (the SparkApplications are listed beside them).
func remediationActions(actions []k8stesting.Action) []k8stesting.Action {
	return slices.DeleteFunc(actions, func(a k8stesting.Action) bool { return a.GetResource().Resource == "sparkapplications" })
}

// TestWatcherRemediations: the watcher keeps the remediations current as the gather lists them,
// and a remediation resource that does not exist is listed once and then left alone.
func TestWatcherRemediations(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := fixture.Load(t, "s3-step4-stuck-terminating")
	client := fake.NewClientset(f.Objects()...)
	dyn := fixture.Dynamic()
	var snrLists atomic.Int32
	dyn.PrependReactor("list", "selfnoderemediations", func(k8stesting.Action) (bool, runtime.Object, error) {
		snrLists.Add(1)
		return true, nil, apierrors.NewNotFound(inspect.RemediationKinds[1].GVR.GroupResource(), "")
	})
	w, err := inspect.Watch(ctx, client, dyn, inspect.Query{Namespace: "s3"})
	if err != nil {
		t.Fatal(err)
	}
	if r, _, err := w.Inspect(f.Now); err != nil || r.Apps[0].LostNodeEvidence.Down != "" {
		t.Fatalf("before the remediation: %+v, %v", r, err)
	}
	far := remediationObject(t, farDoc)
	if _, err := dyn.Resource(inspect.RemediationKinds[0].GVR).Namespace("medik8s").Create(ctx, far, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		r, snap, err := w.Inspect(f.Now)
		if err != nil {
			t.Fatal(err)
		}
		if e := r.Apps[0].LostNodeEvidence; e.Down != "" {
			if !strings.HasPrefix(e.Down, "FenceAgentsRemediation medik8s/node-a: the fence agent powered the machine off or rebooted it at 14:30:22Z") ||
				len(snap.Remediations) != 1 || len(snap.RemediationsUnseen) != 0 {
				t.Fatalf("down %q, remediations %+v, unseen %v", e.Down, snap.Remediations, snap.RemediationsUnseen)
			}
			break
		}
		select {
		case <-w.Changed():
		case <-deadline:
			t.Fatal("the remediation never reached the watcher")
		}
	}
	if n := snrLists.Load(); n != 1 {
		t.Fatalf("%d LISTs of an absent resource, want 1", n)
	}
}
