package inspect_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
)

// SparkApplications as their operators leave them, in the JSON of their CRDs.
const (
	kubeflowDoc = `{"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
	  "metadata": {"name": "clicks", "namespace": "spark", "managedFields": [{"manager": "spark-operator"}]},
	  "spec": {"type": "Scala", "mode": "cluster", "sparkVersion": "4.0.0", "mainApplicationFile": "local:///opt/app.jar",
	    "restartPolicy": {"type": "OnFailure", "onFailureRetries": 3, "onFailureRetryInterval": 10, "onSubmissionFailureRetries": 5}},
	  "status": {"applicationState": {"state": "RUNNING"}, "executionAttempts": 2, "submissionAttempts": 2,
	    "driverInfo": {"podName": "clicks-driver"}}}`
	apacheDoc = `{"apiVersion": "spark.apache.org/v1", "kind": "SparkApplication",
	  "metadata": {"name": "pi", "namespace": "spark"},
	  "spec": {"mainClass": "org.apache.spark.examples.SparkPi",
	    "applicationTolerations": {"restartConfig": {"restartPolicy": "Always", "maxRestartAttempts": 4, "maxRestartOnFailure": 2}}},
	  "status": {"currentState": {"currentStateSummary": "RunningHealthy", "lastTransitionTime": "2026-11-25T14:30:12Z"},
	    "currentAttemptSummary": {"attemptInfo": {"id": 1, "restartCounter": 1, "failureRestartCounter": 1}},
	    "stateTransitionHistory": {"0": {"currentStateSummary": "Submitted"}, "1": {"currentStateSummary": "DriverRequested"}}}}`
	apacheEndedDoc = `{"apiVersion": "spark.apache.org/v1", "kind": "SparkApplication",
	  "metadata": {"name": "etl", "namespace": "spark"},
	  "spec": {"mainClass": "Etl"},
	  "status": {"currentState": {"currentStateSummary": "ResourceReleased"},
	    "stateTransitionHistory": {"2": {"currentStateSummary": "RunningHealthy"}, "10": {"currentStateSummary": "ResourceReleased"}, "9": {"currentStateSummary": "Succeeded"}}}}`
)

// TestGatherSparkApplications: one LIST per operator's kind in the query's namespace, through
// the dynamic client; each object becomes plain data with its operator's fields, and an app
// query keeps that app's alone.
func TestGatherSparkApplications(t *testing.T) {
	dyn := fixture.Dynamic(remediationObject(t, kubeflowDoc), remediationObject(t, apacheDoc), remediationObject(t, apacheEndedDoc))
	s, err := inspect.Gather(context.Background(), fake.NewClientset(), dyn, inspect.Query{Namespace: "spark"})
	if err != nil {
		t.Fatal(err)
	}
	want := []analysis.SparkApplication{
		{APIVersion: "sparkoperator.k8s.io/v1beta2", Namespace: "spark", Name: "clicks", RestartPolicy: "OnFailure", State: "RUNNING",
			OnFailureRetries: ptr.To[int64](3), OnSubmissionFailureRetries: ptr.To[int64](5), ExecutionAttempts: 2, SubmissionAttempts: 2},
		{APIVersion: "spark.apache.org/v1", Namespace: "spark", Name: "etl", State: "ResourceReleased", EndedAs: "Succeeded"},
		{APIVersion: "spark.apache.org/v1", Namespace: "spark", Name: "pi", RestartPolicy: "Always", State: "RunningHealthy",
			MaxRestartAttempts: ptr.To[int64](4), MaxRestartOnFailure: ptr.To[int64](2), AttemptID: 1, RestartCounter: 1, FailureRestartCounter: 1},
	}
	got, _ := json.Marshal(s.SparkApplications)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) || len(s.SparkApplicationsUnseen) != 0 {
		t.Fatalf("SparkApplications\n%s\nwant\n%s\nunseen %v", got, exp, s.SparkApplicationsUnseen)
	}
	var lists []string
	for _, a := range dyn.Actions() {
		if a.GetResource().Resource == "sparkapplications" {
			lists = append(lists, a.GetVerb()+" "+a.GetResource().GroupResource().String()+" in '"+a.GetNamespace()+"'")
		}
	}
	if strings.Join(lists, ", ") != "list sparkapplications.sparkoperator.k8s.io in 'spark', list sparkapplications.spark.apache.org in 'spark'" {
		t.Fatalf("requests %v: want one LIST per kind in the namespace", lists)
	}
	r := analysis.Analyze(s, time.Date(2026, 11, 25, 14, 31, 0, 0, time.UTC))
	var verdicts []string
	for _, a := range r.Apps {
		verdicts = append(verdicts, a.Name+"="+string(a.Verdict))
	}
	// Without driver pods: clicks is RUNNING with no driver (its operator fails it, then retries).
	if strings.Join(verdicts, " ") != "clicks=Starting etl=Finished pi=Starting" {
		t.Fatalf("verdicts %v", verdicts)
	}

	one, err := inspect.Gather(context.Background(), fake.NewClientset(), dyn, inspect.Query{Namespace: "spark", App: "pi"})
	if err != nil || len(one.SparkApplications) != 1 || one.SparkApplications[0].Name != "pi" {
		t.Fatalf("app query: %+v, %v", one.SparkApplications, err)
	}
}

// TestGatherSparkApplicationsAbsentOrForbidden: without the operators' CRDs nothing is said of
// them; a kind the caller may not list is named in SparkApplicationsUnseen, not in Unavailable,
// and each is listed once.
func TestGatherSparkApplicationsAbsentOrForbidden(t *testing.T) {
	gr := inspect.SparkApplicationKinds[0].GroupResource()
	for _, tt := range []struct {
		name   string
		err    error
		unseen string
	}{
		{"absent", apierrors.NewGenericServerResponse(http.StatusNotFound, "get", gr, "", "404 page not found", 0, true), ""},
		{"forbidden", apierrors.NewForbidden(gr, "", nil),
			"sparkapplications.sparkoperator.k8s.io: Forbidden,sparkapplications.spark.apache.org: Forbidden"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dyn := fixture.Dynamic(remediationObject(t, kubeflowDoc))
			dyn.PrependReactor("list", "sparkapplications", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, tt.err
			})
			s, err := inspect.Gather(context.Background(), fake.NewClientset(), dyn, inspect.Query{Namespace: "spark"})
			if err != nil {
				t.Fatal(err)
			}
			if len(s.SparkApplications) != 0 || strings.Join(s.SparkApplicationsUnseen, ",") != tt.unseen || len(s.Unavailable) != 0 {
				t.Fatalf("SparkApplications %v, unseen %v, unavailable %v", s.SparkApplications, s.SparkApplicationsUnseen, s.Unavailable)
			}
			n := 0
			for _, a := range dyn.Actions() {
				if a.GetResource().Resource == "sparkapplications" {
					n++
				}
			}
			if n != 2 {
				t.Fatalf("%d LISTs of SparkApplications, want one per kind, none retried", n)
			}
		})
	}
}

// TestWatcherSparkApplications: the watcher keeps the SparkApplications current as the gather
// lists them.
func TestWatcherSparkApplications(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dyn := fixture.Dynamic()
	w, err := inspect.Watch(ctx, fake.NewClientset(), dyn, inspect.Query{Namespace: "spark", App: "clicks"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Inspect(time.Now()); err == nil {
		t.Fatal("no app yet: want NotFound")
	}
	if _, err := dyn.Resource(inspect.SparkApplicationKinds[0]).Namespace("spark").Create(ctx, remediationObject(t, kubeflowDoc), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		if r, snap, err := w.Inspect(time.Now()); err == nil {
			a := r.Apps[0]
			if a.SparkApplication == nil || a.SparkApplication.State != "RUNNING" || len(snap.SparkApplications) != 1 ||
				a.SparkApplication.Why != "restart policy OnFailure, onFailureRetries 3, 2 attempts so far: 2 retries left" {
				t.Fatalf("%+v", a.SparkApplication)
			}
			return
		}
		select {
		case <-w.Changed():
		case <-deadline:
			t.Fatal("the SparkApplication never reached the watcher")
		}
	}
}
