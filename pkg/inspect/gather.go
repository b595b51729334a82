package inspect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/pager"
	"k8s.io/client-go/util/retry"
)

// Scope narrows what Gather lists.
type Scope struct {
	// Namespace to look in; "" (metav1.NamespaceAll) means every namespace.
	Namespace string
	// App restricts to one application (its spark-app-name label or Job name).
	App string
	// AllEvents lists Normal events too (for the timeline), not only warnings.
	AllEvents bool
	// PageSize of each paginated LIST; 0 means 500, as kubectl's --chunk-size.
	PageSize int64
}

// Gather lists what Analyze needs in a fixed number of LIST calls (one per
// kind, paginated), whatever the cluster's size; it never GETs objects one
// by one. A kind the caller may not list is recorded in Unavailable instead
// of failing the whole gather, except driver pods, without which there is
// nothing to say.
func Gather(ctx context.Context, client kubernetes.Interface, scope Scope) (*Snapshot, error) {
	if scope.PageSize == 0 {
		scope.PageSize = 500
	}
	s := &Snapshot{}
	ns := scope.Namespace
	driverSel := labels.Set{LabelSparkRole: RoleDriver}.AsSelector().String()

	pods, err := list[corev1.Pod](ctx, scope, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		o.LabelSelector = driverSel
		return client.CoreV1().Pods(ns).List(ctx, o)
	})
	if err != nil {
		return nil, fmt.Errorf("listing Spark driver pods: %w", err)
	}
	if scope.App != "" {
		pods = filterPods(pods, scope.App)
	}
	s.DriverPods = pods

	warnings := fields.OneTermEqualSelector("type", corev1.EventTypeWarning).String()
	if scope.AllEvents {
		warnings = ""
	}
	steps := []struct {
		kind string
		run  func() error
	}{
		{"nodes", func() (err error) {
			s.Nodes, err = list[corev1.Node](ctx, scope, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return client.CoreV1().Nodes().List(ctx, o)
			})
			return err
		}},
		{"leases", func() (err error) {
			s.Leases, err = list[coordinationv1.Lease](ctx, scope, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return client.CoordinationV1().Leases(corev1.NamespaceNodeLease).List(ctx, o)
			})
			return err
		}},
		{"executor pods", func() (err error) {
			// One more LIST, whatever the number of executors: Spark labels
			// every executor pod spark-role=executor.
			s.ExecutorPods, err = list[corev1.Pod](ctx, scope, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				o.LabelSelector = labels.Set{LabelSparkRole: RoleExecutor}.AsSelector().String()
				return client.CoreV1().Pods(ns).List(ctx, o)
			})
			if scope.App != "" {
				s.ExecutorPods = filterExecutors(s.ExecutorPods, s.DriverPods, scope.App)
			}
			return err
		}},
		{"jobs", func() (err error) {
			s.Jobs, err = list[batchv1.Job](ctx, scope, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return client.BatchV1().Jobs(ns).List(ctx, o)
			})
			if scope.App != "" {
				s.Jobs = filterJobs(s.Jobs, scope.App)
			}
			return err
		}},
		{"persistentvolumeclaims", func() (err error) {
			s.Claims, err = list[corev1.PersistentVolumeClaim](ctx, scope, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return client.CoreV1().PersistentVolumeClaims(ns).List(ctx, o)
			})
			return err
		}},
		{"persistentvolumes", func() (err error) {
			s.Volumes, err = list[corev1.PersistentVolume](ctx, scope, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return client.CoreV1().PersistentVolumes().List(ctx, o)
			})
			return err
		}},
		{"volumeattachments", func() (err error) {
			s.VolumeAttachments, err = list[storagev1.VolumeAttachment](ctx, scope, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return client.StorageV1().VolumeAttachments().List(ctx, o)
			})
			return err
		}},
		{"csidrivers", func() (err error) {
			s.CSIDrivers, err = list[storagev1.CSIDriver](ctx, scope, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return client.StorageV1().CSIDrivers().List(ctx, o)
			})
			return err
		}},
		{"events", func() (err error) {
			s.Events, err = list[corev1.Event](ctx, scope, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				o.FieldSelector = warnings
				return client.CoreV1().Events(ns).List(ctx, o)
			})
			return err
		}},
	}
	for _, step := range steps {
		if err := step.run(); err != nil {
			if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
				s.Unavailable = append(s.Unavailable, fmt.Sprintf("%s: %s", step.kind, apierrors.ReasonForError(err)))
				continue
			}
			return nil, fmt.Errorf("listing %s: %w", step.kind, err)
		}
	}
	return s, nil
}

// TransientRetry paces the tries of an idempotent request that failed with a
// Transient error: three tries in all, 250 ms and then 500 ms apart.
var TransientRetry = wait.Backoff{Steps: 3, Duration: 250 * time.Millisecond, Factor: 2}

// retrying retries a page of a LIST on transient failures. A LIST changes
// nothing, so retrying is always safe; client-go itself retries only answers
// carrying Retry-After and dropped connections, not a bare 500 or a timeout.
func retrying(fn func(context.Context, metav1.ListOptions) (runtime.Object, error)) pager.ListPageFunc {
	return func(ctx context.Context, o metav1.ListOptions) (obj runtime.Object, err error) {
		err = retry.OnError(TransientRetry, Transient, func() (err error) {
			obj, err = fn(ctx, o)
			return err
		})
		return obj, err
	}
}

// Transient reports errors worth another try of an idempotent request: the
// server's 5xx and 429, and timeouts or broken connections on the way.
func Transient(err error) bool {
	var netErr net.Error
	return apierrors.IsInternalError(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err) ||
		(errors.As(err, &netErr) && netErr.Timeout()) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err)
}

// list runs one paginated LIST and returns its items, without what Analyze
// never reads and what dominates their size on a large cluster: managed
// fields, and the image lists of nodes. Only the trimmed items outlive their
// page, so the memory held grows with what inspect needs, not with the
// cluster's JSON.
func list[T any](ctx context.Context, scope Scope, fn func(context.Context, metav1.ListOptions) (runtime.Object, error)) ([]T, error) {
	p := pager.New(retrying(fn))
	p.PageSize = scope.PageSize
	var out []T
	err := p.EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
		item, ok := any(obj).(*T)
		if !ok {
			// The typed clients return typed items; anything else is a bug here.
			return fmt.Errorf("unexpected %T in list", obj)
		}
		trim(obj)
		out = append(out, *item)
		return nil
	})
	return out, err
}

// trim drops the fields of a listed object that Analyze, Timeline and the
// renderings never read.
func trim(obj runtime.Object) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	if n, ok := obj.(*corev1.Node); ok {
		n.Status.Images = nil
	}
}

// filterPods keeps the driver pods of one app, by Spark's app name label,
// the operator's label, or the Job name.
func filterPods(pods []corev1.Pod, app string) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range pods {
		if p.Labels[LabelAppName] == app || p.Labels[LabelOperatorApp] == app || p.Labels[batchv1.JobNameLabel] == app {
			out = append(out, p)
		}
	}
	return out
}

// filterExecutors keeps the executor pods of one app: owned by one of its
// driver pods, labelled with one of their app IDs, or with its app name.
func filterExecutors(execs, drivers []corev1.Pod, app string) []corev1.Pod {
	uids, ids := map[string]bool{}, map[string]bool{}
	for _, d := range drivers {
		uids[string(d.UID)] = true
		ids[generationAppID(&d)] = true
		if id := d.Labels[LabelAppSelector]; id != "" {
			ids[id] = true
		}
	}
	var out []corev1.Pod
	for _, e := range execs {
		if uids[ownerPodUID(&e)] || ids[e.Labels[LabelAppSelector]] || e.Labels[LabelAppName] == app {
			out = append(out, e)
		}
	}
	return out
}

// filterJobs keeps the driver Job of one app.
func filterJobs(jobs []batchv1.Job, app string) []batchv1.Job {
	var out []batchv1.Job
	for _, j := range jobs {
		if j.Name == app || j.Spec.Template.Labels[LabelAppName] == app {
			out = append(out, j)
		}
	}
	return out
}
