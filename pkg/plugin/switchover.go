package plugin

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/failover"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/migrate"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

// switchSource is a bare spark-submit driver as read before anything changes, and the sparkha
// app that replaces it (migrate, failover --resubmit).
type switchSource struct {
	pod     *corev1.Pod
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
	if checkpointClaim != "" {
		if err := migrate.UseCheckpoint(&in, checkpointClaim); err != nil {
			return nil, err
		}
	}
	in.AppID = appID
	if in.CheckpointClaim != "" {
		pvc, err := client.CoreV1().PersistentVolumeClaims(in.Namespace).Get(ctx, in.CheckpointClaim, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading the checkpoint claim %s of pod/%s: %w", in.CheckpointClaim, pod.Name, err)
		}
		in.CheckpointClaimAccessModes = pvc.Status.AccessModes
		if len(in.CheckpointClaimAccessModes) == 0 {
			in.CheckpointClaimAccessModes = pvc.Spec.AccessModes
		}
	}
	app, err := submit.Resolve(in)
	if err != nil {
		return nil, fmt.Errorf("the application of pod/%s cannot run as a sparkha Job: %w", pod.Name, err)
	}
	return &switchSource{pod: pod, app: app, dropped: dropped,
		from: failover.MigratedFrom{Pod: pod.Name, UID: string(pod.UID), Node: pod.Spec.NodeName}}, nil
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
	return fmt.Errorf("cannot %s pod/%s: %d field(s) of it have no equivalent in a sparkha Job (listed above): %s; nothing was changed",
		action, s.pod.Name, len(f), strings.Join(fields, ", "))
}

// prepareJob creates the replacing app's objects with its Job suspended, unless this switch
// created them already (a rerun): then it returns the existing Job.
func (s *switchSource) prepareJob(ctx context.Context, client kubernetes.Interface) (*batchv1.Job, *submit.Objects, error) {
	job, err := client.BatchV1().Jobs(s.app.Namespace).Get(ctx, s.app.Name, metav1.GetOptions{})
	if err == nil {
		if from, ok := failover.MigratedFromOf(job); ok && from.UID == s.from.UID {
			return job, nil, nil
		}
		return nil, nil, fmt.Errorf("job %q already exists in namespace %q and does not replace pod/%s: nothing was changed", s.app.Name, s.app.Namespace, s.pod.Name)
	} else if !apierrors.IsNotFound(err) {
		return nil, nil, err
	}
	objs, err := (&submit.Applier{Client: client, Suspend: true, JobAnnotations: s.from.Annotation()}).Apply(ctx, s.app)
	if err != nil {
		return nil, nil, err
	}
	return objs.Job, objs, nil
}

// migratedJob finds the Job of namespace that replaces the bare driver pod podName.
func migratedJob(ctx context.Context, client kubernetes.Interface, namespace, podName string) (*batchv1.Job, failover.MigratedFrom, error) {
	jobs, err := client.BatchV1().Jobs(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, failover.MigratedFrom{}, err
	}
	for i := range jobs.Items {
		if from, ok := failover.MigratedFromOf(&jobs.Items[i]); ok && from.Pod == podName {
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
	app := &submit.App{Name: name, Namespace: namespace, AppID: job.Labels[sparkapp.LabelAppSelector]}
	fmt.Fprintf(progress, "waiting up to %s for a driver pod of job/%s to be Running\n", timeout, name)
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pod, err := submit.WaitForDriver(wctx, client, app, progress)
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "driver pod %s of job/%s is Running on node %s\n", pod.Name, name, pod.Spec.NodeName)
	return nil
}
