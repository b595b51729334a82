package inspect

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// Watcher keeps the evidence of a query current through watches (client-go informers): one
// LIST and one WATCH per kind when it starts, then only the changes the API server sends. Reading
// the state (Inspect) costs no request, so following an incident (inspect --watch, failover
// --wait) costs the API server the same whatever the cluster's size and however often it is
// read, where gathering again would LIST every kind each time.
//
// Reads come from the watch caches: fresh within the watch's delay, right for following; a
// decision that writes (failover's steps) gathers anew with Inspect instead.
type Watcher struct {
	q            Query
	unavailable  []string
	kinds        []*watchedKind
	remediations []*watchedCRD
	// remediationsUnseen names the remediation kinds that may not be listed.
	remediationsUnseen []string
	// sparkApps watch the SparkApplicationKinds; sparkAppsUnseen names those that may not be listed.
	sparkApps       []*watchedCRD
	sparkAppsUnseen []string
	changed         chan struct{}
}

// watchedKind is one informer and what became of its first LIST.
type watchedKind struct {
	name     string
	informer cache.SharedIndexInformer
	mu       sync.Mutex
	refused  string // "Forbidden"/"Unauthorized" when the first LIST was refused
}

func (k *watchedKind) refusal() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.refused
}

// watchedCRD is the informer of one kind a CRD defines (a medik8s remediation, a
// SparkApplication). It stops on its own when its first LIST finds no such resource (the
// operator is not installed) or is refused: its reflector would otherwise LIST again, backing
// off, for as long as the watch runs.
type watchedCRD struct {
	kind     string
	informer cache.SharedIndexInformer
	stop     context.CancelFunc
	mu       sync.Mutex
	ended    string // "absent", or the refusal ("Forbidden"/"Unauthorized")
}

func (k *watchedCRD) end(why string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ended == "" {
		k.ended = why
		k.stop()
	}
}

func (k *watchedCRD) outcome() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.ended
}

// Watch starts watching what q covers and returns once every kind is listed, or found
// forbidden (reported in the snapshot's Unavailable, as Gather does). The medik8s remediations
// are watched through dyn, and a remediation resource that does not exist when the watch starts
// is not looked for again. The watches stop with ctx.
func Watch(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, q Query) (*Watcher, error) {
	w := &Watcher{q: q, changed: make(chan struct{}, 1)}
	ns := q.Namespace
	factory := func(namespace string, tweak func(*metav1.ListOptions)) informers.SharedInformerFactory {
		opts := []informers.SharedInformerOption{informers.WithNamespace(namespace)}
		if tweak != nil {
			opts = append(opts, informers.WithTweakListOptions(tweak))
		}
		return informers.NewSharedInformerFactoryWithOptions(client, 0, opts...)
	}
	role := func(r string) func(*metav1.ListOptions) {
		return func(o *metav1.ListOptions) {
			o.LabelSelector = labels.Set{sparkapp.LabelSparkRole: r}.AsSelector().String()
		}
	}
	drivers, executors := factory(ns, role(sparkapp.RoleDriver)), factory(ns, role(sparkapp.RoleExecutor))
	events := factory(ns, func(o *metav1.ListOptions) {
		if !q.AllEvents {
			o.FieldSelector = fields.OneTermEqualSelector("type", corev1.EventTypeWarning).String()
		}
	})
	namespaced, cluster, leases := factory(ns, nil), factory(metav1.NamespaceAll, nil), factory(corev1.NamespaceNodeLease, nil)
	for _, k := range []struct {
		name string
		inf  cache.SharedIndexInformer
	}{
		// Driver pods first: without them there is nothing to say.
		{"driver pods", drivers.Core().V1().Pods().Informer()},
		{"nodes", cluster.Core().V1().Nodes().Informer()},
		{"leases", leases.Coordination().V1().Leases().Informer()},
		{"executor pods", executors.Core().V1().Pods().Informer()},
		{"jobs", namespaced.Batch().V1().Jobs().Informer()},
		{"persistentvolumeclaims", namespaced.Core().V1().PersistentVolumeClaims().Informer()},
		{"persistentvolumes", cluster.Core().V1().PersistentVolumes().Informer()},
		{"volumeattachments", cluster.Storage().V1().VolumeAttachments().Informer()},
		{"csidrivers", cluster.Storage().V1().CSIDrivers().Informer()},
		{"events", events.Core().V1().Events().Informer()},
	} {
		wk := &watchedKind{name: k.name, informer: k.inf}
		// Keep only what Gather keeps: the caches hold what inspect needs, not the cluster's JSON.
		if err := k.inf.SetTransform(func(obj any) (any, error) {
			if o, ok := obj.(runtime.Object); ok {
				trim(o)
			}
			return obj, nil
		}); err != nil {
			return nil, err
		}
		// A refusal makes the kind unavailable, as in Gather. Errors are not logged: the
		// reflector retries on its own, and a command's stderr is for the responder.
		// A kind listed once but not watchable (a role that grants list alone) keeps what
		// its LISTs bring: the reflector lists again after each refused watch.
		inf := k.inf
		if err := k.inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
			if (apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err)) && !inf.HasSynced() {
				wk.mu.Lock()
				wk.refused = string(apierrors.ReasonForError(err))
				wk.mu.Unlock()
			}
		}); err != nil {
			return nil, err
		}
		if _, err := k.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(any) { w.signal() }, UpdateFunc: func(any, any) { w.signal() }, DeleteFunc: func(any) { w.signal() },
		}); err != nil {
			return nil, err
		}
		w.kinds = append(w.kinds, wk)
	}
	for _, k := range RemediationKinds {
		wr, err := w.watchCRD(ctx, dyn, k.GVR, metav1.NamespaceAll, k.GVR.Resource)
		if err != nil {
			return nil, err
		}
		w.remediations = append(w.remediations, wr)
	}
	for _, gvr := range SparkApplicationKinds {
		wr, err := w.watchCRD(ctx, dyn, gvr, ns, gvr.Resource+"."+gvr.Group)
		if err != nil {
			return nil, err
		}
		w.sparkApps = append(w.sparkApps, wr)
	}
	for _, f := range []informers.SharedInformerFactory{drivers, executors, events, namespaced, cluster, leases} {
		f.Start(ctx.Done())
	}
	// Wait for each first LIST, or its refusal.
	for _, k := range w.kinds {
		for !k.informer.HasSynced() && k.refusal() == "" {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
		if r := k.refusal(); r != "" {
			if k.name == "driver pods" {
				return nil, fmt.Errorf("listing Spark driver pods: %s", r)
			}
			w.unavailable = append(w.unavailable, fmt.Sprintf("%s: %s", k.name, r))
		}
	}
	var err error
	if w.remediationsUnseen, err = waitCRDs(ctx, w.remediations); err != nil {
		return nil, err
	}
	if w.sparkAppsUnseen, err = waitCRDs(ctx, w.sparkApps); err != nil {
		return nil, err
	}
	return w, nil
}

// watchCRD starts the informer of one kind a CRD defines, in namespace; kind names it in
// what could not be listed.
func (w *Watcher) watchCRD(ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource, namespace, kind string) (*watchedCRD, error) {
	kctx, stop := context.WithCancel(ctx)
	inf := dynamicinformer.NewFilteredDynamicInformer(dyn, gvr, namespace, 0, cache.Indexers{}, nil).Informer()
	wr := &watchedCRD{kind: kind, informer: inf, stop: stop}
	if err := inf.SetTransform(func(obj any) (any, error) {
		if o, ok := obj.(runtime.Object); ok {
			trim(o)
		}
		return obj, nil
	}); err != nil {
		stop()
		return nil, err
	}
	if err := inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		switch {
		case inf.HasSynced():
		case apierrors.IsNotFound(err):
			wr.end("absent")
		case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
			wr.end(string(apierrors.ReasonForError(err)))
		}
	}); err != nil {
		stop()
		return nil, err
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { w.signal() }, UpdateFunc: func(any, any) { w.signal() }, DeleteFunc: func(any) { w.signal() },
	}); err != nil {
		stop()
		return nil, err
	}
	go inf.RunWithContext(kctx)
	return wr, nil
}

// waitCRDs waits for each kind's first LIST, or its end, and names those refused.
func waitCRDs(ctx context.Context, kinds []*watchedCRD) (unseen []string, err error) {
	for _, k := range kinds {
		for !k.informer.HasSynced() && k.outcome() == "" {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
		if o := k.outcome(); o != "" && o != "absent" {
			unseen = append(unseen, fmt.Sprintf("%s: %s", k.kind, o))
		}
	}
	return unseen, nil
}

func (w *Watcher) signal() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// Changed receives a value after the watched state changed (several changes may make one).
func (w *Watcher) Changed() <-chan struct{} { return w.changed }

// Inspect analyses the watched state at now, as the package's Inspect does after a gather,
// without any request to the API server.
func (w *Watcher) Inspect(now time.Time) (*analysis.Report, *analysis.Snapshot, error) {
	s := &analysis.Snapshot{Unavailable: slices.Clone(w.unavailable), RemediationsUnseen: slices.Clone(w.remediationsUnseen)}
	store := func(i int) []any {
		if w.kinds[i].refusal() != "" {
			return nil
		}
		return w.kinds[i].informer.GetStore().List()
	}
	s.DriverPods = items[corev1.Pod](store(0))
	s.Nodes = items[corev1.Node](store(1))
	s.Leases = items[coordinationv1.Lease](store(2))
	s.ExecutorPods = items[corev1.Pod](store(3))
	s.Jobs = items[batchv1.Job](store(4))
	s.Claims = items[corev1.PersistentVolumeClaim](store(5))
	s.Volumes = items[corev1.PersistentVolume](store(6))
	s.VolumeAttachments = items[storagev1.VolumeAttachment](store(7))
	s.CSIDrivers = items[storagev1.CSIDriver](store(8))
	s.Events = items[corev1.Event](store(9))
	for i, k := range w.remediations {
		if k.outcome() != "" {
			continue
		}
		for _, u := range items[unstructured.Unstructured](k.informer.GetStore().List()) {
			s.Remediations = append(s.Remediations, remediation(RemediationKinds[i].Kind, &u))
		}
	}
	s.SparkApplicationsUnseen = slices.Clone(w.sparkAppsUnseen)
	for i, k := range w.sparkApps {
		if k.outcome() != "" {
			continue
		}
		for _, u := range items[unstructured.Unstructured](k.informer.GetStore().List()) {
			if w.q.App == "" || u.GetName() == w.q.App {
				s.SparkApplications = append(s.SparkApplications, sparkApplication(SparkApplicationKinds[i], &u))
			}
		}
	}
	if w.q.App != "" {
		s.DriverPods = filterPods(s.DriverPods, w.q.App)
		s.ExecutorPods = filterExecutors(s.ExecutorPods, s.DriverPods, w.q.App)
		s.Jobs = filterJobs(s.Jobs, w.q.App)
	}
	q := w.q
	q.Now = func() time.Time { return now }
	r, err := analyse(s, q)
	return r, s, err
}

// items copies the cached objects of one kind, sorted as a LIST returns them.
func items[T any](cached []any) []T {
	out := make([]T, 0, len(cached))
	for _, o := range cached {
		if t, ok := o.(*T); ok {
			out = append(out, *t)
		}
	}
	slices.SortFunc(out, func(a, b T) int {
		ma, mb := any(&a).(metav1.Object), any(&b).(metav1.Object)
		return cmp.Or(cmp.Compare(ma.GetNamespace(), mb.GetNamespace()), cmp.Compare(ma.GetName(), mb.GetName()))
	})
	return out
}
