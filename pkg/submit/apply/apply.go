// Package apply creates the objects of a resolved app on the API server (Applier) and waits for
// its driver (WaitForDriver): what kubectl sparkha submit does with a client, apart from
// package submit, which resolves and builds without one.
package apply

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

// Applier creates the objects of an app.
type Applier struct {
	Client kubernetes.Interface
	// DryRunServer sends every create with dryRun=All: the server validates and admits,
	// nothing is persisted, and no rollback is needed.
	DryRunServer bool
	// Suspend creates the Job suspended (spec.suspend): no driver starts until the caller
	// resumes it (migrate creates it before it stops the driver it replaces).
	Suspend bool
	// JobAnnotations are added to the Job only, not to its driver pods.
	JobAnnotations map[string]string
}

// Apply creates the objects of app, in this order: the new checkpoint claim (if any), the
// Job, then the ConfigMap, the Service and the NetworkPolicy owned by the created Job (as spark-submit creates
// the driver pod first and then the resources it owns; the driver pod waits for its
// ConfigMap volume). It refuses, creating nothing, when the Job or the new claim already
// exists, or when --checkpoint-claim names a claim that does not exist. If a create fails
// midway, what this run created is deleted again; an existing claim is never touched.
// It returns the objects as the server created them.
func (a *Applier) Apply(ctx context.Context, app *submit.App) (*submit.Objects, error) {
	ns := app.Namespace
	c := a.Client
	want := submit.Build(app, "")
	if a.Suspend {
		want.Job.Spec.Suspend = ptr.To(true)
	}
	if len(a.JobAnnotations) > 0 {
		if want.Job.Annotations == nil {
			want.Job.Annotations = map[string]string{}
		}
		maps.Copy(want.Job.Annotations, a.JobAnnotations)
	}

	// Preconditions, before creating anything.
	if _, err := c.BatchV1().Jobs(ns).Get(ctx, app.Name, metav1.GetOptions{}); err == nil {
		return nil, fmt.Errorf("job %q already exists in namespace %q: choose another NAME, or delete the old app with kubectl delete job %s -n %s (its checkpoint PVC is kept)", app.Name, ns, app.Name, ns)
	} else if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("checking whether job %q exists in namespace %q: %w", app.Name, ns, err)
	}
	if cp := app.Checkpoint; cp != nil {
		_, err := c.CoreV1().PersistentVolumeClaims(ns).Get(ctx, cp.ClaimName, metav1.GetOptions{})
		switch {
		case cp.Create && err == nil:
			return nil, fmt.Errorf("persistentvolumeclaim %q already exists in namespace %q: reuse it with --checkpoint-claim %s instead of --checkpoint-size, or choose another NAME", cp.ClaimName, ns, cp.ClaimName)
		case !cp.Create && apierrors.IsNotFound(err):
			return nil, fmt.Errorf("--checkpoint-claim %q: no such persistentvolumeclaim in namespace %q; create it first, or use --checkpoint-size SIZE to let kubectl sparkha create %s", cp.ClaimName, ns, submit.CheckpointName(app.Name))
		case err != nil && !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("checking persistentvolumeclaim %q in namespace %q: %w", cp.ClaimName, ns, err)
		}
	}

	opts := metav1.CreateOptions{FieldManager: sparkapp.ManagedBy}
	if a.DryRunServer {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	created := &submit.Objects{}
	var undo []func(context.Context) (string, error)
	fail := func(what string, err error) error {
		return a.rollback(ns, fmt.Errorf("creating %s in namespace %q failed: %w", what, ns, err), undo)
	}

	if want.Checkpoint != nil {
		pvcs := c.CoreV1().PersistentVolumeClaims(ns)
		pvc, err := createOrFind(ctx, a, app.AppID, want.Checkpoint.Name, pvcs.Create, pvcs.Get, want.Checkpoint, opts)
		if err != nil {
			return nil, fail("persistentvolumeclaim/"+want.Checkpoint.Name, err)
		}
		pvc.SetGroupVersionKind(want.Checkpoint.GroupVersionKind())
		created.Checkpoint = pvc
		undo = append(undo, func(ctx context.Context) (string, error) {
			return "persistentvolumeclaim/" + pvc.Name, c.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, pvc.Name,
				metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pvc.UID}})
		})
	}

	jobs := c.BatchV1().Jobs(ns)
	job, err := createOrFind(ctx, a, app.AppID, want.Job.Name, jobs.Create, jobs.Get, want.Job, opts)
	if err != nil {
		return nil, fail("job.batch/"+want.Job.Name, err)
	}
	job.SetGroupVersionKind(want.Job.GroupVersionKind())
	created.Job = job
	undo = append(undo, func(ctx context.Context) (string, error) {
		// Background propagation: the Job's pods go with it.
		return "job.batch/" + job.Name, c.BatchV1().Jobs(ns).Delete(ctx, job.Name, metav1.DeleteOptions{
			PropagationPolicy: ptr.To(metav1.DeletePropagationBackground),
			Preconditions:     &metav1.Preconditions{UID: &job.UID},
		})
	})

	owned := submit.Build(app, job.UID)
	cms := c.CoreV1().ConfigMaps(ns)
	cm, err := createOrFind(ctx, a, app.AppID, owned.ConfigMap.Name, cms.Create, cms.Get, owned.ConfigMap, opts)
	if err != nil {
		return nil, fail("configmap/"+owned.ConfigMap.Name, err)
	}
	cm.SetGroupVersionKind(owned.ConfigMap.GroupVersionKind())
	created.ConfigMap = cm
	// The ConfigMap is owned by the Job: deleting the Job removes it.

	svcs := c.CoreV1().Services(ns)
	svc, err := createOrFind(ctx, a, app.AppID, owned.Service.Name, svcs.Create, svcs.Get, owned.Service, opts)
	if err != nil {
		return nil, fail("service/"+owned.Service.Name, err)
	}
	svc.SetGroupVersionKind(owned.Service.GroupVersionKind())
	created.Service = svc

	if owned.NetworkPolicy != nil {
		nps := c.NetworkingV1().NetworkPolicies(ns)
		np, err := createOrFind(ctx, a, app.AppID, owned.NetworkPolicy.Name, nps.Create, nps.Get, owned.NetworkPolicy, opts)
		if err != nil {
			return nil, fail("networkpolicy.networking.k8s.io/"+owned.NetworkPolicy.Name, err)
		}
		np.SetGroupVersionKind(owned.NetworkPolicy.GroupVersionKind())
		created.NetworkPolicy = np
	}
	return created, nil
}

// createOrFind creates obj. When the create fails without a clear answer, the server may
// have created it all the same: the connection dropped or timed out after the request was
// sent, the server failed (5xx), or client-go sent the create again after a 5xx or 429 with
// Retry-After and the first one had landed (AlreadyExists). Then it reads the object back:
// if it carries this run's app ID (the sparkha.io/app-id label, new for every submit), this
// run created it, and it is returned as created, so that the run goes on with it or rolls
// it back. A definite refusal (any other 4xx) is returned as it is.
func createOrFind[T metav1.Object](ctx context.Context, a *Applier, appID, name string,
	create func(context.Context, T, metav1.CreateOptions) (T, error),
	get func(context.Context, string, metav1.GetOptions) (T, error),
	obj T, opts metav1.CreateOptions,
) (T, error) {
	created, err := create(ctx, obj, opts)
	if err == nil || a.DryRunServer || !mayHaveCreated(err) {
		return created, err
	}
	// With its own deadline: the create's context may be what failed.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	found, gerr := get(rctx, name, metav1.GetOptions{})
	switch {
	case gerr == nil && found.GetLabels()[sparkapp.LabelAppID] == appID:
		return found, nil
	case gerr != nil && !apierrors.IsNotFound(gerr):
		return created, fmt.Errorf("%w (it may have been created all the same: reading it back failed: %v)", err, gerr)
	}
	return created, err
}

// mayHaveCreated reports whether a failed create may have been carried out by the server.
func mayHaveCreated(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return true // no answer: a dropped connection, a timeout
	}
	return apierrors.IsAlreadyExists(err) || status.Status().Code >= 500
}

// rollback undoes the creates in reverse order, with its own deadline so that an
// interrupted or timed-out submit still cleans up.
func (a *Applier) rollback(ns string, cause error, undo []func(context.Context) (string, error)) error {
	if a.DryRunServer || len(undo) == 0 {
		return fmt.Errorf("%w; nothing was created", cause)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var removed, left []string
	var errs []error
	for i := len(undo) - 1; i >= 0; i-- {
		what, err := undo[i](ctx)
		if err != nil && !apierrors.IsNotFound(err) {
			left = append(left, what)
			errs = append(errs, fmt.Errorf("deleting %s: %w", what, err))
			continue
		}
		removed = append(removed, what)
	}
	var msg string
	if len(removed) > 0 {
		msg += "; removed what this run created: " + strings.Join(removed, ", ")
	}
	if len(left) > 0 {
		msg += fmt.Sprintf("; could not remove %s (%v): delete by hand with kubectl delete %s -n %s",
			strings.Join(left, ", "), errors.Join(errs...), strings.Join(left, " "), ns)
	}
	return fmt.Errorf("%w%s", cause, msg)
}
