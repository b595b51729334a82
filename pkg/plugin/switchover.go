package plugin

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
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/failover"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/migrate"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit/apply"
)

// switchSource is an application kubectl sparkha did not start (a bare spark-submit driver, or
// a Spark operator's SparkApplication) as read before anything changes, and the sparkha app
// that replaces it (migrate, failover --resubmit).
type switchSource struct {
	// what names the source in messages: pod/NAME or sparkapplication/NAME.
	what    string
	app     *submit.App
	dropped []migrate.Dropped
	from    failover.MigratedFrom
}

// readSwitchSource reads the driver pod and its spark.properties ConfigMap and resolves the
// equivalent app, with checkpointClaim ("" for the pod's only claim) as its checkpoint.
func readSwitchSource(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, checkpointClaim string, appID string) (*switchSource, error) {
	var cm *corev1.ConfigMap
	if name := migrate.ConfigMapName(pod); name != "" {
		var err error
		cm, err = client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			cm = nil
		} else if err != nil {
			return nil, fmt.Errorf("reading the spark.properties of pod/%s: %w", pod.Name, err)
		}
	}
	in, dropped, err := migrate.FromDriverPod(pod, cm)
	if err != nil {
		return nil, err
	}
	return newSwitchSource(ctx, client, in, dropped, "pod/"+pod.Name, checkpointClaim, appID,
		failover.MigratedFrom{Pod: pod.Name, UID: string(pod.UID), Node: pod.Spec.NodeName})
}

// readAppSource converts a SparkApplication and resolves the equivalent app; driver is its
// driver pod, nil when it has none.
func readAppSource(ctx context.Context, client kubernetes.Interface, obj *unstructured.Unstructured, driver *corev1.Pod, checkpointClaim string, appID string) (*switchSource, error) {
	in, dropped, err := migrate.FromSparkApplication(obj)
	if err != nil {
		return nil, err
	}
	spec, err := json.Marshal(obj.Object["spec"])
	if err != nil {
		return nil, err
	}
	from := failover.MigratedFrom{SparkApplication: &failover.ObjectRef{APIVersion: obj.GetAPIVersion(), Name: obj.GetName(), UID: string(obj.GetUID()), Spec: spec}}
	if driver != nil {
		from.Pod, from.UID, from.Node = driver.Name, string(driver.UID), driver.Spec.NodeName
	}
	return newSwitchSource(ctx, client, in, dropped, "sparkapplication/"+obj.GetName(), checkpointClaim, appID, from)
}

// newSwitchSource resolves in, with checkpointClaim ("" for the source's only claim) as its
// checkpoint, read from the cluster as submit reads a --checkpoint-claim.
func newSwitchSource(ctx context.Context, client kubernetes.Interface, in submit.Input, dropped []migrate.Dropped, what, checkpointClaim, appID string, from failover.MigratedFrom) (*switchSource, error) {
	if checkpointClaim != "" {
		if err := migrate.UseCheckpoint(&in, checkpointClaim); err != nil {
			return nil, err
		}
	}
	in.AppID = appID
	if in.CheckpointClaim != "" {
		pvc, err := client.CoreV1().PersistentVolumeClaims(in.Namespace).Get(ctx, in.CheckpointClaim, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading the checkpoint claim %s of %s: %w", in.CheckpointClaim, what, err)
		}
		in.CheckpointClaimAccessModes = pvc.Status.AccessModes
		if len(in.CheckpointClaimAccessModes) == 0 {
			in.CheckpointClaimAccessModes = pvc.Spec.AccessModes
		}
	}
	app, err := submit.Resolve(in)
	if err != nil {
		return nil, fmt.Errorf("the application of %s cannot run as a sparkha Job: %w", what, err)
	}
	return &switchSource{what: what, app: app, dropped: dropped, from: from}, nil
}

// report writes what is not carried over, and the app's warnings, on w.
func (s *switchSource) report(w io.Writer) {
	for _, d := range s.dropped {
		fmt.Fprintf(w, "%s\n", d)
	}
	for _, warning := range s.app.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", warning)
	}
}

// fatal is the error of the fields that cannot be carried over, nil when there is none.
func (s *switchSource) fatal(action string) error {
	f := migrate.Fatal(s.dropped)
	if len(f) == 0 {
		return nil
	}
	var fields []string
	for _, d := range f {
		fields = append(fields, d.Field)
	}
	return fmt.Errorf("cannot %s %s: %d field(s) of it have no equivalent in a sparkha Job (listed above): %s; nothing was changed",
		action, s.what, len(f), strings.Join(fields, ", "))
}

// prepareJob creates the replacing app's objects with its Job suspended, unless this switch
// created them already (a rerun): then it returns the existing Job.
func (s *switchSource) prepareJob(ctx context.Context, client kubernetes.Interface) (*batchv1.Job, *submit.Objects, error) {
	job, err := client.BatchV1().Jobs(s.app.Namespace).Get(ctx, s.app.Name, metav1.GetOptions{})
	if err == nil {
		if from, ok := failover.MigratedFromOf(job); ok && sameSource(from, s.from) {
			return job, nil, nil
		}
		return nil, nil, fmt.Errorf("job %q already exists in namespace %q and does not replace %s: nothing was changed", s.app.Name, s.app.Namespace, s.what)
	} else if !apierrors.IsNotFound(err) {
		return nil, nil, err
	}
	objs, err := (&apply.Applier{Client: client, Suspend: true, JobAnnotations: s.from.Annotation()}).Apply(ctx, s.app)
	if err != nil {
		return nil, nil, err
	}
	return objs.Job, objs, nil
}

// sameSource: a and b record the same source (the SparkApplication's UID, else the pod's).
func sameSource(a, b failover.MigratedFrom) bool {
	if a.SparkApplication != nil || b.SparkApplication != nil {
		return a.SparkApplication != nil && b.SparkApplication != nil && a.SparkApplication.UID == b.SparkApplication.UID
	}
	return a.UID == b.UID
}

// migratedJob finds the Job of namespace that replaces the source named what: pod/NAME (a bare
// driver pod) or sparkapplication/NAME.
func migratedJob(ctx context.Context, client kubernetes.Interface, namespace, what string) (*batchv1.Job, failover.MigratedFrom, error) {
	jobs, err := client.BatchV1().Jobs(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, failover.MigratedFrom{}, err
	}
	kind, name, _ := strings.Cut(what, "/")
	for i := range jobs.Items {
		from, ok := failover.MigratedFromOf(&jobs.Items[i])
		switch {
		case !ok:
		case kind == "pod" && from.SparkApplication == nil && from.Pod == name,
			kind == "sparkapplication" && from.SparkApplication != nil && from.SparkApplication.Name == name:
			return &jobs.Items[i], from, nil
		}
	}
	return nil, failover.MigratedFrom{}, nil
}

// waitJobDriver waits until a driver pod of the Job runs, as submit --wait does.
func waitJobDriver(ctx context.Context, client kubernetes.Interface, namespace, name string, timeout time.Duration, progress io.Writer) error {
	job, err := client.BatchV1().Jobs(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "waiting up to %s for a driver pod of job/%s to be Running\n", timeout, name)
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// The Job controller's label on its pods: whatever version of kubectl sparkha made the Job.
	pod, err := apply.WaitForDriver(wctx, client, namespace, name, map[string]string{batchv1.ControllerUidLabel: string(job.UID)}, progress)
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "driver pod %s of job/%s is Running on node %s\n", pod.Name, name, pod.Spec.NodeName)
	return nil
}
