package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

const testAppID = "spark-0123456789abcdef0123456789abcdef"

func resolveT(t *testing.T, in submit.Input) *submit.App {
	t.Helper()
	in.Name, in.Namespace, in.AppID = "clicks", "streaming", testAppID
	in.Image, in.MainClass, in.AppResource = "apache/spark:4.0.0", "com.example.Clicks", "local:///app.jar"
	app, err := submit.Resolve(in)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// withUIDs makes the fake API server assign a UID to every created object, as a real one does.
func withUIDs(client *fake.Clientset) {
	n := 0
	client.PrependReactor("create", "*", func(action k8stesting.Action) (bool, runtime.Object, error) {
		obj := action.(k8stesting.CreateAction).GetObject()
		m, err := metaOf(obj)
		if err != nil {
			return false, nil, err
		}
		n++
		m.SetUID(types.UID(fmt.Sprintf("uid-%d-%s", n, action.GetResource().Resource)))
		return false, nil, nil // let the tracker store it
	})
}

func metaOf(obj runtime.Object) (metav1.Object, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T has no metadata", obj)
	}
	return m, nil
}

// verbs lists "verb resource[/name]" of every request the fake received.
func verbs(client *fake.Clientset) []string {
	var out []string
	for _, a := range client.Actions() {
		s := a.GetVerb() + " " + a.GetResource().Resource
		switch a := a.(type) {
		case k8stesting.GetAction:
			s += "/" + a.GetName()
		case k8stesting.DeleteAction:
			s += "/" + a.GetName()
		case k8stesting.CreateAction:
			s += "/" + a.GetObject().(metav1.Object).GetName()
		}
		out = append(out, s)
	}
	return out
}

func TestApplyCreatesInOrderWithOwnerReferences(t *testing.T) {
	client := fake.NewClientset()
	withUIDs(client)
	app := resolveT(t, submit.Input{CheckpointSize: "1Gi"})

	created, err := (&Applier{Client: client}).Apply(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"get jobs/clicks",
		"get persistentvolumeclaims/clicks-checkpoint",
		"create persistentvolumeclaims/clicks-checkpoint",
		"create jobs/clicks",
		"create configmaps/clicks-spark-conf",
		"create services/clicks-driver-svc",
		"create networkpolicies/clicks-policy",
	}
	if got := verbs(client); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests\n got: %q\nwant: %q", got, want)
	}

	job, err := client.BatchV1().Jobs("streaming").Get(context.Background(), "clicks", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if job.UID == "" || job.UID != created.Job.UID {
		t.Fatalf("job UID %q, returned %q", job.UID, created.Job.UID)
	}
	wantRefs := []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "clicks", UID: job.UID, BlockOwnerDeletion: ptrTo(true)}}
	cm, _ := client.CoreV1().ConfigMaps("streaming").Get(context.Background(), "clicks-spark-conf", metav1.GetOptions{})
	svc, _ := client.CoreV1().Services("streaming").Get(context.Background(), "clicks-driver-svc", metav1.GetOptions{})
	np, _ := client.NetworkingV1().NetworkPolicies("streaming").Get(context.Background(), "clicks-policy", metav1.GetOptions{})
	pvc, _ := client.CoreV1().PersistentVolumeClaims("streaming").Get(context.Background(), "clicks-checkpoint", metav1.GetOptions{})
	for _, o := range []metav1.Object{cm, svc, np} {
		if !reflect.DeepEqual(o.GetOwnerReferences(), wantRefs) {
			t.Errorf("%s owner references %v, want %v", o.GetName(), o.GetOwnerReferences(), wantRefs)
		}
	}
	if len(pvc.OwnerReferences) != 0 || len(job.OwnerReferences) != 0 {
		t.Errorf("the checkpoint claim and the Job must have no owner: %v %v", pvc.OwnerReferences, job.OwnerReferences)
	}
	// The returned objects carry their kind, for the printers.
	if created.Job.Kind != "Job" || created.ConfigMap.Kind != "ConfigMap" || created.Service.Kind != "Service" || created.Checkpoint.Kind != "PersistentVolumeClaim" {
		t.Errorf("returned objects lack their kind: %v %v %v %v", created.Job.TypeMeta, created.ConfigMap.TypeMeta, created.Service.TypeMeta, created.Checkpoint.TypeMeta)
	}
}

func ptrTo[T any](v T) *T { return &v }

func failCreate(client *fake.Clientset, resource string) {
	client.PrependReactor("create", resource, func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource(resource), "", errors.New("quota exceeded"))
	})
}

func TestApplyRollsBackNewClaim(t *testing.T) {
	client := fake.NewClientset()
	withUIDs(client)
	failCreate(client, "services")
	app := resolveT(t, submit.Input{CheckpointSize: "1Gi"})

	_, err := (&Applier{Client: client}).Apply(context.Background(), app)
	wantErr := `creating service/clicks-driver-svc in namespace "streaming" failed: services is forbidden: quota exceeded; removed what this run created: job.batch/clicks, persistentvolumeclaim/clicks-checkpoint`
	if err == nil || err.Error() != wantErr {
		t.Fatalf("error\n got: %v\nwant: %s", err, wantErr)
	}
	if !apierrors.IsForbidden(err) {
		t.Errorf("the error should wrap the API error: %v", err)
	}
	got := verbs(client)
	wantTail := []string{"create services/clicks-driver-svc", "delete jobs/clicks", "delete persistentvolumeclaims/clicks-checkpoint"}
	if strings.Join(got[len(got)-3:], "\n") != strings.Join(wantTail, "\n") {
		t.Errorf("requests %q, want them to end with %q", got, wantTail)
	}
	for _, a := range client.Actions() {
		if d, ok := a.(k8stesting.DeleteActionImpl); ok && d.GetResource().Resource == "jobs" {
			if p := d.DeleteOptions.PropagationPolicy; p == nil || *p != metav1.DeletePropagationBackground {
				t.Errorf("job deleted with propagation %v, want Background so its pods go too", p)
			}
		}
	}
	if _, err := client.BatchV1().Jobs("streaming").Get(context.Background(), "clicks", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("job still exists after rollback: %v", err)
	}
	if _, err := client.CoreV1().PersistentVolumeClaims("streaming").Get(context.Background(), "clicks-checkpoint", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("new claim still exists after rollback: %v", err)
	}
}

func TestApplyRollbackKeepsExistingClaim(t *testing.T) {
	existing := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "clicks-data", Namespace: "streaming", UID: "keep-me"}}
	client := fake.NewClientset(existing)
	withUIDs(client)
	failCreate(client, "services")
	app := resolveT(t, submit.Input{CheckpointClaim: "clicks-data"})

	_, err := (&Applier{Client: client}).Apply(context.Background(), app)
	wantErr := `creating service/clicks-driver-svc in namespace "streaming" failed: services is forbidden: quota exceeded; removed what this run created: job.batch/clicks`
	if err == nil || err.Error() != wantErr {
		t.Fatalf("error\n got: %v\nwant: %s", err, wantErr)
	}
	for _, v := range verbs(client) {
		if strings.HasPrefix(v, "delete persistentvolumeclaims") || strings.HasPrefix(v, "create persistentvolumeclaims") {
			t.Errorf("touched the existing claim: %s", v)
		}
	}
	if _, err := client.CoreV1().PersistentVolumeClaims("streaming").Get(context.Background(), "clicks-data", metav1.GetOptions{}); err != nil {
		t.Errorf("existing claim is gone: %v", err)
	}
}

func TestApplyJobCreateFailsRemovesClaim(t *testing.T) {
	client := fake.NewClientset()
	withUIDs(client)
	failCreate(client, "jobs")
	app := resolveT(t, submit.Input{CheckpointSize: "1Gi"})
	_, err := (&Applier{Client: client}).Apply(context.Background(), app)
	wantErr := `creating job.batch/clicks in namespace "streaming" failed: jobs is forbidden: quota exceeded; removed what this run created: persistentvolumeclaim/clicks-checkpoint`
	if err == nil || err.Error() != wantErr {
		t.Fatalf("error\n got: %v\nwant: %s", err, wantErr)
	}
}

func TestApplyReportsFailedRollback(t *testing.T) {
	client := fake.NewClientset()
	withUIDs(client)
	failCreate(client, "configmaps")
	client.PrependReactor("delete", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	app := resolveT(t, submit.Input{})
	_, err := (&Applier{Client: client}).Apply(context.Background(), app)
	wantErr := `creating configmap/clicks-spark-conf in namespace "streaming" failed: configmaps is forbidden: quota exceeded; could not remove job.batch/clicks (deleting job.batch/clicks: connection refused): delete by hand with kubectl delete job.batch/clicks -n streaming`
	if err == nil || err.Error() != wantErr {
		t.Fatalf("error\n got: %v\nwant: %s", err, wantErr)
	}
}

func TestApplyRefusesExisting(t *testing.T) {
	tests := []struct {
		name     string
		existing []runtime.Object
		in       submit.Input
		want     string
	}{
		{"job exists", []runtime.Object{&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "clicks", Namespace: "streaming"}}}, submit.Input{CheckpointSize: "1Gi"},
			`job "clicks" already exists in namespace "streaming": choose another NAME, or delete the old app with kubectl delete job clicks -n streaming (its checkpoint PVC is kept)`},
		{"new claim exists", []runtime.Object{&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "clicks-checkpoint", Namespace: "streaming"}}}, submit.Input{CheckpointSize: "1Gi"},
			`persistentvolumeclaim "clicks-checkpoint" already exists in namespace "streaming": reuse it with --checkpoint-claim clicks-checkpoint instead of --checkpoint-size, or choose another NAME`},
		{"existing claim missing", nil, submit.Input{CheckpointClaim: "clicks-data"},
			`--checkpoint-claim "clicks-data": no such persistentvolumeclaim in namespace "streaming"; create it first, or use --checkpoint-size SIZE to let kubectl sparkha create clicks-checkpoint`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset(tt.existing...)
			_, err := (&Applier{Client: client}).Apply(context.Background(), resolveT(t, tt.in))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error\n got: %v\nwant: %s", err, tt.want)
			}
			for _, v := range verbs(client) {
				if !strings.HasPrefix(v, "get ") {
					t.Errorf("made a %q request; a refusal must create nothing", v)
				}
			}
		})
	}
}

func TestApplyServerDryRunDoesNotRollBack(t *testing.T) {
	client := fake.NewClientset()
	failCreate(client, "services")
	app := resolveT(t, submit.Input{CheckpointSize: "1Gi"})
	_, err := (&Applier{Client: client, DryRunServer: true}).Apply(context.Background(), app)
	want := `creating service/clicks-driver-svc in namespace "streaming" failed: services is forbidden: quota exceeded; nothing was created`
	if err == nil || err.Error() != want {
		t.Fatalf("error\n got: %v\nwant: %s", err, want)
	}
	for _, a := range client.Actions() {
		if a.GetVerb() == "delete" {
			t.Errorf("server dry run deleted %s", a.GetResource().Resource)
		}
		if c, ok := a.(k8stesting.CreateActionImpl); ok && strings.Join(c.CreateOptions.DryRun, ",") != "All" {
			t.Errorf("create without dryRun=All: %v", c.CreateOptions)
		}
	}
}

// createLandsButAnswerIsLost makes the fake API server store the created object, as the real
// one did, and then answer with err instead, as when the connection drops after the request
// was sent.
func createLandsButAnswerIsLost(client *fake.Clientset, resource string, err error) {
	client.PrependReactor("create", resource, func(action k8stesting.Action) (bool, runtime.Object, error) {
		obj := action.(k8stesting.CreateAction).GetObject()
		m, _ := metaOf(obj)
		m.SetUID(types.UID("uid-landed-" + resource))
		if terr := client.Tracker().Create(action.GetResource(), obj, action.GetNamespace()); terr != nil {
			return true, nil, terr
		}
		return true, nil, err
	})
}

func TestApplyCreateWhoseAnswerWasLost(t *testing.T) {
	dropped := &url.Error{Op: "Post", URL: "https://api/apis/batch/v1/namespaces/streaming/jobs", Err: io.EOF}
	for name, err := range map[string]error{
		"dropped connection":           dropped,
		"500":                          apierrors.NewInternalError(errors.New("etcd leader changed")),
		"retry found it already there": apierrors.NewAlreadyExists(batchv1.Resource("jobs"), "clicks"),
	} {
		t.Run(name, func(t *testing.T) {
			client := fake.NewClientset()
			withUIDs(client)
			createLandsButAnswerIsLost(client, "jobs", err)
			app := resolveT(t, submit.Input{CheckpointSize: "1Gi"})

			created, aerr := (&Applier{Client: client}).Apply(context.Background(), app)
			if aerr != nil {
				t.Fatalf("the Job was created by this run, yet: %v", aerr)
			}
			if created.Job.UID != "uid-landed-jobs" || created.Job.Kind != "Job" {
				t.Fatalf("returned Job %q %v, want the one the server stored", created.Job.UID, created.Job.TypeMeta)
			}
			want := []string{
				"get jobs/clicks",
				"get persistentvolumeclaims/clicks-checkpoint",
				"create persistentvolumeclaims/clicks-checkpoint",
				"create jobs/clicks",
				"get jobs/clicks", // read back: it carries this run's app ID
				"create configmaps/clicks-spark-conf",
				"create services/clicks-driver-svc",
				"create networkpolicies/clicks-policy",
			}
			if got := verbs(client); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("requests\n got: %q\nwant: %q", got, want)
			}
			cm, _ := client.CoreV1().ConfigMaps("streaming").Get(context.Background(), "clicks-spark-conf", metav1.GetOptions{})
			if refs := cm.OwnerReferences; len(refs) != 1 || refs[0].UID != "uid-landed-jobs" {
				t.Errorf("ConfigMap owner references %v, want the stored Job", refs)
			}
		})
	}
}

func TestApplyCreateWithoutAnswerNotOurs(t *testing.T) {
	dropped := &url.Error{Op: "Post", URL: "https://api/apis/batch/v1/namespaces/streaming/jobs", Err: io.EOF}
	t.Run("not created", func(t *testing.T) {
		client := fake.NewClientset()
		withUIDs(client)
		client.PrependReactor("create", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, dropped })
		_, err := (&Applier{Client: client}).Apply(context.Background(), resolveT(t, submit.Input{CheckpointSize: "1Gi"}))
		want := `creating job.batch/clicks in namespace "streaming" failed: Post "https://api/apis/batch/v1/namespaces/streaming/jobs": EOF; removed what this run created: persistentvolumeclaim/clicks-checkpoint`
		if err == nil || err.Error() != want {
			t.Fatalf("error\n got: %v\nwant: %s", err, want)
		}
	})
	t.Run("created by someone else", func(t *testing.T) {
		// Another submit of the same name won the race: its Job has another app ID.
		client := fake.NewClientset()
		withUIDs(client)
		client.PrependReactor("create", "jobs", func(action k8stesting.Action) (bool, runtime.Object, error) {
			other := action.(k8stesting.CreateAction).GetObject().DeepCopyObject().(*batchv1.Job)
			other.Labels = map[string]string{sparkapp.LabelAppID: "spark-someone-else"}
			if err := client.Tracker().Create(action.GetResource(), other, "streaming"); err != nil {
				return true, nil, err
			}
			return true, nil, apierrors.NewAlreadyExists(batchv1.Resource("jobs"), "clicks")
		})
		_, err := (&Applier{Client: client}).Apply(context.Background(), resolveT(t, submit.Input{CheckpointSize: "1Gi"}))
		want := `creating job.batch/clicks in namespace "streaming" failed: jobs.batch "clicks" already exists; removed what this run created: persistentvolumeclaim/clicks-checkpoint`
		if err == nil || err.Error() != want {
			t.Fatalf("error\n got: %v\nwant: %s", err, want)
		}
		for _, v := range verbs(client) {
			if strings.HasPrefix(v, "delete jobs") {
				t.Errorf("deleted a Job this run did not create: %s", v)
			}
		}
	})
	t.Run("cannot tell", func(t *testing.T) {
		client := fake.NewClientset()
		withUIDs(client)
		client.PrependReactor("create", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, dropped })
		gets := 0
		client.PrependReactor("get", "jobs", func(action k8stesting.Action) (bool, runtime.Object, error) {
			if gets++; gets == 1 { // the precondition check: no such Job yet
				return false, nil, nil
			}
			return true, nil, errors.New("connection refused")
		})
		_, err := (&Applier{Client: client}).Apply(context.Background(), resolveT(t, submit.Input{CheckpointSize: "1Gi"}))
		if err == nil || !strings.Contains(err.Error(), "EOF (it may have been created all the same: reading it back failed: connection refused)") {
			t.Fatalf("error %v: want it to say the Job may exist", err)
		}
	})
}
