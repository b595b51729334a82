package inspect_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// TestOneAppIdentity: completion (Apps), inspect APP and the whole report name every app
// alike, whatever created its driver, even where a Job's pods carry another app name.
func TestOneAppIdentity(t *testing.T) {
	driver := func(name string, labels map[string]string, job string) *corev1.Pod {
		l := map[string]string{sparkapp.LabelSparkRole: sparkapp.RoleDriver}
		for k, v := range labels {
			l[k] = v
		}
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: l, UID: k8stypes.UID("uid-" + name)}}
		if job != "" {
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: job}}
		}
		return p
	}
	managed := map[string]string{sparkapp.LabelManagedBy: sparkapp.ManagedBy, sparkapp.LabelAppName: "clicks"}
	client := fake.NewClientset(
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "clicks", Namespace: "ns", Labels: managed}},
		driver("clicks-a1b2c", managed, "clicks"),
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "sessionize", Namespace: "ns"}, Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{sparkapp.LabelSparkRole: sparkapp.RoleDriver, sparkapp.LabelAppName: "sessions"}}}}},
		driver("sessionize-x9y8z", map[string]string{sparkapp.LabelAppName: "sessions"}, "sessionize"),
		driver("pi-driver", map[string]string{sparkapp.LabelAppName: "pi", sparkapp.LabelAppSelector: "spark-1"}, ""),
		driver("op-driver", map[string]string{sparkapp.LabelOperatorApp: "spark-op", sparkapp.LabelAppName: "op"}, ""),
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "backup", Namespace: "ns"}},
	)
	ctx := context.Background()
	keys, err := inspect.Apps(ctx, client, "ns")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]sparkapp.Kind{}
	for _, k := range keys {
		kinds[k.Name] = k.Kind
	}
	want := map[string]sparkapp.Kind{"clicks": sparkapp.KindSparkhaJob, "sessionize": sparkapp.KindJob, "pi": sparkapp.KindPod, "spark-op": sparkapp.KindSparkApplication}
	if len(kinds) != len(want) {
		t.Fatalf("completion names %v, want %v", kinds, want)
	}
	all, _, err := inspect.Inspect(ctx, client, fixture.Dynamic(), inspect.Query{Namespace: "ns", Now: func() time.Time { return time.Unix(1e9, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	var reported []string
	for _, a := range all.Apps {
		reported = append(reported, a.Name)
	}
	for name, kind := range want {
		if kinds[name] != kind {
			t.Errorf("completion: %s is %q, want %q", name, kinds[name], kind)
		}
		if !slices.Contains(reported, name) {
			t.Errorf("inspect -n ns reports %v, lacks %s", reported, name)
		}
		r, _, err := inspect.Inspect(ctx, client, fixture.Dynamic(), inspect.Query{Namespace: "ns", App: name})
		if err != nil || len(r.Apps) != 1 || r.Apps[0].Name != name || r.Apps[0].Kind != kind || len(r.Apps[0].Drivers) != 1 {
			t.Errorf("inspect %s: %+v, %v", name, r, err)
		}
	}
	// The label the Job's pods carry names no app: one name per app.
	var notFound *inspect.NotFoundError
	if _, _, err := inspect.Inspect(ctx, client, fixture.Dynamic(), inspect.Query{Namespace: "ns", App: "sessions"}); !errors.As(err, &notFound) ||
		err.Error() != `no Spark driver or driver Job named "sessions" in namespace "ns" (see kubectl sparkha inspect -A)` {
		t.Errorf("inspect sessions: %v", err)
	}
}
