package plugin

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/failover"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

// resubmitSource reads, for failover --resubmit, the bare spark-submit driver the plan fences
// and its spark.properties: the fence force-deletes the pod, and the garbage collector its
// ConfigMap with it. nil when the plan does not act on a bare driver. A field that cannot be
// carried over refuses before anything is written.
func (o *FailoverOptions) resubmitSource(ctx context.Context, plan analysis.Plan, app *analysis.App) (*failover.Source, error) {
	operatorApp := app.Kind == sparkapp.KindSparkApplication && app.SparkApplication != nil && app.SparkApplication.APIVersion != "" && !app.SparkApplication.Resubmits
	if !o.Resubmit || (app.Kind != sparkapp.KindPod && !operatorApp) || plan.Outcome != analysis.Act {
		return nil, nil
	}
	var name, uid string
	for _, s := range plan.Steps {
		if s.Pod != "" {
			name, uid = s.Pod, s.PodUID
		}
	}
	if name == "" && !operatorApp {
		return nil, fmt.Errorf("refusing to resubmit %s/%s: the plan fences no driver pod to read the application from; nothing was done", o.namespace, o.App)
	}
	var pod *corev1.Pod
	if name != "" {
		var err error
		pod, err = o.client.CoreV1().Pods(o.namespace).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err) && operatorApp:
			pod = nil // its SparkApplication holds the application
		case err != nil:
			return nil, fmt.Errorf("reading the old driver %s to resubmit it: %w", name, err)
		case pod.UID != types.UID(uid):
			return nil, fmt.Errorf("driver pod %s was replaced since the plan; nothing was done: rerun", name)
		}
	}
	var src *failover.Source
	var err error
	if operatorApp {
		src, err = o.operatorSource(ctx, app.SparkApplication, pod)
	} else {
		src, err = failover.ReadDriverPod(ctx, o.client, pod, "", submit.NewAppID())
	}
	if err != nil {
		return nil, err
	}
	src.Report(o.ErrOut)
	if err := src.Fatal("resubmit"); err != nil {
		return nil, err
	}
	return src, nil
}

// operatorSource reads the SparkApplication of an operator app and converts it; driver is its
// old driver pod, nil when it is gone already.
func (o *FailoverOptions) operatorSource(ctx context.Context, sa *analysis.OperatorApp, driver *corev1.Pod) (*failover.Source, error) {
	gv, err := schema.ParseGroupVersion(sa.APIVersion)
	if err != nil {
		return nil, err
	}
	obj, err := o.dynamic.Resource(gv.WithResource("sparkapplications")).Namespace(o.namespace).Get(ctx, sa.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading SparkApplication %s to resubmit it: %w", sa.Name, err)
	}
	return failover.ReadSparkApplication(ctx, o.client, obj, driver, "", submit.NewAppID())
}

// prepareResubmit creates the replacing Job suspended, before the fence: from then on it holds
// the application's conf, so a rerun can finish the resubmission.
func (o *FailoverOptions) prepareResubmit(ctx context.Context, sw *failover.Switch, src *failover.Source) (string, error) {
	job, objs, err := sw.Prepare(ctx, src)
	if err != nil {
		return "", err
	}
	if objs != nil {
		fmt.Fprintf(o.ErrOut, "job.batch/%s created suspended, with configmap/%s and service/%s\n", objs.Job.Name, objs.ConfigMap.Name, objs.Service.Name)
	}
	return job.Name, nil
}

// resubmit resumes the Job once the old driver is gone, and waits for its driver.
func (o *FailoverOptions) resubmit(ctx context.Context, sw *failover.Switch, job string, from failover.MigratedFrom, plan analysis.Plan) error {
	why := fmt.Sprintf("kubectl sparkha failover %s --node-down --resubmit: node %s was fenced and %s is gone; nothing else would start a new driver", o.App, from.Node, from)
	if _, err := sw.Resume(ctx, job, from, why); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "resubmitted %s/%s as job.batch/%s\n", plan.Namespace, plan.App, job)
	if o.Wait {
		if err := sw.WaitDriver(ctx, job, o.ErrOut); err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "failover of %s/%s complete: resubmitted as job.batch/%s, a new driver runs\n", plan.Namespace, plan.App, job)
		return nil
	}
	fmt.Fprintf(o.Out, "failover of %s/%s complete: resubmitted as job.batch/%s\n", plan.Namespace, plan.App, job)
	return nil
}

// resumeResubmitted finishes a resubmission that an earlier run left suspended (interrupted
// after it created the Job): done is true when it handled the app.
func (o *FailoverOptions) resumeResubmitted(ctx context.Context, sw *failover.Switch) (bool, error) {
	if !o.Resubmit || o.dryRun != cmdutil.DryRunNone {
		return false, nil
	}
	job, err := o.client.BatchV1().Jobs(o.namespace).Get(ctx, o.App, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	from, ok := failover.MigratedFromOf(job)
	if !ok || job.Spec.Suspend == nil || !*job.Spec.Suspend {
		return false, nil
	}
	if _, err := o.client.CoreV1().Pods(o.namespace).Get(ctx, from.Pod, metav1.GetOptions{}); err == nil {
		return false, nil // the old driver is still there: plan its failover again
	}
	return true, o.resubmit(ctx, sw, job.Name, from, analysis.Plan{Namespace: o.namespace, App: o.App})
}
