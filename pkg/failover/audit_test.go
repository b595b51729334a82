package failover

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/apiretry"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
)

// TestAuditRetries pins how the audit trail of a step already carried out
// survives a flaky API server: transient failures are retried (the Event keeps
// its name, so a try whose answer was lost is not recorded twice), anything
// else fails at once, and a persistent failure stops after three tries.
func TestAuditRetries(t *testing.T) {
	eventsResource := schema.GroupVersionResource{Version: "v1", Resource: "events"}
	internal := apierrors.NewInternalError(errors.New("injected"))
	cases := []struct {
		name string
		// onCreate answers the n-th Event create (from 1); handled=false lets
		// the fake store it.
		onCreate   func(n int, tracker k8stesting.ObjectTracker, ev *corev1.Event) (bool, error)
		wantErr    string
		wantTries  int
		wantEvents int
	}{
		{
			name: "one 500, then stored",
			onCreate: func(n int, _ k8stesting.ObjectTracker, _ *corev1.Event) (bool, error) {
				if n == 1 {
					return true, internal
				}
				return false, nil
			},
			wantTries: 2, wantEvents: 1,
		},
		{
			name: "stored, but the answer lost to a timeout: the retry's AlreadyExists is success",
			onCreate: func(n int, tracker k8stesting.ObjectTracker, ev *corev1.Event) (bool, error) {
				if n == 1 {
					if err := tracker.Create(eventsResource, ev, ev.Namespace); err != nil {
						t.Fatal(err)
					}
					return true, apierrors.NewTimeoutError("injected", 1)
				}
				return false, nil
			},
			wantTries: 2, wantEvents: 1,
		},
		{
			name:      "500 every time: fails after three tries",
			onCreate:  func(int, k8stesting.ObjectTracker, *corev1.Event) (bool, error) { return true, internal },
			wantErr:   "Internal error occurred: injected",
			wantTries: apiretry.Backoff.Steps, wantEvents: 0,
		},
		{
			name: "forbidden is not retried",
			onCreate: func(int, k8stesting.ObjectTracker, *corev1.Event) (bool, error) {
				return true, apierrors.NewForbidden(eventsResource.GroupResource(), "", errors.New("no"))
			},
			wantErr:   "forbidden",
			wantTries: 1, wantEvents: 0,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "clicks", Namespace: "demo", UID: "job-uid"}}
			client := fake.NewClientset(job)
			tries := 0
			client.PrependReactor("create", "events", func(a k8stesting.Action) (bool, runtime.Object, error) {
				tries++
				ev := a.(k8stesting.CreateAction).GetObject().(*corev1.Event)
				handled, err := tc.onCreate(tries, client.Tracker(), ev)
				return handled, nil, err
			})
			now := time.Date(2026, 11, 25, 14, 48, 11, 0, time.UTC)
			r := &Runner{Client: client, Namespace: "demo", App: "clicks", Now: func() time.Time { return now }, actor: "oncall"}
			app := &analysis.App{Name: "clicks", Namespace: "demo", Job: "clicks"}
			step := analysis.Step{Action: analysis.FenceNode, Node: "node-1", Why: "node-1 confirmed down"}

			err := r.audit(context.Background(), app, step)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("audit: error %v, want %q", err, tc.wantErr)
			}
			if tries != tc.wantTries {
				t.Errorf("%d Event creates, want %d", tries, tc.wantTries)
			}
			evs, _ := client.CoreV1().Events("demo").List(context.Background(), metav1.ListOptions{})
			if len(evs.Items) != tc.wantEvents {
				t.Fatalf("%d Events stored, want %d: %+v", len(evs.Items), tc.wantEvents, evs.Items)
			}
			got, _ := client.BatchV1().Jobs("demo").Get(context.Background(), "clicks", metav1.GetOptions{})
			record, annotated := got.Annotations[AuditAnnotation]
			if annotated != (tc.wantErr == "") {
				t.Fatalf("Job annotated: %v, want %v (annotations %v)", annotated, tc.wantErr == "", got.Annotations)
			}
			if tc.wantEvents == 0 {
				return
			}
			ev := evs.Items[0]
			if ev.Reason != "FailoverFencedNode" || ev.InvolvedObject.Kind != "Job" || ev.InvolvedObject.UID != "job-uid" ||
				ev.Message != "fence node node-1 (taint node.kubernetes.io/out-of-service=nodeshutdown:NoExecute) by oncall: node-1 confirmed down" {
				t.Errorf("event: %+v", ev)
			}
			var a Audit
			if err := json.Unmarshal([]byte(record), &a); err != nil {
				t.Fatal(err)
			}
			want := Audit{By: "oncall", At: now, Action: analysis.FenceNode, Node: "node-1", App: "demo/clicks", Why: "node-1 confirmed down"}
			if a != want {
				t.Errorf("annotation %+v, want %+v", a, want)
			}
		})
	}
}

// TestAuditOfABareDriverPod: a driver without a Job (a bare spark-submit pod, finished once its
// node rejoined) has the Event and the annotation on the pod itself, and a pod already gone is
// no failure: the Event stays.
func TestAuditOfABareDriverPod(t *testing.T) {
	now := time.Date(2026, 11, 25, 14, 48, 11, 0, time.UTC)
	step := analysis.Step{Action: analysis.FinishOldDriver, Node: "node-1", Pod: "clicks-driver", PodUID: "pod-uid", Why: "node-1 rejoined"}
	for _, exists := range []bool{true, false} {
		client := fake.NewClientset()
		if exists {
			client = fake.NewClientset(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "clicks-driver", Namespace: "demo", UID: "pod-uid"}})
		}
		r := &Runner{Client: client, Namespace: "demo", App: "clicks-driver", Now: func() time.Time { return now }, actor: "oncall"}
		app := &analysis.App{Name: "clicks-driver", Namespace: "demo"}
		if err := r.audit(context.Background(), app, step); err != nil {
			t.Fatalf("pod exists %t: audit: %v", exists, err)
		}
		evs, _ := client.CoreV1().Events("demo").List(context.Background(), metav1.ListOptions{})
		if len(evs.Items) != 1 || evs.Items[0].Reason != "FailoverFinishedOldDriver" ||
			evs.Items[0].InvolvedObject != (corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: "demo", Name: "clicks-driver", UID: "pod-uid"}) {
			t.Fatalf("pod exists %t: events %+v", exists, evs.Items)
		}
		if !exists {
			continue
		}
		pod, err := client.CoreV1().Pods("demo").Get(context.Background(), "clicks-driver", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var a Audit
		if err := json.Unmarshal([]byte(pod.Annotations[AuditAnnotation]), &a); err != nil {
			t.Fatalf("pod annotations %v: %v", pod.Annotations, err)
		}
		if want := (Audit{By: "oncall", At: now, Action: analysis.FinishOldDriver, Node: "node-1", Pod: "clicks-driver", App: "demo/clicks-driver", Why: "node-1 rejoined"}); a != want {
			t.Errorf("annotation %+v, want %+v", a, want)
		}
	}
}

// TestActor: the audit names who ran failover as the API server knows them
// (SelfSubjectReview), asked once; a client not allowed to ask is recorded as unknown.
func TestActor(t *testing.T) {
	for _, tc := range []struct {
		name, user string
		err        error
		want       string
	}{
		{"a user", "alice@example.com", nil, "alice@example.com"},
		{"no user name in the answer", "", nil, "unknown (SelfSubjectReview not allowed)"},
		{"not allowed", "", apierrors.NewForbidden(schema.GroupResource{Group: "authentication.k8s.io", Resource: "selfsubjectreviews"}, "", errors.New("no")),
			"unknown (SelfSubjectReview not allowed)"},
	} {
		client := fake.NewClientset()
		asked := 0
		client.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
			asked++
			review := &authenticationv1.SelfSubjectReview{}
			review.Status.UserInfo.Username = tc.user
			return true, review, tc.err
		})
		r := &Runner{Client: client}
		if got, again := r.Actor(context.Background()), r.Actor(context.Background()); got != tc.want || again != tc.want || asked != 1 {
			t.Errorf("%s: actor %q then %q (asked %d times), want %q once", tc.name, got, again, asked, tc.want)
		}
	}
}

// TestAuditOfExecutorsOfABareDriver: a bare driver runs on, and its executor on a lost node is
// collected: the record goes on the running driver (the newest driver that runs on a node not
// lost; here the first listed), for the fence and for the executor, never on the executor.
func TestAuditOfExecutorsOfABareDriver(t *testing.T) {
	now := time.Date(2026, 12, 6, 21, 0, 0, 0, time.UTC)
	driver := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "clicks-driver", Namespace: "demo", UID: "driver-uid"}}
	app := &analysis.App{Name: "clicks-driver", Namespace: "demo", LostNode: "node-b", Drivers: []analysis.Driver{
		{Pod: "clicks-driver", UID: "driver-uid", Node: "node-a", MayRun: true},
		{Pod: "clicks-old", UID: "old-uid", Node: "node-b", NodeLost: true, MayRun: true},
		{Pod: "clicks-ended", UID: "ended-uid", Node: "node-c", Ended: true},
	}}
	for _, step := range []analysis.Step{
		{Action: analysis.FenceNode, Node: "node-b", Why: "down"},
		{Action: analysis.CollectExecutor, Node: "node-b", Pod: "clicks-exec-1", PodUID: "exec-uid", Why: "fenced"},
	} {
		client := fake.NewClientset(driver.DeepCopy())
		r := &Runner{Client: client, Namespace: "demo", App: "clicks-driver", Now: func() time.Time { return now }, actor: "oncall"}
		if err := r.audit(context.Background(), app, step); err != nil {
			t.Fatalf("%s: %v", step.Action, err)
		}
		evs, _ := client.CoreV1().Events("demo").List(context.Background(), metav1.ListOptions{})
		if len(evs.Items) != 1 || evs.Items[0].InvolvedObject != (corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: "demo", Name: "clicks-driver", UID: "driver-uid"}) {
			t.Fatalf("%s: events %+v", step.Action, evs.Items)
		}
		if want := map[analysis.Action]string{analysis.FenceNode: "FailoverFencedNode", analysis.CollectExecutor: "FailoverCollectedExecutor"}[step.Action]; evs.Items[0].Reason != want {
			t.Errorf("%s: reason %s, want %s", step.Action, evs.Items[0].Reason, want)
		}
		pod, _ := client.CoreV1().Pods("demo").Get(context.Background(), "clicks-driver", metav1.GetOptions{})
		if !strings.Contains(pod.Annotations[AuditAnnotation], `"action":"`+string(step.Action)+`"`) {
			t.Errorf("%s: driver annotations %v", step.Action, pod.Annotations)
		}
	}
}
