package inspect

import (
	"context"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/pager"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/apiretry"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// Gather lists what Analyze needs in a fixed number of LIST calls (one per
// kind, paginated), whatever the cluster's size; it never GETs objects one
// by one. A kind the caller may not list is recorded in Unavailable instead
// of failing the whole gather, except driver pods, without which there is
// nothing to say. The medik8s remediations and the Spark operators' SparkApplications come
// through dyn (see Remediations, SparkApplications).
func Gather(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, q Query) (*analysis.Snapshot, error) {
	if q.PageSize == 0 {
		q.PageSize = 500
	}
	s := &analysis.Snapshot{}
	ns := q.Namespace
	pods, err := listDriverPods(ctx, client, q)
	if err != nil {
		return nil, fmt.Errorf("listing Spark driver pods: %w", err)
	}
	if q.App != "" {
		pods = filterPods(pods, q.App)
	}
	s.DriverPods = pods

	warnings := fields.OneTermEqualSelector("type", corev1.EventTypeWarning).String()
	if q.AllEvents {
		warnings = ""
	}
	steps := []struct {
		kind string
		run  func() error
	}{
		{"nodes", func() (err error) {
			s.Nodes, err = list[corev1.Node](ctx, q, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return client.CoreV1().Nodes().List(ctx, o)
			})
			return err
		}},
		{"leases", func() (err error) {
			s.Leases, err = list[coordinationv1.Lease](ctx, q, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return client.CoordinationV1().Leases(corev1.NamespaceNodeLease).List(ctx, o)
			})
			return err
		}},
		{"executor pods", func() (err error) {
			// One more LIST, whatever the number of executors: Spark labels
			// every executor pod spark-role=executor.
			s.ExecutorPods, err = list[corev1.Pod](ctx, q, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				o.LabelSelector = labels.Set{sparkapp.LabelSparkRole: sparkapp.RoleExecutor}.AsSelector().String()
				return client.CoreV1().Pods(ns).List(ctx, o)
			})
			if q.App != "" {
				s.ExecutorPods = filterExecutors(s.ExecutorPods, s.DriverPods, q.App)
			}
			return err
		}},
		{"jobs", func() (err error) {
			s.Jobs, err = listJobs(ctx, client, q)
			if q.App != "" {
				s.Jobs = filterJobs(s.Jobs, q.App)
			}
			return err
		}},
		{"persistentvolumeclaims", func() (err error) {
			s.Claims, err = list[corev1.PersistentVolumeClaim](ctx, q, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return client.CoreV1().PersistentVolumeClaims(ns).List(ctx, o)
			})
			return err
		}},
		{"persistentvolumes", func() (err error) {
			s.Volumes, err = list[corev1.PersistentVolume](ctx, q, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return client.CoreV1().PersistentVolumes().List(ctx, o)
			})
			return err
		}},
		{"volumeattachments", func() (err error) {
			s.VolumeAttachments, err = list[storagev1.VolumeAttachment](ctx, q, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return client.StorageV1().VolumeAttachments().List(ctx, o)
			})
			return err
		}},
		{"csidrivers", func() (err error) {
			s.CSIDrivers, err = list[storagev1.CSIDriver](ctx, q, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return client.StorageV1().CSIDrivers().List(ctx, o)
			})
			return err
		}},
		{"events", func() (err error) {
			s.Events, err = list[corev1.Event](ctx, q, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
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
	if s.Remediations, s.RemediationsUnseen, err = Remediations(ctx, dyn, q); err != nil {
		return nil, err
	}
	if s.SparkApplications, s.SparkApplicationsUnseen, err = SparkApplications(ctx, dyn, q); err != nil {
		return nil, err
	}
	return s, nil
}

// listDriverPods lists the pods Spark labels spark-role=driver in q's namespace.
func listDriverPods(ctx context.Context, client kubernetes.Interface, q Query) ([]corev1.Pod, error) {
	return list[corev1.Pod](ctx, q, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		o.LabelSelector = labels.Set{sparkapp.LabelSparkRole: sparkapp.RoleDriver}.AsSelector().String()
		return client.CoreV1().Pods(q.Namespace).List(ctx, o)
	})
}

// listJobs lists the Jobs of q's namespace.
func listJobs(ctx context.Context, client kubernetes.Interface, q Query) ([]batchv1.Job, error) {
	return list[batchv1.Job](ctx, q, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return client.BatchV1().Jobs(q.Namespace).List(ctx, o)
	})
}

// retrying retries a page of a LIST on transient failures: a LIST changes nothing.
func retrying(fn func(context.Context, metav1.ListOptions) (runtime.Object, error)) pager.ListPageFunc {
	return func(ctx context.Context, o metav1.ListOptions) (obj runtime.Object, err error) {
		err = apiretry.OnTransient(func() (err error) {
			obj, err = fn(ctx, o)
			return err
		})
		return obj, err
	}
}

// list runs one paginated LIST and returns its items, without what Analyze
// never reads and what dominates their size on a large cluster: managed
// fields, and the image lists of nodes. Only the trimmed items outlive their
// page, so the memory held grows with what inspect needs, not with the
// cluster's JSON.
func list[T any](ctx context.Context, q Query, fn func(context.Context, metav1.ListOptions) (runtime.Object, error)) ([]T, error) {
	p := pager.New(retrying(fn))
	p.PageSize = q.PageSize
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

// filterPods keeps the driver pods of one app.
func filterPods(pods []corev1.Pod, app string) []corev1.Pod {
	var out []corev1.Pod
	for i := range pods {
		if sparkapp.AppOfPod(&pods[i]).Name == app {
			out = append(out, pods[i])
		}
	}
	return out
}

// filterExecutors keeps the executor pods of one app: owned by one of its driver pods,
// labelled with one of their spark.app.ids, with the app's sparkha.io/app-id (every
// generation's, even one whose driver pod is gone), or with its app name.
func filterExecutors(execs, drivers []corev1.Pod, app string) []corev1.Pod {
	uids, ids, appIDs := map[types.UID]bool{}, map[string]bool{}, map[string]bool{}
	for i := range drivers {
		uids[drivers[i].UID] = true
		ids[sparkapp.DriverAppID(&drivers[i])] = true
		if id := drivers[i].Labels[sparkapp.LabelAppSelector]; id != "" {
			ids[id] = true
		}
		if id := drivers[i].Labels[sparkapp.LabelAppID]; id != "" {
			appIDs[id] = true
		}
	}
	var out []corev1.Pod
	for i := range execs {
		e := &execs[i]
		if uids[sparkapp.OwnerPodUID(e)] || ids[e.Labels[sparkapp.LabelAppSelector]] || appIDs[e.Labels[sparkapp.LabelAppID]] || e.Labels[sparkapp.LabelAppName] == app {
			out = append(out, *e)
		}
	}
	return out
}

// filterJobs keeps the driver Job of one app.
func filterJobs(jobs []batchv1.Job, app string) []batchv1.Job {
	var out []batchv1.Job
	for i := range jobs {
		if k, ok := sparkapp.AppOfJob(&jobs[i]); ok && k.Name == app {
			out = append(out, jobs[i])
		}
	}
	return out
}
