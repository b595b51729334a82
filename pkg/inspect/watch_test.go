package inspect_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
)

// TestWatcherCostsNoRequestPerRead: the watcher's report is the gather's, reading it again
// asks the API server nothing, and a change the watch brings shows in the next read.
func TestWatcherCostsNoRequestPerRead(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := fixture.Load(t, "s3-step4-stuck-terminating")
	client := fake.NewClientset(f.Objects()...)
	q := inspect.Query{Namespace: "s3", App: "stream", Now: func() time.Time { return f.Now }}
	once, _, err := inspect.Inspect(ctx, client, fixture.Dynamic(), q)
	if err != nil {
		t.Fatal(err)
	}
	w, err := inspect.Watch(ctx, client, fixture.Dynamic(), q)
	if err != nil {
		t.Fatal(err)
	}
	watched, _, err := w.Inspect(f.Now)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(once)
	b, _ := json.Marshal(watched)
	if string(a) != string(b) {
		t.Fatalf("the watcher's report differs from the gather's:\n%s\n%s", b, a)
	}
	started := len(client.Actions())
	for range 5 {
		if _, _, err := w.Inspect(f.Now); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(client.Actions()) - started; n != 0 {
		t.Fatalf("%d requests for five reads, want none", n)
	}
	if watched.Apps[0].Verdict != analysis.StuckTerminating {
		t.Fatalf("verdict %s", watched.Apps[0].Verdict)
	}
	if err := client.CoreV1().Pods("s3").Delete(ctx, watched.Apps[0].Drivers[0].Pod, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case <-w.Changed():
		case <-deadline:
			t.Fatal("the deletion never reached the watcher")
		}
		r, _, err := w.Inspect(f.Now)
		if err == nil && len(r.Apps[0].Drivers) == 0 {
			if r.Apps[0].Verdict != analysis.Starting {
				t.Fatalf("after the deletion: %s (%s)", r.Apps[0].Verdict, r.Apps[0].Reason)
			}
			return
		}
	}
}

// TestWatcherPartialAnswer: a kind the caller may not list is unavailable, as with Gather.
func TestWatcherPartialAnswer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := fixture.Load(t, "s3-step4-stuck-terminating")
	client := fake.NewClientset(f.Objects()...)
	client.PrependReactor("list", "volumeattachments", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "storage.k8s.io", Resource: "volumeattachments"}, "", nil)
	})
	w, err := inspect.Watch(ctx, client, fixture.Dynamic(), inspect.Query{Namespace: "s3"})
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := w.Inspect(f.Now)
	if err != nil || len(r.Unavailable) != 1 || r.Unavailable[0] != "volumeattachments: Forbidden" {
		t.Fatalf("report %+v, %v", r, err)
	}
}
