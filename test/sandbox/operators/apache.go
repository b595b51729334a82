package operators

import (
	"context"
	"fmt"
	"log"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// The Apache stand-in follows apache/spark-kubernetes-operator 1.0.0 (the CRD beside this file
// is vendored from the same tag), spark-operator/src/main/java/org/apache/spark/k8s/operator/:
// reconciler/SparkAppReconciler.java (the steps per state), reconcilesteps/AppInitStep.java
// (the restart backoff, then the driver pod), AppReconcileStep.observeDriver (a driver pod that
// is gone: Failed, driverUnexpectedRemoved), observers/BaseAppDriverObserver.java
// (observeDriverTermination), AppDriverStartObserver/AppDriverReadyObserver,
// reconcilesteps/AppCleanUpStep.java (delete the driver, then terminateOrRestart);
// spark-operator-api's status/ApplicationStatus.java (terminateOrRestart, getAttemptInfo),
// spec/RestartPolicy.java (attemptRestartOnState), spec/RestartConfig.java (the defaults),
// status/ApplicationStateSummary.java; the driver's name and labels from
// spark-submission-worker SparkAppSubmissionWorker.generateSparkAppId and
// SparkAppDriverConf.resourceNamePrefix (the pod is <app>-<attempt id>-driver, as Spark's
// BasicDriverFeatureStep names it from that prefix) and utils/Utils.driverLabels. The driver is
// looked up live, so the missing-driver grace period (for a stale informer cache) is moot.
type apache struct {
	client kubernetes.Interface
	dyn    dynamic.Interface
	log    *log.Logger
}

// The states this stand-in moves through (ApplicationStateSummary).
const (
	apSubmitted          = "Submitted"
	apScheduledToRestart = "ScheduledToRestart"
	apDriverRequested    = "DriverRequested"
	apDriverStarted      = "DriverStarted"
	apDriverReady        = "DriverReady"
	apRunningHealthy     = "RunningHealthy"
	apSucceeded          = "Succeeded"
	apFailed             = "Failed"
	apDriverEvicted      = "DriverEvicted"
	apResourceReleased   = "ResourceReleased"
)

// apacheFailures is ApplicationStateSummary.failures among the states the stand-in reaches.
var apacheFailures = []string{apFailed, apDriverEvicted}

// apacheStatus is the status the stand-in reads and writes.
type apacheStatus struct {
	state, message, since string
	attemptID, restarts   int64
	failureRestarts       int64
	history               map[string]any
}

func readApacheStatus(app *unstructured.Unstructured) apacheStatus {
	s := apacheStatus{state: str(app, "status", "currentState", "currentStateSummary"), since: str(app, "status", "currentState", "lastTransitionTime")}
	if s.state == "" {
		s.state = apSubmitted // a new ApplicationStatus starts Submitted
	}
	s.attemptID, _ = num(app, "status", "currentAttemptSummary", "attemptInfo", "id")
	s.restarts, _ = num(app, "status", "currentAttemptSummary", "attemptInfo", "restartCounter")
	s.failureRestarts, _ = num(app, "status", "currentAttemptSummary", "attemptInfo", "failureRestartCounter")
	s.history, _, _ = unstructured.NestedMap(app.Object, "status", "stateTransitionHistory")
	return s
}

// reconcile takes one pass of the reconciler's steps for app.
func (a *apache) reconcile(ctx context.Context, app *unstructured.Unstructured) error {
	if app.GetDeletionTimestamp() != nil {
		return nil
	}
	st := readApacheStatus(app)
	rc := func(field string, def int64) int64 {
		if v, ok := num(app, "spec", "applicationTolerations", "restartConfig", field); ok {
			return v
		}
		return def
	}
	policy := str(app, "spec", "applicationTolerations", "restartConfig", "restartPolicy")
	if policy == "" {
		policy = "Never"
	}
	next := st
	switch st.state {
	case apSubmitted, apScheduledToRestart:
		// AppInitStep: after a restart, wait restartBackoffMillis (30 s by default) from the
		// transition, then get or create the attempt's driver pod.
		if st.state == apScheduledToRestart {
			since, _ := time.Parse(time.RFC3339Nano, st.since)
			if time.Since(since) < time.Duration(rc("restartBackoffMillis", 30000))*time.Millisecond {
				return nil
			}
		}
		appID := fmt.Sprintf("%s-%d", app.GetName(), st.attemptID)
		d := driver{namespace: app.GetNamespace(), pod: appID + "-driver", appID: appID, appName: app.GetName(), conf: sparkConf(app), owner: ownerOf(app),
			image:  "apache/spark:" + str(app, "spec", "runtimeVersions", "sparkVersion"),
			labels: map[string]string{"spark.operator/name": "spark-kubernetes-operator", "spark.operator/spark-app-name": app.GetName()}}
		if img := d.conf["spark.kubernetes.container.image"]; img != "" {
			d.image = img
		}
		if _, err := d.create(ctx, a.client); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		next.state, next.message = apDriverRequested, "Driver has been requested from cluster."
	case apDriverRequested, apDriverStarted, apDriverReady, apRunningHealthy:
		pod, err := a.driverPod(ctx, app)
		if err != nil {
			return err
		}
		next.state, next.message = apacheObserve(pod, st.state)
	case apSucceeded, apFailed, apDriverEvicted:
		// AppCleanUpStep: release the attempt's driver, then terminateOrRestart.
		if pod, err := a.driverPod(ctx, app); err != nil {
			return err
		} else if pod != nil {
			if err := a.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
		failure := slices.Contains(apacheFailures, st.state)
		restart := policy == "Always" || (policy == "OnFailure" && failure) // OnInfrastructureFailure: not for these states
		restarts, failureRestarts := st.restarts+1, int64(0)
		if failure {
			failureRestarts = st.failureRestarts + 1
		}
		exceeded := restarts > rc("maxRestartAttempts", 3)
		if maxOnFailure, ok := num(app, "spec", "applicationTolerations", "restartConfig", "maxRestartOnFailure"); ok && failure && !exceeded {
			exceeded = failureRestarts > maxOnFailure
		}
		switch {
		case !restart:
			next.state, next.message = apResourceReleased, ""
		case exceeded:
			next.state, next.message = apResourceReleased, "Application has exceeded max restart attempts."
		default:
			next.state, next.message = apScheduledToRestart, ""
			next.attemptID, next.restarts, next.failureRestarts = st.attemptID+1, restarts, failureRestarts
		}
	default:
		return nil
	}
	if next.state == st.state {
		return nil
	}
	return a.write(ctx, app, st, next)
}

// driverPod is SparkAppContext.getDriverPod: a pod with the app's driver labels (the newest,
// where upstream takes any).
func (a *apache) driverPod(ctx context.Context, app *unstructured.Unstructured) (*corev1.Pod, error) {
	sel := labels.Set{"spark.operator/name": "spark-kubernetes-operator", "spark.operator/spark-app-name": app.GetName(), "spark-role": "driver"}
	pods, err := a.client.CoreV1().Pods(app.GetNamespace()).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil || len(pods.Items) == 0 {
		return nil, err
	}
	slices.SortFunc(pods.Items, func(x, y corev1.Pod) int { return x.CreationTimestamp.Compare(y.CreationTimestamp.Time) })
	return &pods.Items[len(pods.Items)-1], nil
}

// apacheObserve is what the observers make of the driver pod: gone is Failed
// (driverUnexpectedRemoved); a Failed pod is Failed (DriverEvicted if evicted); Succeeded is
// Succeeded; a terminated driver container ends it by its exit code; Running is
// DriverStarted, Ready DriverReady, then RunningHealthy (executor counts are not modelled). A
// pod on a lost node keeps its last phase, Running, whatever its deletion: nothing changes.
func apacheObserve(pod *corev1.Pod, state string) (string, string) {
	if pod == nil {
		return apFailed, "Driver removed. This could caused by 'exit' called in driver process with non-zero code, involuntary disruptions or unintentional destroy behavior, check Kubernetes events for more details."
	}
	switch pod.Status.Phase {
	case corev1.PodFailed:
		if pod.Status.Reason == "Evicted" {
			return apDriverEvicted, "Driver has failed."
		}
		return apFailed, "Driver has failed."
	case corev1.PodSucceeded:
		return apSucceeded, "Driver has succeeded."
	case corev1.PodRunning:
		for _, c := range pod.Status.ContainerStatuses {
			if t := c.State.Terminated; t != nil && c.Name == "spark-kubernetes-driver" {
				if t.ExitCode != 0 {
					return apFailed, "Driver has failed."
				}
				return apSucceeded, "Driver has succeeded."
			}
		}
		ready := slices.ContainsFunc(pod.Status.Conditions, func(c corev1.PodCondition) bool {
			return c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
		})
		switch {
		case ready && (state == apDriverReady || state == apRunningHealthy):
			return apRunningHealthy, "Application is running healthy."
		case ready:
			return apDriverReady, "Driver has reached ready state."
		case state == apDriverRequested:
			return apDriverStarted, "Driver has started running."
		}
	}
	return state, ""
}

// write appends the new state to the history and persists the status.
func (a *apache) write(ctx context.Context, app *unstructured.Unstructured, old, next apacheStatus) error {
	now := metav1.Now().UTC().Format(time.RFC3339Nano)
	state := map[string]any{"currentStateSummary": next.state, "lastTransitionTime": now}
	if next.message != "" {
		state["message"] = next.message
	}
	hist := map[string]any{}
	id := int64(-1)
	for k, v := range old.history {
		hist[k] = v
		if n, err := strconv.ParseInt(k, 10, 64); err == nil && n > id {
			id = n
		}
	}
	hist[strconv.FormatInt(id+1, 10)] = state
	status := map[string]any{
		"currentState":           state,
		"stateTransitionHistory": hist,
		"currentAttemptSummary": map[string]any{"attemptInfo": map[string]any{
			"id": next.attemptID, "restartCounter": next.restarts, "failureRestartCounter": next.failureRestarts, "schedulingFailureRestartCounter": int64(0)}},
	}
	if prev, ok, _ := unstructured.NestedMap(app.Object, "status", "currentAttemptSummary"); ok && next.attemptID != old.attemptID {
		status["previousAttemptSummary"] = prev
	}
	u := app.DeepCopy()
	u.Object["status"] = status
	if _, err := a.dyn.Resource(ApacheResource).Namespace(app.GetNamespace()).UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil {
		return err
	}
	a.log.Printf("SparkApplication %s/%s: %s -> %s (attempt %d, restartCounter %d)", app.GetNamespace(), app.GetName(), old.state, next.state, next.attemptID, next.restarts)
	return nil
}
