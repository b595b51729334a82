package operators

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// The Kubeflow stand-in follows kubeflow/spark-operator v2.5.2 (the CRD beside this file is
// vendored from the same tag): internal/controller/sparkapplication/controller.go, Reconcile's
// switch on status.applicationState.state and the reconcile<State>SparkApplication functions,
// submitSparkApplication, updateDriverState, deleteSparkResources/deleteDriverPod,
// validateSparkResourceDeletion and resetSparkApplicationStatus; pkg/util/sparkapplication.go,
// GetDriverPodName, ShouldRetry, TimeUntilNextRetryDue, GetDriverState and
// DriverStateToApplicationState; api/v1beta2/defaults.go for the restart policy's defaults;
// the driver's labels from submission.go, driverConfOption (sparkoperator.k8s.io/app-name,
// launched-by-spark-operator, submission-id) and its owner reference (the SparkApplication).
type kubeflow struct {
	client kubernetes.Interface
	dyn    dynamic.Interface
	log    *log.Logger
}

// The application states (api/v1beta2/sparkapplication_types.go, ApplicationStateType).
const (
	kfNew          = ""
	kfSubmitted    = "SUBMITTED"
	kfRunning      = "RUNNING"
	kfCompleted    = "COMPLETED"
	kfFailed       = "FAILED"
	kfPendingRerun = "PENDING_RERUN"
	kfSucceeding   = "SUCCEEDING"
	kfFailing      = "FAILING"
	kfUnknown      = "UNKNOWN"
)

// driverPodCreationGracePeriod is the controller option --driver-pod-creation-grace-period's
// default: how long a SUBMITTED app may have no driver pod before it counts as failing.
const driverPodCreationGracePeriod = 10 * time.Second

// reconcile takes one pass of Reconcile for app.
func (k *kubeflow) reconcile(ctx context.Context, app *unstructured.Unstructured) error {
	if app.GetDeletionTimestamp() != nil {
		return nil
	}
	state := str(app, "status", "applicationState", "state")
	next := app.DeepCopy()
	switch state {
	case kfNew, kfPendingRerun:
		// reconcilePendingRerunSparkApplication: submit only once the old driver pod is gone.
		if state == kfPendingRerun {
			if p, err := getPod(ctx, k.client, app.GetNamespace(), kfDriverPodName(app)); err != nil || p != nil {
				return err
			}
		}
		if err := k.submit(ctx, next); err != nil {
			return err
		}
	case kfSubmitted, kfRunning, kfUnknown:
		if err := k.updateDriverState(ctx, next); err != nil {
			return err
		}
	case kfFailing, kfSucceeding:
		if !kfShouldRetry(next) {
			setState(next, map[string]string{kfFailing: kfFailed, kfSucceeding: kfCompleted}[state])
			break
		}
		if state == kfFailing && kfTimeUntilNextRetry(next) > 0 {
			return nil
		}
		// deleteSparkResources: the driver pod is deleted (gracefully); the rerun waits until
		// it is gone.
		if err := k.client.CoreV1().Pods(app.GetNamespace()).Delete(ctx, kfPodName(app), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		// resetSparkApplicationStatus for SUCCEEDING and FAILING: an empty DriverInfo (the CRD
		// requires the field).
		_ = unstructured.SetNestedField(next.Object, map[string]any{}, "status", "driverInfo")
		unstructured.RemoveNestedField(next.Object, "status", "sparkApplicationId")
		unstructured.RemoveNestedField(next.Object, "status", "terminationTime")
		setState(next, kfPendingRerun)
	default:
		return nil
	}
	if _, err := k.dyn.Resource(KubeflowResource).Namespace(app.GetNamespace()).UpdateStatus(ctx, next, metav1.UpdateOptions{}); err != nil {
		return err
	}
	if s := str(next, "status", "applicationState", "state"); s != state {
		k.log.Printf("SparkApplication %s/%s: %s -> %s (executionAttempts %d)", app.GetNamespace(), app.GetName(), orNew(state), s, attempts(next, "executionAttempts"))
	}
	return nil
}

func orNew(s string) string {
	if s == "" {
		return "new"
	}
	return s
}

func attempts(app *unstructured.Unstructured, field string) int64 {
	n, _ := num(app, "status", field)
	return n
}

func setState(app *unstructured.Unstructured, state string) {
	_ = unstructured.SetNestedField(app.Object, state, "status", "applicationState", "state")
}

// kfDriverPodName is GetDriverPodName: spec.driver.podName, else the spark.kubernetes.driver.pod.name
// conf, else <app>-driver. A fixed name: the next attempt's driver cannot be created while the
// previous pod object exists.
func kfDriverPodName(app *unstructured.Unstructured) string {
	if n := str(app, "spec", "driver", "podName"); n != "" {
		return n
	}
	if n := sparkConf(app)["spark.kubernetes.driver.pod.name"]; n != "" {
		return n
	}
	return app.GetName() + "-driver"
}

// kfPodName is the driver pod the status records, else the derived name (deleteDriverPod).
func kfPodName(app *unstructured.Unstructured) string {
	if n := str(app, "status", "driverInfo", "podName"); n != "" {
		return n
	}
	return kfDriverPodName(app)
}

// submit is submitSparkApplication: a new submission ID, the driver pod, and the counters.
func (k *kubeflow) submit(ctx context.Context, app *unstructured.Unstructured) error {
	id := uuid.NewString()
	now := metav1.Now().UTC().Format(time.RFC3339)
	sub := attempts(app, "submissionAttempts") + 1
	status := app.Object["status"]
	if status == nil {
		app.Object["status"] = map[string]any{}
	}
	set := func(v any, path ...string) {
		_ = unstructured.SetNestedField(app.Object, v, append([]string{"status"}, path...)...)
	}
	set(id, "submissionID")
	set(kfDriverPodName(app), "driverInfo", "podName")
	set(now, "lastSubmissionAttemptTime")
	set(sub, "submissionAttempts")
	d := driver{
		namespace: app.GetNamespace(), pod: kfDriverPodName(app), image: str(app, "spec", "image"),
		appID: "spark-" + strings.ReplaceAll(uuid.NewString(), "-", ""), appName: app.GetName(), conf: sparkConf(app), owner: ownerOf(app),
		labels: map[string]string{"sparkoperator.k8s.io/app-name": app.GetName(), "sparkoperator.k8s.io/launched-by-spark-operator": "true",
			"sparkoperator.k8s.io/submission-id": id},
	}
	if _, err := d.create(ctx, k.client); err != nil {
		// spark-submit failed: SUBMISSION_FAILED (retries on submission failure are not modelled).
		set(map[string]any{"state": "SUBMISSION_FAILED", "errorMessage": fmt.Sprintf("failed to submit spark application: %v", err)}, "applicationState")
		return nil
	}
	set(map[string]any{"state": kfSubmitted}, "applicationState")
	set(attempts(app, "executionAttempts")+1, "executionAttempts")
	return nil
}

// updateDriverState maps the driver pod to the application state; a pod that is gone (after
// the creation grace period of a fresh submission) is FAILING.
func (k *kubeflow) updateDriverState(ctx context.Context, app *unstructured.Unstructured) error {
	pod, err := getPod(ctx, k.client, app.GetNamespace(), kfPodName(app))
	if err != nil {
		return err
	}
	if pod == nil {
		last, _ := time.Parse(time.RFC3339, str(app, "status", "lastSubmissionAttemptTime"))
		if str(app, "status", "applicationState", "state") != kfSubmitted || time.Since(last) > driverPodCreationGracePeriod {
			_ = unstructured.SetNestedField(app.Object, map[string]any{"state": kfFailing, "errorMessage": "driver pod not found"}, "status", "applicationState")
		}
		return nil
	}
	_ = unstructured.SetNestedField(app.Object, pod.Labels["spark-app-selector"], "status", "sparkApplicationId")
	setState(app, kfDriverStateToApplicationState(pod))
	return nil
}

// kfDriverStateToApplicationState is GetDriverState then DriverStateToApplicationState: the
// pod's phase, with a Running pod whose driver container terminated counted by its exit code.
// A pod on a lost node keeps its last phase, Running, whatever its deletion: the app stays RUNNING.
func kfDriverStateToApplicationState(pod *corev1.Pod) string {
	terminated := func() *corev1.ContainerStateTerminated {
		for _, c := range pod.Status.ContainerStatuses {
			if c.Name == "spark-kubernetes-driver" {
				return c.State.Terminated
			}
		}
		return nil
	}
	switch pod.Status.Phase {
	case corev1.PodPending:
		return kfSubmitted
	case corev1.PodRunning:
		if t := terminated(); t != nil {
			if t.ExitCode == 0 {
				return kfSucceeding
			}
			return kfFailing
		}
		return kfRunning
	case corev1.PodSucceeded:
		return kfSucceeding
	case corev1.PodFailed:
		if t := terminated(); t != nil && t.ExitCode == 0 {
			return kfSucceeding
		}
		return kfFailing
	}
	return kfUnknown
}

// kfShouldRetry is ShouldRetry: Always, or OnFailure while executionAttempts <=
// onFailureRetries (an absent policy is Never, defaults.go).
func kfShouldRetry(app *unstructured.Unstructured) bool {
	policy := str(app, "spec", "restartPolicy", "type")
	switch str(app, "status", "applicationState", "state") {
	case kfSucceeding:
		return policy == "Always"
	case kfFailing:
		if policy == "Always" {
			return true
		}
		retries, ok := num(app, "spec", "restartPolicy", "onFailureRetries")
		return policy == "OnFailure" && ok && attempts(app, "executionAttempts") <= retries
	}
	return false
}

// kfTimeUntilNextRetry is TimeUntilNextRetryDue for FAILING: onFailureRetryInterval (5 s by
// default, defaults.go) times the submission attempts, a linear backoff from the last attempt.
func kfTimeUntilNextRetry(app *unstructured.Unstructured) time.Duration {
	interval, ok := num(app, "spec", "restartPolicy", "onFailureRetryInterval")
	if !ok {
		interval = 5
	}
	last, _ := time.Parse(time.RFC3339, str(app, "status", "lastSubmissionAttemptTime"))
	return time.Duration(interval)*time.Second*time.Duration(attempts(app, "submissionAttempts")) - time.Since(last)
}
