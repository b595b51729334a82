package analysis

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// The Spark operators whose SparkApplications inspect lists (pkg/inspect, with the dynamic
// client: the analysis imports no operator types), by API group.
const (
	// OperatorKubeflow is the Kubeflow Spark Operator (kubeflow/spark-operator), sparkoperator.k8s.io/v1beta2.
	OperatorKubeflow = sparkapp.OperatorKubeflow
	// OperatorApache is Apache's spark-kubernetes-operator, spark.apache.org/v1.
	OperatorApache = sparkapp.OperatorApache
)

// SparkApplication is one SparkApplication object of a Spark operator, reduced to what says
// whether the operator starts another driver when the current one fails: plain data, as listed.
type SparkApplication struct {
	// APIVersion is the group/version it was listed as; its group names the operator.
	APIVersion string `json:"apiVersion"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	Deleting   bool   `json:"deleting,omitempty"`
	// RestartPolicy as written ("" when absent): Kubeflow's spec.restartPolicy.type (Never,
	// OnFailure, Always), Apache's spec.applicationTolerations.restartConfig.restartPolicy
	// (Never, Always, OnFailure, OnInfrastructureFailure).
	RestartPolicy string `json:"restartPolicy,omitempty"`
	// State is Kubeflow's status.applicationState.state (RUNNING, FAILING, PENDING_RERUN, ...) or
	// Apache's status.currentState.currentStateSummary (RunningHealthy, Failed, ScheduledToRestart, ...).
	State string `json:"state,omitempty"`

	// Kubeflow: spec.restartPolicy.onFailureRetries and onSubmissionFailureRetries,
	// status.executionAttempts and submissionAttempts.
	OnFailureRetries           *int64 `json:"onFailureRetries,omitempty"`
	OnSubmissionFailureRetries *int64 `json:"onSubmissionFailureRetries,omitempty"`
	ExecutionAttempts          int64  `json:"executionAttempts,omitempty"`
	SubmissionAttempts         int64  `json:"submissionAttempts,omitempty"`

	// Apache: spec.applicationTolerations.restartConfig.maxRestartAttempts and
	// maxRestartOnFailure; status.currentAttemptSummary.attemptInfo's id, restartCounter and
	// failureRestartCounter; EndedAs is the state before a terminal one (ResourceReleased says
	// only that the resources are gone), from status.stateTransitionHistory.
	MaxRestartAttempts    *int64 `json:"maxRestartAttempts,omitempty"`
	MaxRestartOnFailure   *int64 `json:"maxRestartOnFailure,omitempty"`
	AttemptID             int64  `json:"attemptId,omitempty"`
	RestartCounter        int64  `json:"restartCounter,omitempty"`
	FailureRestartCounter int64  `json:"failureRestartCounter,omitempty"`
	EndedAs               string `json:"endedAs,omitempty"`
}

// Operator is the API group of the operator that owns it.
func (s SparkApplication) Operator() string {
	g, _, _ := strings.Cut(s.APIVersion, "/")
	return g
}

// OperatorApp is what the report says of an app's SparkApplication: its state, restart policy
// and retries left, and whether its operator starts a new driver after the current one fails.
type OperatorApp struct {
	// APIVersion is "" when no SparkApplication of the app was found; Why then says why.
	APIVersion string `json:"apiVersion,omitempty"`
	Name       string `json:"name"`
	State      string `json:"state,omitempty"`
	// RestartPolicy is the policy in effect: the operator's default (Never, for both) when the
	// object names none.
	RestartPolicy string `json:"restartPolicy,omitempty"`
	// RetriesLeft is how many more drivers the operator starts after failures; nil when its
	// policy sets no limit (Always on Kubeflow) or it is not known.
	RetriesLeft *int64 `json:"retriesLeft,omitempty"`
	// Resubmits: once the current driver fails or is gone, the operator starts a new one.
	Resubmits bool `json:"resubmits"`
	// Why says what the operator will do and by which of its rules.
	Why string `json:"why"`
}

// The states whose names the rules below read, from the operators' sources: Kubeflow
// api/v1beta2/sparkapplication_types.go (ApplicationStateType), Apache
// spark-operator-api status/ApplicationStateSummary.java.
const (
	kfCompleted        = "COMPLETED"
	kfFailed           = "FAILED"
	kfSubmissionFailed = "SUBMISSION_FAILED"
	kfPendingRerun     = "PENDING_RERUN"
	kfInvalidating     = "INVALIDATING"
	kfSucceeding       = "SUCCEEDING"
	kfSuspending       = "SUSPENDING"
	kfSuspended        = "SUSPENDED"
	kfResuming         = "RESUMING"

	apSubmitted           = "Submitted"
	apScheduledToRestart  = "ScheduledToRestart"
	apSucceeded           = "Succeeded"
	apFailed              = "Failed"
	apResourceReleased    = "ResourceReleased"
	apTerminatedNoRelease = "TerminatedWithoutReleaseResources"
)

// apacheStopping are ApplicationStateSummary.isStopping's states: the attempt ended, and the
// clean-up step decides (terminateOrRestart) from this very state whether to restart.
var apacheStopping = map[string]bool{
	"DriverStartTimedOut": true, "ExecutorsStartTimedOut": true, "DriverReadyTimedOut": true,
	apSucceeded: true, apFailed: true, "SchedulingFailure": true, "DriverEvicted": true,
}

// apacheFailure is ApplicationStateSummary.failures; apacheInfraFailure its infrastructureFailures.
var (
	apacheFailure = map[string]bool{
		"DriverStartTimedOut": true, "ExecutorsStartTimedOut": true, "SchedulingFailure": true,
		"DriverEvicted": true, apFailed: true, "DriverReadyTimedOut": true,
	}
	apacheInfraFailure = map[string]bool{"DriverStartTimedOut": true, "ExecutorsStartTimedOut": true, "SchedulingFailure": true}
)

// operatorApp says what the operator of s does once the app's current driver fails or is
// gone, following each operator's own rules.
func operatorApp(s SparkApplication) *OperatorApp {
	o := &OperatorApp{APIVersion: s.APIVersion, Name: s.Name, State: s.State}
	switch s.Operator() {
	case OperatorKubeflow:
		kubeflowNext(s, o)
	case OperatorApache:
		apacheNext(s, o)
	default:
		o.Why = "unknown operator " + s.APIVersion
	}
	if s.Deleting {
		o.Resubmits = false
		o.Why = "the SparkApplication is being deleted: its operator starts no new driver"
	}
	return o
}

// kubeflowNext follows kubeflow/spark-operator v2.5.2: the default policy is Never
// (api/v1beta2/defaults.go, SetSparkApplicationDefaults); a driver pod that failed or vanished
// makes the app FAILING (internal/controller/sparkapplication/controller.go, updateDriverState),
// and reconcileFailingSparkApplication reruns it only if util.ShouldRetry: Always, or OnFailure
// while executionAttempts <= onFailureRetries (pkg/util/sparkapplication.go); each submission
// counts one execution attempt (submitSparkApplication).
func kubeflowNext(s SparkApplication, o *OperatorApp) {
	o.RestartPolicy = s.RestartPolicy
	if o.RestartPolicy == "" {
		o.RestartPolicy = "Never"
	}
	state := s.State
	if state == "" {
		state = "new"
	}
	policy := func(retries *int64, attempts int64, what string) {
		switch o.RestartPolicy {
		case "Always":
			o.Resubmits = true
			o.Why = "restart policy Always: the operator resubmits the app after every driver failure"
		case "OnFailure":
			n := int64(0)
			if retries != nil {
				n = *retries
			}
			left := max(0, n+1-attempts)
			o.RetriesLeft, o.Resubmits = &left, left > 0
			o.Why = fmt.Sprintf("restart policy OnFailure, %s %d, %d attempts so far: %d %s left", what, n, attempts, left, plural(left, "retry", "retries"))
			if left == 0 {
				o.Why = fmt.Sprintf("restart policy OnFailure, retries exhausted (%s %d, %d attempts so far): the operator fails the app when this driver fails", what, n, attempts)
			}
		default:
			o.Why = fmt.Sprintf("restart policy %s: the operator starts no new driver when this one fails", o.RestartPolicy)
		}
	}
	switch state {
	case kfCompleted, kfFailed:
		o.Why = fmt.Sprintf("the SparkApplication is %s: its operator starts no new driver", state)
	case kfSuspending, kfSuspended:
		o.Why = fmt.Sprintf("the SparkApplication is %s: its operator starts no driver until it is resumed", state)
	case kfPendingRerun, kfInvalidating, kfResuming, "new":
		o.Resubmits = true
		o.Why = fmt.Sprintf("the SparkApplication is %s: its operator submits a new driver once the old driver pod is gone", state)
	case kfSucceeding:
		o.Resubmits = o.RestartPolicy == "Always"
		o.Why = fmt.Sprintf("the driver succeeded; restart policy %s", o.RestartPolicy)
	case kfSubmissionFailed:
		policy(s.OnSubmissionFailureRetries, s.SubmissionAttempts, "onSubmissionFailureRetries")
	default:
		policy(s.OnFailureRetries, s.ExecutionAttempts, "onFailureRetries")
	}
}

// apacheNext follows apache/spark-kubernetes-operator 1.0.0: the default restart config is
// Never with maxRestartAttempts 3 (spec/RestartConfig.java); a driver pod that failed or was
// removed makes the attempt Failed (BaseAppDriverObserver.observeDriverTermination,
// AppReconcileStep.observeDriver: driverUnexpectedRemoved); AppCleanUpStep then calls
// ApplicationStatus.terminateOrRestart, which restarts if RestartPolicy.attemptRestartOnState
// allows it for that state and the next restartCounter (failureRestartCounter, for a failure
// with maxRestartOnFailure set) stays within its maximum. restartCounterResetMillis, which
// resets the counters after a long attempt, is not read: the retries left are a lower bound.
func apacheNext(s SparkApplication, o *OperatorApp) {
	o.RestartPolicy = s.RestartPolicy
	if o.RestartPolicy == "" {
		o.RestartPolicy = "Never"
	}
	// Named first, so that each condition is a statement of its own (mutation testing).
	terminated := s.State == apResourceReleased || s.State == apTerminatedNoRelease
	requested := s.State == apScheduledToRestart || s.State == apSubmitted
	switch {
	case terminated:
		o.Why = fmt.Sprintf("the SparkApplication is %s: its operator starts no new driver", s.State)
		if s.EndedAs != "" {
			o.Why = fmt.Sprintf("the SparkApplication ended %s (%s): its operator starts no new driver", s.EndedAs, s.State)
		}
		return
	case requested:
		o.Resubmits = true
		o.Why = fmt.Sprintf("the SparkApplication is %s: its operator requests a new driver", s.State)
		return
	}
	end := apFailed // what a running attempt becomes when its driver fails or is removed
	if apacheStopping[s.State] {
		end = s.State
	}
	var restart bool
	switch o.RestartPolicy {
	case "Always":
		restart = true
	case "OnFailure":
		restart = apacheFailure[end]
	case "OnInfrastructureFailure":
		restart = apacheInfraFailure[end]
	}
	if !restart {
		o.Why = fmt.Sprintf("restart policy %s: the operator does not restart an attempt that ended %s", o.RestartPolicy, end)
		return
	}
	maxAttempts := int64(3)
	if s.MaxRestartAttempts != nil {
		maxAttempts = *s.MaxRestartAttempts
	}
	left := max(0, maxAttempts-s.RestartCounter)
	limit := fmt.Sprintf("maxRestartAttempts %d, restartCounter %d", maxAttempts, s.RestartCounter)
	if s.MaxRestartOnFailure != nil && apacheFailure[end] {
		if l := max(0, *s.MaxRestartOnFailure-s.FailureRestartCounter); l < left {
			left = l
			limit = fmt.Sprintf("maxRestartOnFailure %d, failureRestartCounter %d", *s.MaxRestartOnFailure, s.FailureRestartCounter)
		}
	}
	o.RetriesLeft, o.Resubmits = &left, left > 0
	o.Why = fmt.Sprintf("restart policy %s, %s: %d %s left", o.RestartPolicy, limit, left, plural(left, "restart", "restarts"))
	if left == 0 {
		o.Why = fmt.Sprintf("restart policy %s, restarts exhausted (%s): the operator releases the app when this attempt ends %s", o.RestartPolicy, limit, end)
	}
}

// operatorSucceeded says whether a SparkApplication reached its operator's terminal state of
// success.
func operatorSucceeded(s SparkApplication) bool {
	switch s.State {
	case kfCompleted:
		return s.Operator() == OperatorKubeflow
	case apResourceReleased, apTerminatedNoRelease:
		return s.Operator() == OperatorApache && s.EndedAs == apSucceeded
	}
	return false
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// migrateCommand is what to run for an operator app whose operator will not start another
// driver: move it to a sparkha Job.
func migrateCommand(namespace, name string) string {
	return fmt.Sprintf("kubectl sparkha migrate sparkapplication/%s -n %s --apply", name, namespace)
}

// operator finds the app's SparkApplication, of the operator its driver pods name (two
// operators may each have one of that name), and reads what its operator will do.
func (a *appBuild) operator(idx *index) {
	if a.sa == nil {
		op := ""
		for _, p := range a.pods {
			if op = sparkapp.OperatorOfPod(p); op != "" {
				break
			}
		}
		for _, sa := range idx.sparkApps[a.Namespace+"/"+a.Name] {
			if op == "" || sa.Operator() == op {
				a.sa = sa
				break
			}
		}
	}
	if a.sa != nil {
		a.SparkApplication = operatorApp(*a.sa)
		return
	}
	a.SparkApplication = &OperatorApp{Name: a.Name,
		Why: fmt.Sprintf("no SparkApplication %s found in %s (its operator's CRD is not installed, or the object is gone): no operator starts a new driver", a.Name, a.Namespace)}
	if a.saUnseen = len(idx.sparkAppsUnseen) > 0; a.saUnseen {
		a.SparkApplication.Why = fmt.Sprintf("SparkApplications could not be listed (%s): whether its operator starts a new driver is not known", strings.Join(idx.sparkAppsUnseen, ", "))
	}
}

// operatorBetween gives the verdict of an operator app with no live driver: its operator ended
// it, or starts the next driver, or will not. It reports false when the SparkApplication could
// not be read, for the generic rules.
func (a *appBuild) operatorBetween(ds []*driverState) bool {
	o := a.SparkApplication
	if a.saUnseen {
		return false
	}
	last := ""
	if len(ds) > 0 {
		d := ds[len(ds)-1]
		last = fmt.Sprintf("driver %s ended (%s); ", d.Pod, d.Status)
	}
	if a.sa != nil {
		if operatorSucceeded(*a.sa) {
			a.set(Finished, fmt.Sprintf("the SparkApplication completed (%s)", a.sa.State), "none")
			return true
		}
	}
	lastSucceeded := len(ds) > 0 && ds[len(ds)-1].Phase == string(corev1.PodSucceeded)
	switch {
	case o.Resubmits:
		a.set(Starting, last+fmt.Sprintf("SparkApplication %s: %s", a.Name, o.Why), fmt.Sprintf("kubectl sparkha inspect %s --watch", a.target()))
	case lastSucceeded:
		a.set(Finished, "the driver pod succeeded", "none")
	default:
		a.set(RetriesExhausted, last+o.Why, a.describeSparkApplication())
	}
	return true
}

// describeSparkApplication is the command that shows the app's SparkApplication and its events.
func (a *appBuild) describeSparkApplication() string {
	res := "sparkapplications"
	if a.sa != nil {
		res += "." + a.sa.Operator()
	}
	return fmt.Sprintf("kubectl describe %s %s -n %s", res, a.Name, a.Namespace)
}

// operatorNext replaces a next action that fences when the app's operator will not start a
// new driver afterwards: a fence would only stop the app, and failover refuses it (Decide).
// Moving the app to sparkha is what keeps it running.
func (a *appBuild) operatorNext() {
	if o := a.SparkApplication; o != nil && !o.Resubmits && strings.Contains(a.NextAction, "--node-down") {
		a.NextAction = fmt.Sprintf("its operator will not start a new driver after a fence (%s): once %s is powered off or cut from its storage and network (a network partition is not enough), relaunch it as a sparkha Job: kubectl sparkha failover %s -n %s --node-down --resubmit; if %s comes back first: %s",
			o.Why, a.LostNode, a.Name, a.Namespace, a.LostNode, migrateCommand(a.Namespace, a.Name))
	}
}
