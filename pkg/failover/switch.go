package failover

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit/apply"
)

// The switch of an app from its bare spark-submit driver to a sparkha Job (migrate --apply,
// failover --resubmit). The Job is created suspended while the old driver may still run, and
// carries the old driver in MigratedFromAnnotation: the old driver's ConfigMap, the only
// record of the app's conf, goes with its pod, so the suspended Job is what lets a rerun
// after an interruption finish the switch. It is resumed only once the old pod is gone and
// its node is Ready or fenced: never two drivers.

// MigratedFromAnnotation, on a Job, names the bare driver pod it replaces: JSON of MigratedFrom.
const MigratedFromAnnotation = "sparkha.io/migrated-from"

// Audit actions of the switch.
const (
	// StopDriver deletes the bare driver pod with its normal grace period (migrate --apply).
	StopDriver analysis.Action = "stop-driver"
	// ResubmitAsJob resumes the Job that replaces a bare driver pod that is gone.
	ResubmitAsJob analysis.Action = "resubmit-as-job"
)

// MigratedFrom is what a Job replaces: a bare driver pod, or a SparkApplication and the driver
// pod it had, if any.
type MigratedFrom struct {
	Pod  string `json:"pod,omitempty"`
	UID  string `json:"uid,omitempty"`
	Node string `json:"node,omitempty"`
	// SparkApplication is set when the Job replaces a Spark operator's application.
	SparkApplication *ObjectRef `json:"sparkApplication,omitempty"`
}

// resubmitted names the source as the resubmission's Event says it.
func (m MigratedFrom) resubmitted() string {
	if m.SparkApplication == nil {
		return "bare driver " + m.Pod
	}
	return m.String()
}

// ObjectRef names a custom object: its apiVersion, name and UID, and keeps its spec (a
// SparkApplication is deleted by the switch: its spec stays on the Job that replaced it).
type ObjectRef struct {
	APIVersion string          `json:"apiVersion"`
	Name       string          `json:"name"`
	UID        string          `json:"uid"`
	Spec       json.RawMessage `json:"spec,omitempty"`
}

// resource is the SparkApplication's API resource.
func (o ObjectRef) resource() schema.GroupVersionResource {
	gv, _ := schema.ParseGroupVersion(o.APIVersion)
	return gv.WithResource("sparkapplications")
}

func (m MigratedFrom) String() string {
	if m.SparkApplication == nil {
		return "pod/" + m.Pod
	}
	if m.Pod == "" {
		return "sparkapplication/" + m.SparkApplication.Name
	}
	return fmt.Sprintf("sparkapplication/%s (driver pod/%s)", m.SparkApplication.Name, m.Pod)
}

// Annotation is the Job annotation that records m.
func (m MigratedFrom) Annotation() map[string]string {
	b, _ := json.Marshal(m)
	return map[string]string{MigratedFromAnnotation: string(b)}
}

// MigratedFromOf reads the annotation of a Job; false when it replaces no bare driver.
func MigratedFromOf(job *batchv1.Job) (MigratedFrom, bool) {
	var m MigratedFrom
	raw, ok := job.Annotations[MigratedFromAnnotation]
	if !ok || json.Unmarshal([]byte(raw), &m) != nil || (m.Pod == "" && m.SparkApplication == nil) {
		return MigratedFrom{}, false
	}
	return m, true
}

// Switch moves an application kubectl sparkha did not start (a bare spark-submit driver, or a
// Spark operator's SparkApplication) onto the sparkha Job that replaces it: migrate --apply and
// failover --resubmit. ReadDriverPod or ReadSparkApplication read the source before anything
// changes; Prepare creates the Job suspended; Stop stops the source; Resume waits until nothing
// of it may run and resumes the Job; WaitDriver waits for the Job's driver. Its writes are
// audited by its Runner, as a failover's are.
type Switch struct {
	*Runner
	// Timeout bounds each wait.
	Timeout time.Duration
}

// Prepare creates the replacing app's objects with its Job suspended, unless this switch
// created them already (a rerun): then it returns the existing Job and no objects.
func (sw *Switch) Prepare(ctx context.Context, src *Source) (*batchv1.Job, *submit.Objects, error) {
	job, err := sw.Client.BatchV1().Jobs(src.App.Namespace).Get(ctx, src.App.Name, metav1.GetOptions{})
	if err == nil {
		if from, ok := MigratedFromOf(job); ok && sameSource(from, src.From) {
			return job, nil, nil
		}
		return nil, nil, fmt.Errorf("job %q already exists in namespace %q and does not replace %s: nothing was changed", src.App.Name, src.App.Namespace, src.What)
	} else if !apierrors.IsNotFound(err) {
		return nil, nil, err
	}
	objs, err := (&apply.Applier{Client: sw.Client, Suspend: true, JobAnnotations: src.From.Annotation()}).Apply(ctx, src.App)
	if err != nil {
		return nil, nil, err
	}
	return objs.Job, objs, nil
}

// Stop stops the source: its SparkApplication and driver, or its bare driver pod. It reports
// false when they are gone already.
func (sw *Switch) Stop(ctx context.Context, from MigratedFrom, job, why string) (bool, error) {
	if from.SparkApplication != nil {
		return sw.stopSparkApplication(ctx, from, job, why)
	}
	return sw.stopDriver(ctx, from, job, why)
}

// Resume waits until nothing of the source may run (waitGone), then resumes job. It reports
// false when the Job runs already.
func (sw *Switch) Resume(ctx context.Context, job string, from MigratedFrom, why string) (bool, error) {
	if err := sw.waitGone(ctx, from); err != nil {
		return false, err
	}
	return sw.resumeJob(ctx, job, from, why)
}

// WaitDriver waits until a driver pod of the Job runs, as submit --wait does, with progress on w.
func (sw *Switch) WaitDriver(ctx context.Context, name string, w io.Writer) error {
	job, err := sw.Client.BatchV1().Jobs(sw.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "waiting up to %s for a driver pod of job/%s to be Running\n", sw.Timeout, name)
	wctx, cancel := context.WithTimeout(ctx, sw.Timeout)
	defer cancel()
	// The Job controller's label on its pods: whatever version of kubectl sparkha made the Job.
	pod, err := apply.WaitForDriver(wctx, sw.Client, sw.Namespace, name, map[string]string{batchv1.ControllerUidLabel: string(job.UID)}, w)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "driver pod %s of job/%s is Running on node %s\n", pod.Name, name, pod.Spec.NodeName)
	return nil
}

// ReplacingJob finds the Job of the namespace that replaces the source named what: pod/NAME (a
// bare driver pod) or sparkapplication/NAME; nil when there is none.
func (sw *Switch) ReplacingJob(ctx context.Context, what string) (*batchv1.Job, MigratedFrom, error) {
	jobs, err := sw.Client.BatchV1().Jobs(sw.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, MigratedFrom{}, err
	}
	kind, name, _ := strings.Cut(what, "/")
	for i := range jobs.Items {
		// A Job that replaces nothing reads as the zero MigratedFrom, which names no source.
		from, _ := MigratedFromOf(&jobs.Items[i])
		ofPod := kind == "pod" && from.SparkApplication == nil && from.Pod == name
		ofApp := kind == "sparkapplication" && from.SparkApplication != nil && from.SparkApplication.Name == name
		if ofPod || ofApp {
			return &jobs.Items[i], from, nil
		}
	}
	return nil, MigratedFrom{}, nil
}

// sameSource: a and b record the same source (the SparkApplication's UID, else the pod's).
func sameSource(a, b MigratedFrom) bool {
	if a.SparkApplication != nil || b.SparkApplication != nil {
		return a.SparkApplication != nil && b.SparkApplication != nil && a.SparkApplication.UID == b.SparkApplication.UID
	}
	return a.UID == b.UID
}

// stopDriver deletes the bare driver pod with its normal grace period (the kubelet stops
// Spark as for kubectl delete) and records it, with an Event on the pod. It reports false when
// the pod is gone already. The delete carries the pod's UID: a new pod of the same name is
// never deleted.
func (sw *Switch) stopDriver(ctx context.Context, from MigratedFrom, job, why string) (bool, error) {
	sw.Actor(ctx)
	uid := types.UID(from.UID)
	err := sw.Client.CoreV1().Pods(sw.Namespace).Delete(ctx, from.Pod, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}, DryRun: sw.dryRun()})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("deleting driver pod %s: %w", from.Pod, err)
	}
	ref := corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: sw.Namespace, Name: from.Pod, UID: uid}
	return true, sw.switchEvent(ctx, ref, "MigrateStoppedDriver", fmt.Sprintf("stop driver %s (delete with its grace period) for job.batch/%s by %s: %s", from.Pod, job, sw.actor, why))
}

// stopSparkApplication deletes the SparkApplication (its UID a precondition, so a new one of
// the same name is never deleted) so that its operator starts no driver any more, records it
// with an Event on it, then stops its driver pod as stopDriver does. It reports false when both
// are gone already.
func (sw *Switch) stopSparkApplication(ctx context.Context, from MigratedFrom, job, why string) (bool, error) {
	sw.Actor(ctx)
	app := from.SparkApplication
	uid := types.UID(app.UID)
	err := sw.Dynamic.Resource(app.resource()).Namespace(sw.Namespace).Delete(ctx, app.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}, DryRun: sw.dryRun()})
	stopped := err == nil
	// Gone already, or another object of the name (the UID precondition failed): not ours to stop.
	gone := apierrors.IsNotFound(err) || apierrors.IsConflict(err)
	if err != nil && !gone {
		return false, fmt.Errorf("deleting SparkApplication %s: %w", app.Name, err)
	}
	if stopped {
		gv, _ := schema.ParseGroupVersion(app.APIVersion)
		ref := corev1.ObjectReference{Kind: "SparkApplication", APIVersion: gv.String(), Namespace: sw.Namespace, Name: app.Name, UID: uid}
		if err := sw.switchEvent(ctx, ref, "MigrateStoppedSparkApplication", fmt.Sprintf("delete SparkApplication %s for job.batch/%s by %s: %s", app.Name, job, sw.actor, why)); err != nil {
			return true, err
		}
	}
	if from.Pod == "" {
		return stopped, nil
	}
	podStopped, err := sw.stopDriver(ctx, from, job, why)
	return stopped || podStopped, err
}

// waitGone waits until the old driver pod is gone and its node is Ready or fenced (and the
// SparkApplication deleted): only then can nothing of it still run.
func (sw *Switch) waitGone(ctx context.Context, from MigratedFrom) error {
	timeout := sw.Timeout
	poll := sw.Poll
	if poll == 0 {
		poll = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	phase := ""
	for {
		state, err := sw.driverGone(ctx, from)
		if err == nil && state == "" {
			return nil
		}
		if err != nil {
			state = "reading the state: " + err.Error()
		}
		if state != phase {
			sw.progress("waiting: %s", state)
			phase = state
		}
		select {
		case <-ctx.Done():
			return &TimeoutError{Phase: state, Timeout: timeout}
		case <-time.After(poll):
		}
	}
}

// driverGone says what is still to wait for, "" for nothing. An error reading is an error,
// never "gone".
func (sw *Switch) driverGone(ctx context.Context, from MigratedFrom) (string, error) {
	if app := from.SparkApplication; app != nil {
		// While it exists its operator may start another driver.
		got, err := sw.Dynamic.Resource(app.resource()).Namespace(sw.Namespace).Get(ctx, app.Name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return "", err
		}
		if err == nil && string(got.GetUID()) == app.UID {
			return fmt.Sprintf("SparkApplication %s to be deleted (its operator may start a driver while it exists)", app.Name), nil
		}
	}
	if from.Pod != "" {
		pod, err := sw.Client.CoreV1().Pods(sw.Namespace).Get(ctx, from.Pod, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return "", err
		}
		if err == nil && string(pod.UID) == from.UID {
			return fmt.Sprintf("old driver %s to be gone (%s)", from.Pod, pod.Status.Phase), nil
		}
	}
	if from.Node == "" {
		return "", nil
	}
	node, err := sw.Client.CoreV1().Nodes().Get(ctx, from.Node, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil // the machine is gone with its Node object
	}
	if err != nil {
		return "", err
	}
	if settled := analysis.Fenced(node) || analysis.NodeReady(node) == string(corev1.ConditionTrue); settled {
		return "", nil
	}
	return fmt.Sprintf("node %s of the old driver to be Ready or fenced", from.Node), nil
}

// resumeJob starts the Job that replaces the source, once waitGone returned: it
// lifts spec.suspend and records it (an Event and the audit annotation on the Job). It
// reports false when the Job runs already.
func (sw *Switch) resumeJob(ctx context.Context, name string, from MigratedFrom, why string) (bool, error) {
	sw.Actor(ctx)
	jobs := sw.Client.BatchV1().Jobs(sw.Namespace)
	job, err := jobs.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false, fmt.Errorf("reading job %s: %w", name, err)
	}
	if job.Spec.Suspend == nil || !*job.Spec.Suspend {
		return false, nil
	}
	if state, err := sw.driverGone(ctx, from); err != nil || state != "" {
		return false, fmt.Errorf("not resuming job.batch/%s: waiting for %s%v", name, state, orNil(err))
	}
	var meta metav1.ObjectMeta
	if err := sw.annotate(&meta, Audit{Action: ResubmitAsJob, Node: from.Node, Pod: from.Pod, App: sw.Namespace + "/" + name, Why: why}); err != nil {
		return false, err
	}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"annotations": meta.Annotations, "resourceVersion": job.ResourceVersion},
		"spec":     map[string]any{"suspend": false},
	})
	if err != nil {
		return false, err
	}
	if _, err := jobs.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{DryRun: sw.dryRun()}); err != nil {
		if apierrors.IsConflict(err) {
			return false, fmt.Errorf("job.batch/%s changed while resuming it; nothing was done: rerun", name)
		}
		return false, fmt.Errorf("resuming job.batch/%s: %w", name, err)
	}
	ref := corev1.ObjectReference{Kind: "Job", APIVersion: "batch/v1", Namespace: sw.Namespace, Name: name, UID: job.UID}
	return true, sw.switchEvent(ctx, ref, "ResubmittedAsJob", fmt.Sprintf("resubmitted %s as job.batch/%s by %s: %s", from.resubmitted(), name, sw.actor, why))
}

func (sw *Switch) switchEvent(ctx context.Context, ref corev1.ObjectReference, reason, msg string) error {
	now := metav1.NewTime(sw.now())
	return sw.recordEvent(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", ref.Name, now.UnixNano()), Namespace: sw.Namespace},
		InvolvedObject: ref, Reason: reason, Type: corev1.EventTypeNormal, Message: msg,
		Source:         corev1.EventSource{Component: EventSource},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: EventSource, ReportingInstance: sw.actor,
	})
}

func orNil(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}
