// Package inspect is the one way in to the state of Spark applications on a cluster: Inspect
// gathers the evidence in a fixed number of LIST calls (Gather) and hands it to the pure
// analysis (pkg/analysis), for `kubectl sparkha inspect`, every step and wait of `failover`,
// and completion alike, as kubectl's drain commands sit on pkg/drain.
package inspect

import (
	"context"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// Query says which applications to inspect.
type Query struct {
	// Namespace to look in; "" (metav1.NamespaceAll) means every namespace.
	Namespace string
	// App is one application, by the name sparkapp.AppOf gives it; "" means all.
	App string
	// Node keeps the apps with a driver on this node; "" means all.
	Node string
	// AllEvents lists Normal events too (for the timeline), not only warnings.
	AllEvents bool
	// PageSize of each paginated LIST; 0 means 500, as kubectl's --chunk-size.
	PageSize int64
	// Now is the analysis clock; nil means time.Now.
	Now func() time.Time
}

// NotFoundError says that the app of a query does not exist.
type NotFoundError struct {
	App, Namespace string
}

func (e *NotFoundError) Error() string {
	where := fmt.Sprintf("namespace %q", e.Namespace)
	if e.Namespace == metav1.NamespaceAll {
		where = "any namespace"
	}
	return fmt.Sprintf("no Spark driver or driver Job named %q in %s (see kubectl sparkha inspect -A)", e.App, where)
}

// Inspect gathers the evidence and analyses it. With q.App set, the report holds that app
// alone, or the error is a *NotFoundError.
func Inspect(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, q Query) (*analysis.Report, *analysis.Snapshot, error) {
	snap, err := Gather(ctx, client, dyn, q)
	if err != nil {
		return nil, nil, err
	}
	r, err := analyse(snap, q)
	return r, snap, err
}

// analyse analyses a snapshot for q: the app asked for alone (or a *NotFoundError), the apps
// with a driver on the node asked for.
func analyse(snap *analysis.Snapshot, q Query) (*analysis.Report, error) {
	now := time.Now
	if q.Now != nil {
		now = q.Now
	}
	r := analysis.Analyze(snap, now())
	// Gather narrows by the app's driver pods and Job, but executors it keeps by label may
	// name other apps: keep the one asked for.
	if q.App != "" {
		r.Apps = slices.DeleteFunc(r.Apps, func(a analysis.App) bool { return a.Name != q.App })
		if len(r.Apps) == 0 {
			return nil, &NotFoundError{App: q.App, Namespace: q.Namespace}
		}
	}
	if q.Node != "" {
		r.Apps = slices.DeleteFunc(r.Apps, func(a analysis.App) bool {
			return !slices.ContainsFunc(a.Drivers, func(d analysis.Driver) bool { return d.Node == q.Node })
		})
	}
	return r, nil
}

// Apps lists the applications of a namespace ("" for all) from their driver pods and driver
// Jobs alone: two LISTs, for completion, which must answer at once.
func Apps(ctx context.Context, client kubernetes.Interface, namespace string) ([]sparkapp.AppKey, error) {
	q := Query{Namespace: namespace, PageSize: 500}
	pods, err := listDriverPods(ctx, client, q)
	if err != nil {
		return nil, err
	}
	jobs, err := listJobs(ctx, client, q)
	if err != nil {
		return nil, err
	}
	var keys []sparkapp.AppKey
	for i := range pods {
		keys = append(keys, sparkapp.AppOfPod(&pods[i]))
	}
	for i := range jobs {
		if k, ok := sparkapp.AppOfJob(&jobs[i]); ok {
			keys = append(keys, k)
		}
	}
	return keys, nil
}
