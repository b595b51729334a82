package failover

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

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
