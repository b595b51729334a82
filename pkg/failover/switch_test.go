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
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

var switchNow = time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)

// switchOf is a Switch on a fake cluster holding objs and the dynamic objects dyn.
func switchOf(objs []runtime.Object, dyn ...runtime.Object) (*Switch, *fake.Clientset) {
	client := fake.NewClientset(objs...)
	r := &Runner{Client: client, Dynamic: fixture.Dynamic(dyn...), Namespace: "etl", actor: "oncall", Poll: time.Millisecond,
		Now: func() time.Time { return switchNow }}
	return &Switch{Runner: r, Timeout: 50 * time.Millisecond}, client
}

func driverPod(uid string, phase corev1.PodPhase) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "etl-driver", Namespace: "etl", UID: types.UID("driver-" + uid)},
		Spec: corev1.PodSpec{NodeName: "node-a"}, Status: corev1.PodStatus{Phase: phase}}
}

func nodeWith(ready corev1.ConditionStatus, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}, Spec: corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}}}}
}

func sparkApplication(uid string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("sparkoperator.k8s.io/v1beta2")
	u.SetKind("SparkApplication")
	u.SetNamespace("etl")
	u.SetName("etl")
	u.SetUID(types.UID(uid))
	return u
}

var podSource = MigratedFrom{Pod: "etl-driver", UID: "driver-1", Node: "node-a"}

var appSource = MigratedFrom{Pod: "etl-driver", UID: "driver-1", Node: "node-a",
	SparkApplication: &ObjectRef{APIVersion: "sparkoperator.k8s.io/v1beta2", Name: "etl", UID: "app-1"}}

// driverGone: the switch waits for everything of the source that may still run: the
// SparkApplication (its operator could start a driver), the old driver pod of that UID, and its
// node until Ready or fenced; a new object of the same name is not the source.
func TestSwitchDriverGone(t *testing.T) {
	fence := corev1.Taint{Key: corev1.TaintNodeOutOfService, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute}
	for _, tt := range []struct {
		name string
		from MigratedFrom
		objs []runtime.Object
		dyn  []runtime.Object
		want string
	}{
		{"the pod runs", podSource, []runtime.Object{driverPod("1", corev1.PodRunning), nodeWith(corev1.ConditionTrue)}, nil, "old driver etl-driver to be gone (Running)"},
		{"another pod of the name", podSource, []runtime.Object{driverPod("2", corev1.PodRunning), nodeWith(corev1.ConditionTrue)}, nil, ""},
		{"gone, node Ready", podSource, []runtime.Object{nodeWith(corev1.ConditionTrue)}, nil, ""},
		{"gone, node lost", podSource, []runtime.Object{nodeWith(corev1.ConditionUnknown)}, nil, "node node-a of the old driver to be Ready or fenced"},
		{"gone, node NotReady", podSource, []runtime.Object{nodeWith(corev1.ConditionFalse)}, nil, "node node-a of the old driver to be Ready or fenced"},
		{"gone, node fenced", podSource, []runtime.Object{nodeWith(corev1.ConditionUnknown, fence)}, nil, ""},
		{"gone, node deleted", podSource, nil, nil, ""},
		{"gone, no node", MigratedFrom{Pod: "etl-driver", UID: "driver-1"}, nil, nil, ""},
		{"the SparkApplication exists", appSource, []runtime.Object{nodeWith(corev1.ConditionTrue)}, []runtime.Object{sparkApplication("app-1")},
			"SparkApplication etl to be deleted (its operator may start a driver while it exists)"},
		{"another SparkApplication of the name, the pod runs", appSource, []runtime.Object{driverPod("1", corev1.PodPending), nodeWith(corev1.ConditionTrue)},
			[]runtime.Object{sparkApplication("app-2")}, "old driver etl-driver to be gone (Pending)"},
		{"the SparkApplication and its pod gone", appSource, []runtime.Object{nodeWith(corev1.ConditionTrue)}, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sw, _ := switchOf(tt.objs, tt.dyn...)
			got, err := sw.driverGone(context.Background(), tt.from)
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	// An error reading is an error, never "gone".
	sw, client := switchOf([]runtime.Object{driverPod("1", corev1.PodRunning)})
	client.PrependReactor("get", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewServiceUnavailable("etcd")
	})
	if got, err := sw.driverGone(context.Background(), podSource); err == nil || got != "" {
		t.Errorf("pod read failing: %q %v", got, err)
	}
	sw, client = switchOf(nil)
	client.PrependReactor("get", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewServiceUnavailable("etcd")
	})
	if got, err := sw.driverGone(context.Background(), podSource); err == nil || got != "" {
		t.Errorf("node read failing: %q %v", got, err)
	}
	sw, _ = switchOf(nil)
	sw.Dynamic.(*dynamicfake.FakeDynamicClient).PrependReactor("get", "sparkapplications", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewServiceUnavailable("etcd")
	})
	if got, err := sw.driverGone(context.Background(), appSource); err == nil || got != "" {
		t.Errorf("SparkApplication read failing: %q %v", got, err)
	}
}

// Resume waits until the source is gone, then lifts spec.suspend once, with the audit
// annotation and an Event; a Job that runs already is left; while the source may run it times
// out naming what it waits for, and the Job stays suspended.
func TestSwitchResume(t *testing.T) {
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "etl", Namespace: "etl", UID: "job-uid", ResourceVersion: "7"},
		Spec: batchv1.JobSpec{Suspend: ptr.To(true)}}
	sw, client := switchOf([]runtime.Object{job, nodeWith(corev1.ConditionTrue)})
	resumed, err := sw.Resume(context.Background(), "etl", podSource, "migrate")
	if err != nil || !resumed {
		t.Fatalf("resume: %v %v", resumed, err)
	}
	got, _ := client.BatchV1().Jobs("etl").Get(context.Background(), "etl", metav1.GetOptions{})
	if ptr.Deref(got.Spec.Suspend, true) || !strings.Contains(got.Annotations[AuditAnnotation], `"action":"`+string(ResubmitAsJob)+`"`) {
		t.Errorf("job after resume: suspend %v annotations %v", got.Spec.Suspend, got.Annotations)
	}
	evs, _ := client.CoreV1().Events("etl").List(context.Background(), metav1.ListOptions{})
	if len(evs.Items) != 1 || evs.Items[0].Reason != "ResubmittedAsJob" || evs.Items[0].InvolvedObject.UID != "job-uid" ||
		evs.Items[0].Message != "resubmitted bare driver etl-driver as job.batch/etl by oncall: migrate" {
		t.Errorf("events %+v", evs.Items)
	}
	if resumed, err := sw.Resume(context.Background(), "etl", podSource, "migrate"); err != nil || resumed {
		t.Errorf("a running Job resumed again: %v %v", resumed, err)
	}

	sw, client = switchOf([]runtime.Object{job, driverPod("1", corev1.PodRunning), nodeWith(corev1.ConditionTrue)})
	var lines []string
	sw.Progress = func(l string) { lines = append(lines, l) }
	_, err = sw.Resume(context.Background(), "etl", podSource, "migrate")
	var timeout *TimeoutError
	if !errors.As(err, &timeout) || timeout.Phase != "old driver etl-driver to be gone (Running)" || strings.Join(lines, "|") != "waiting: old driver etl-driver to be gone (Running)" {
		t.Errorf("while the old driver runs: %v %q", err, lines)
	}
	if got, _ := client.BatchV1().Jobs("etl").Get(context.Background(), "etl", metav1.GetOptions{}); !ptr.Deref(got.Spec.Suspend, false) {
		t.Errorf("the Job was resumed while the old driver runs")
	}
}

// resumeJob checks the source again right before the patch, and a Job changed meanwhile is not
// resumed.
func TestSwitchResumeJobRechecks(t *testing.T) {
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "etl", Namespace: "etl", ResourceVersion: "7"}, Spec: batchv1.JobSpec{Suspend: ptr.To(true)}}
	sw, _ := switchOf([]runtime.Object{job, driverPod("1", corev1.PodRunning)})
	if resumed, err := sw.resumeJob(context.Background(), "etl", podSource, "migrate"); resumed || err == nil ||
		err.Error() != "not resuming job.batch/etl: waiting for old driver etl-driver to be gone (Running)" {
		t.Errorf("old driver back: %v %v", resumed, err)
	}
	sw, client := switchOf([]runtime.Object{job})
	client.PrependReactor("patch", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "batch", Resource: "jobs"}, "etl", errors.New("changed"))
	})
	if resumed, err := sw.resumeJob(context.Background(), "etl", MigratedFrom{Pod: "etl-driver", UID: "driver-1"}, "migrate"); resumed || err == nil ||
		err.Error() != "job.batch/etl changed while resuming it; nothing was done: rerun" {
		t.Errorf("conflict: %v %v", resumed, err)
	}
	if _, err := sw.resumeJob(context.Background(), "missing", podSource, "migrate"); err == nil || !strings.HasPrefix(err.Error(), "reading job missing: ") {
		t.Errorf("no Job: %v", err)
	}
}

// Stop deletes the SparkApplication, then its driver, each with its UID as a precondition and an
// Event; what is gone already is not stopped again.
func TestSwitchStop(t *testing.T) {
	sw, client := switchOf([]runtime.Object{driverPod("1", corev1.PodRunning)}, sparkApplication("app-1"))
	stopped, err := sw.Stop(context.Background(), appSource, "etl", "migrate")
	if err != nil || !stopped {
		t.Fatalf("stop: %v %v", stopped, err)
	}
	var deletes []string
	for _, a := range append(sw.Dynamic.(*dynamicfake.FakeDynamicClient).Actions(), client.Actions()...) {
		if d, ok := a.(k8stesting.DeleteAction); ok {
			deletes = append(deletes, d.GetResource().Resource+"/"+d.GetName()+" uid "+string(ptr.Deref(d.GetDeleteOptions().Preconditions.UID, "")))
		}
	}
	if strings.Join(deletes, ", ") != "sparkapplications/etl uid app-1, pods/etl-driver uid driver-1" {
		t.Errorf("deletes: %v", deletes)
	}
	evs, _ := client.CoreV1().Events("etl").List(context.Background(), metav1.ListOptions{})
	var reasons []string
	for _, e := range evs.Items {
		reasons = append(reasons, e.Reason+" "+e.InvolvedObject.Kind+"/"+e.InvolvedObject.Name)
	}
	if strings.Join(reasons, ",") != "MigrateStoppedSparkApplication SparkApplication/etl,MigrateStoppedDriver Pod/etl-driver" &&
		strings.Join(reasons, ",") != "MigrateStoppedDriver Pod/etl-driver,MigrateStoppedSparkApplication SparkApplication/etl" {
		t.Errorf("events %v", reasons)
	}
	if stopped, err := sw.Stop(context.Background(), appSource, "etl", "migrate"); err != nil || stopped {
		t.Errorf("stopped again: %v %v", stopped, err)
	}
	// A bare driver only; its SparkApplication gone but not its pod; a pod that cannot be deleted.
	sw, _ = switchOf([]runtime.Object{driverPod("1", corev1.PodRunning)})
	if stopped, err := sw.Stop(context.Background(), podSource, "etl", "migrate"); err != nil || !stopped {
		t.Errorf("bare driver: %v %v", stopped, err)
	}
	sw, _ = switchOf([]runtime.Object{driverPod("1", corev1.PodRunning)})
	if stopped, err := sw.Stop(context.Background(), appSource, "etl", "migrate"); err != nil || !stopped {
		t.Errorf("SparkApplication gone, pod not: %v %v", stopped, err)
	}
	sw, _ = switchOf(nil, sparkApplication("app-1"))
	if stopped, err := sw.Stop(context.Background(), MigratedFrom{SparkApplication: appSource.SparkApplication}, "etl", "migrate"); err != nil || !stopped {
		t.Errorf("a SparkApplication without a driver: %v %v", stopped, err)
	}
	sw, client = switchOf([]runtime.Object{driverPod("1", corev1.PodRunning)})
	client.PrependReactor("delete", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "etl-driver", errors.New("no"))
	})
	if stopped, err := sw.Stop(context.Background(), podSource, "etl", "migrate"); stopped || err == nil || !strings.HasPrefix(err.Error(), "deleting driver pod etl-driver: ") {
		t.Errorf("forbidden: %v %v", stopped, err)
	}
	sw, _ = switchOf(nil)
	sw.Dynamic.(*dynamicfake.FakeDynamicClient).PrependReactor("delete", "sparkapplications", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "sparkapplications"}, "etl", errors.New("no"))
	})
	if stopped, err := sw.Stop(context.Background(), appSource, "etl", "migrate"); stopped || err == nil || !strings.HasPrefix(err.Error(), "deleting SparkApplication etl: ") {
		t.Errorf("forbidden SparkApplication: %v %v", stopped, err)
	}
}

// Prepare creates the Job suspended, annotated with its source; a rerun finds it; a Job of the
// name that replaces something else is refused, nothing written.
func TestSwitchPrepare(t *testing.T) {
	app, err := submit.Resolve(submit.Input{Name: "etl", Namespace: "etl", Image: "spark:4.0.0", MainClass: "org.example.Etl",
		AppResource: "local:///opt/etl.jar", AppID: "spark-0123456789abcdef0123456789abcdef", NodeLostTimeout: submit.DefaultNodeLostTimeout})
	if err != nil {
		t.Fatal(err)
	}
	src := &Source{What: "pod/etl-driver", App: app, From: podSource}
	sw, client := switchOf(nil)
	job, objs, err := sw.Prepare(context.Background(), src)
	if err != nil || objs == nil || !ptr.Deref(job.Spec.Suspend, false) {
		t.Fatalf("prepare: %v %v %v", job, objs, err)
	}
	if from, ok := MigratedFromOf(job); !ok || !sameSource(from, podSource) {
		t.Errorf("the Job does not record its source: %v", job.Annotations)
	}
	again, objs, err := sw.Prepare(context.Background(), src)
	if err != nil || objs != nil || again.Name != "etl" {
		t.Errorf("rerun: %v %v %v", again, objs, err)
	}
	other := *src
	other.From = MigratedFrom{Pod: "etl-driver", UID: "driver-2"}
	writes := len(client.Actions())
	if _, _, err := sw.Prepare(context.Background(), &other); err == nil || err.Error() != `job "etl" already exists in namespace "etl" and does not replace pod/etl-driver: nothing was changed` {
		t.Errorf("another source: %v", err)
	}
	for _, a := range client.Actions()[writes:] {
		if a.GetVerb() != "get" {
			t.Errorf("a refused Prepare wrote: %v", a)
		}
	}
}

// ReplacingJob finds the Job of a source by the annotation, for a pod and a SparkApplication.
func TestSwitchReplacingJob(t *testing.T) {
	annotated := func(name string, from MigratedFrom) *batchv1.Job {
		return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "etl", Annotations: from.Annotation()}}
	}
	sw, _ := switchOf([]runtime.Object{&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: "etl"}},
		annotated("from-pod", podSource), annotated("from-app", appSource)})
	for what, want := range map[string]string{"pod/etl-driver": "from-pod", "sparkapplication/etl": "from-app", "pod/other": "", "sparkapplication/other": ""} {
		job, from, err := sw.ReplacingJob(context.Background(), what)
		got := ""
		if job != nil {
			got = job.Name
		}
		if err != nil || got != want || (job != nil && from.Pod != "etl-driver") {
			t.Errorf("%s: %q %+v %v, want %q", what, got, from, err, want)
		}
	}
}

func TestSameSource(t *testing.T) {
	b, _ := json.Marshal(appSource)
	var copied MigratedFrom
	_ = json.Unmarshal(b, &copied)
	for _, tt := range []struct {
		a, b MigratedFrom
		want bool
	}{
		{podSource, podSource, true},
		{podSource, MigratedFrom{Pod: "etl-driver", UID: "driver-2"}, false},
		{appSource, copied, true},
		{appSource, podSource, false},
		{podSource, appSource, false},
		{appSource, MigratedFrom{SparkApplication: &ObjectRef{Name: "etl", UID: "app-2"}, UID: "driver-1"}, false},
	} {
		if got := sameSource(tt.a, tt.b); got != tt.want {
			t.Errorf("sameSource(%v, %v) = %t", tt.a, tt.b, got)
		}
	}
}

func TestMigratedFromRecord(t *testing.T) {
	appOnly := MigratedFrom{SparkApplication: appSource.SparkApplication}
	for m, want := range map[*MigratedFrom]string{&podSource: "pod/etl-driver", &appSource: "sparkapplication/etl (driver pod/etl-driver)", &appOnly: "sparkapplication/etl"} {
		if got := m.String(); got != want {
			t.Errorf("%+v: %q, want %q", *m, got, want)
		}
	}
	for _, tt := range []struct {
		annotations map[string]string
		ok          bool
	}{
		{podSource.Annotation(), true},
		{appOnly.Annotation(), true},
		{map[string]string{MigratedFromAnnotation: "{}"}, false},
		{map[string]string{MigratedFromAnnotation: "{"}, false},
		{nil, false},
	} {
		got, ok := MigratedFromOf(&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Annotations: tt.annotations}})
		if ok != tt.ok || (ok && got.String() == "pod/") {
			t.Errorf("%v: %+v %t, want %t", tt.annotations, got, ok, tt.ok)
		}
	}
}

// WaitDriver waits for a Running driver pod of that Job, by the Job controller's label.
func TestSwitchWaitDriver(t *testing.T) {
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "etl", Namespace: "etl", UID: "job-uid"}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "etl-x7k2p", Namespace: "etl", Labels: map[string]string{batchv1.ControllerUidLabel: "job-uid"}},
		Spec: corev1.PodSpec{NodeName: "node-b"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	sw, _ := switchOf([]runtime.Object{job, pod})
	sw.Timeout = 5 * time.Second
	var out strings.Builder
	if err := sw.WaitDriver(context.Background(), "etl", &out); err != nil || !strings.HasSuffix(out.String(), "driver pod etl-x7k2p of job/etl is Running on node node-b\n") ||
		!strings.HasPrefix(out.String(), "waiting up to 5s for a driver pod of job/etl to be Running\n") {
		t.Errorf("%v\n%s", err, out.String())
	}
	if err := sw.WaitDriver(context.Background(), "missing", &out); err == nil {
		t.Errorf("no Job, no error")
	}
	other := pod.DeepCopy()
	other.Labels[batchv1.ControllerUidLabel] = "other-job"
	sw, _ = switchOf([]runtime.Object{job, other})
	if err := sw.WaitDriver(context.Background(), "etl", &out); err == nil {
		t.Errorf("another Job's pod taken for this one's driver")
	}
}

// Resume polls every Poll until the old driver is gone: here on the third look, well within the
// timeout.
func TestSwitchResumePolls(t *testing.T) {
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "etl", Namespace: "etl"}, Spec: batchv1.JobSpec{Suspend: ptr.To(true)}}
	sw, client := switchOf([]runtime.Object{job, driverPod("1", corev1.PodRunning), nodeWith(corev1.ConditionTrue)})
	sw.Timeout = 500 * time.Millisecond
	looks := 0
	client.PrependReactor("get", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if looks++; looks < 3 {
			return false, nil, nil // the pod, from the tracker
		}
		return true, nil, apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "etl-driver")
	})
	if resumed, err := sw.Resume(context.Background(), "etl", podSource, "migrate"); err != nil || !resumed || looks < 3 {
		t.Errorf("resumed %t after %d looks: %v", resumed, looks, err)
	}
}

// While the state cannot be read, the switch waits and says why; it never resumes.
func TestSwitchWaitsWhileUnreadable(t *testing.T) {
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "etl", Namespace: "etl"}, Spec: batchv1.JobSpec{Suspend: ptr.To(true)}}
	sw, client := switchOf([]runtime.Object{job})
	client.PrependReactor("get", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewServiceUnavailable("etcd")
	})
	var lines []string
	sw.Progress = func(l string) { lines = append(lines, l) }
	_, err := sw.Resume(context.Background(), "etl", podSource, "migrate")
	var timeout *TimeoutError
	if !errors.As(err, &timeout) || timeout.Phase != "reading the state: etcd" || strings.Join(lines, "|") != "waiting: reading the state: etcd" {
		t.Errorf("%v %q", err, lines)
	}
}
