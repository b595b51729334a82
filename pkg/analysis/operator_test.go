package analysis_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// operatorApp makes the stuck driver of s3-step4 (deleted on lost node-a) the driver of the
// SparkApplication sa of its operator, and analyses it.
func operatorApp(t *testing.T, sa *analysis.SparkApplication, unseen ...string) analysis.App {
	t.Helper()
	return app(t, "s3-step4-stuck-terminating", func(s *analysis.Snapshot) {
		p := &s.DriverPods[0]
		p.OwnerReferences, s.Jobs = nil, nil
		delete(p.Labels, sparkapp.LabelManagedBy)
		label := sparkapp.LabelOperatorApp
		if sa != nil && sa.Operator() == analysis.OperatorApache {
			label = sparkapp.LabelApacheOperatorApp
		}
		p.Labels[label] = "stream"
		if sa != nil {
			s.SparkApplications = []analysis.SparkApplication{*sa}
		}
		s.SparkApplicationsUnseen = unseen
	})
}

const migrate = "kubectl sparkha migrate sparkapplication/stream -n s3 --apply"

// TestDecideOperatorApps: failover --node-down fences for an operator app only when its operator
// starts the next driver, by its own rules; otherwise it refuses, saying why and naming migrate.
func TestDecideOperatorApps(t *testing.T) {
	kf := func(policy, state string, retries *int64, attempts int64) *analysis.SparkApplication {
		return &analysis.SparkApplication{APIVersion: "sparkoperator.k8s.io/v1beta2", Namespace: "s3", Name: "stream",
			RestartPolicy: policy, State: state, OnFailureRetries: retries, ExecutionAttempts: attempts, SubmissionAttempts: attempts}
	}
	ap := func(policy, state string, maxRestarts *int64, restarts int64) *analysis.SparkApplication {
		return &analysis.SparkApplication{APIVersion: "spark.apache.org/v1", Namespace: "s3", Name: "stream",
			RestartPolicy: policy, State: state, MaxRestartAttempts: maxRestarts, RestartCounter: restarts, AttemptID: restarts}
	}
	refused := func(why string) string {
		return "refusing to fail over s3/stream: its operator will not start a new driver after the fence (" + why +
			"), so a fence would only stop the app. Add --resubmit to relaunch it as a sparkha Job once the old driver is gone (the SparkApplication is deleted, its spec kept on the Job): " +
			"kubectl sparkha failover stream -n s3 --node-down --resubmit; or, if node-a comes back first: " + migrate
	}
	tests := []struct {
		name     string
		sa       *analysis.SparkApplication
		unseen   []string
		left     *int64
		fenceWhy string // the end of the fence step's why
		message  string // the refusal, exactly
	}{
		{name: "kubeflow OnFailure, 3 retries, first attempt", sa: kf("OnFailure", "RUNNING", ptr.To[int64](3), 1), left: ptr.To[int64](3),
			fenceWhy: "; then its Spark operator starts the next driver: restart policy OnFailure, onFailureRetries 3, 1 attempts so far: 3 retries left"},
		{name: "kubeflow OnFailure, last retry", sa: kf("OnFailure", "RUNNING", ptr.To[int64](2), 3), left: ptr.To[int64](0),
			message: refused("restart policy OnFailure, retries exhausted (onFailureRetries 2, 3 attempts so far): the operator fails the app when this driver fails")},
		{name: "kubeflow OnFailure, one retry left", sa: kf("OnFailure", "SUBMITTED", ptr.To[int64](2), 2), left: ptr.To[int64](1),
			fenceWhy: "restart policy OnFailure, onFailureRetries 2, 2 attempts so far: 1 retry left"},
		{name: "kubeflow OnFailure without onFailureRetries never retries", sa: kf("OnFailure", "RUNNING", nil, 1), left: ptr.To[int64](0),
			message: refused("restart policy OnFailure, retries exhausted (onFailureRetries 0, 1 attempts so far): the operator fails the app when this driver fails")},
		{name: "kubeflow Always", sa: kf("Always", "RUNNING", nil, 7),
			fenceWhy: "restart policy Always: the operator resubmits the app after every driver failure"},
		{name: "kubeflow Never", sa: kf("Never", "RUNNING", nil, 1),
			message: refused("restart policy Never: the operator starts no new driver when this one fails")},
		{name: "kubeflow default policy is Never", sa: kf("", "RUNNING", nil, 1),
			message: refused("restart policy Never: the operator starts no new driver when this one fails")},
		{name: "kubeflow already failing with a retry left", sa: kf("OnFailure", "FAILING", ptr.To[int64](1), 1), left: ptr.To[int64](1),
			fenceWhy: "restart policy OnFailure, onFailureRetries 1, 1 attempts so far: 1 retry left"},
		{name: "kubeflow pending rerun, whatever the retries", sa: kf("OnFailure", "PENDING_RERUN", ptr.To[int64](1), 2),
			fenceWhy: "the SparkApplication is PENDING_RERUN: its operator submits a new driver once the old driver pod is gone"},
		{name: "kubeflow app failed", sa: kf("Always", "FAILED", nil, 1),
			message: refused("the SparkApplication is FAILED: its operator starts no new driver")},
		{name: "kubeflow app suspended", sa: kf("Always", "SUSPENDED", nil, 1),
			message: refused("the SparkApplication is SUSPENDED: its operator starts no driver until it is resumed")},
		{name: "apache OnFailure, default 3 restarts", sa: ap("OnFailure", "RunningHealthy", nil, 0), left: ptr.To[int64](3),
			fenceWhy: "restart policy OnFailure, maxRestartAttempts 3, restartCounter 0: 3 restarts left"},
		{name: "apache Always, last restart", sa: ap("Always", "DriverReady", ptr.To[int64](2), 1), left: ptr.To[int64](1),
			fenceWhy: "restart policy Always, maxRestartAttempts 2, restartCounter 1: 1 restart left"},
		{name: "apache restarts exhausted", sa: ap("Always", "RunningHealthy", ptr.To[int64](2), 2), left: ptr.To[int64](0),
			message: refused("restart policy Always, restarts exhausted (maxRestartAttempts 2, restartCounter 2): the operator releases the app when this attempt ends Failed")},
		{name: "apache OnInfrastructureFailure does not restart a failed driver", sa: ap("OnInfrastructureFailure", "RunningHealthy", nil, 0),
			message: refused("restart policy OnInfrastructureFailure: the operator does not restart an attempt that ended Failed")},
		{name: "apache default policy is Never", sa: ap("", "RunningHealthy", nil, 0),
			message: refused("restart policy Never: the operator does not restart an attempt that ended Failed")},
		{name: "apache maxRestartOnFailure is the tighter limit", left: ptr.To[int64](0),
			sa: func() *analysis.SparkApplication {
				s := ap("OnFailure", "RunningHealthy", ptr.To[int64](5), 1)
				s.MaxRestartOnFailure, s.FailureRestartCounter = ptr.To[int64](1), 1
				return s
			}(),
			message: refused("restart policy OnFailure, restarts exhausted (maxRestartOnFailure 1, failureRestartCounter 1): the operator releases the app when this attempt ends Failed")},
		{name: "apache scheduled to restart", sa: ap("Never", "ScheduledToRestart", nil, 1),
			fenceWhy: "the SparkApplication is ScheduledToRestart: its operator requests a new driver"},
		{name: "no SparkApplication found",
			message: refused("no SparkApplication stream found in s3 (its operator's CRD is not installed, or the object is gone): no operator starts a new driver")},
		{name: "SparkApplications not visible", unseen: []string{"sparkapplications.sparkoperator.k8s.io: Forbidden"},
			message: refused("SparkApplications could not be listed (sparkapplications.sparkoperator.k8s.io: Forbidden): whether its operator starts a new driver is not known")},
		{name: "a SparkApplication being deleted", sa: func() *analysis.SparkApplication {
			s := kf("Always", "RUNNING", nil, 1)
			s.Deleting = true
			return s
		}(), message: refused("the SparkApplication is being deleted: its operator starts no new driver")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := operatorApp(t, tt.sa, tt.unseen...)
			if a.Kind != sparkapp.KindSparkApplication || a.Verdict != analysis.StuckTerminating || a.SparkApplication == nil {
				t.Fatalf("app: %s %s %+v", a.Kind, a.Verdict, a.SparkApplication)
			}
			if got := a.SparkApplication.RetriesLeft; (got == nil) != (tt.left == nil) || (got != nil && *got != *tt.left) {
				t.Errorf("retries left: %v, want %v", ptr.Deref(got, -1), ptr.Deref(tt.left, -1))
			}
			p := analysis.Decide(a, analysis.Operator{NodeDown: true})
			if tt.message != "" {
				if p.Outcome != analysis.Refuse || p.Message != tt.message || len(p.Steps) != 0 {
					t.Fatalf("want the refusal\n  %s\ngot %s: %s %v", tt.message, p.Outcome, p.Message, p.Steps)
				}
				if a.NextAction != "its operator will not start a new driver after a fence ("+a.SparkApplication.Why+"): once node-a is powered off or cut from its storage and network (a network partition is not enough), "+
					"relaunch it as a sparkha Job: kubectl sparkha failover stream -n s3 --node-down --resubmit; if node-a comes back first: "+migrate {
					t.Errorf("next action: %s", a.NextAction)
				}
				// With --resubmit, the fence, then kubectl sparkha relaunches it once the old driver is
				// gone; not when its SparkApplication was not read: nothing to relaunch it from.
				withResubmit := analysis.Decide(a, analysis.Operator{NodeDown: true, Resubmit: true})
				if a.SparkApplication.APIVersion == "" {
					if withResubmit.Outcome != analysis.Refuse || withResubmit.Message != tt.message {
						t.Errorf("with --resubmit and no SparkApplication read: %s %s", withResubmit.Outcome, withResubmit.Message)
					}
				} else if p := withResubmit; p.Outcome != analysis.Act || len(p.Steps) == 0 || p.Steps[0].Action != analysis.FenceNode ||
					!strings.HasSuffix(p.Steps[0].Why, "; then kubectl sparkha relaunches it as a Job (its operator will not: "+a.SparkApplication.Why+")") ||
					!reflect.DeepEqual(p.Waits, []string{analysis.WaitOldGone}) {
					t.Errorf("with --resubmit: %s %+v waits %v", p.Outcome, p.Steps, p.Waits)
				}
				// Without --node-down, the same refusal: no rerun would help.
				if p := analysis.Decide(a, analysis.Operator{}); p.Message != tt.message {
					t.Errorf("without --node-down: %s", p.Message)
				}
				return
			}
			if p.Outcome != analysis.Act || !slices.Equal(actions(p.Steps), []analysis.Action{analysis.FenceNode, analysis.CollectOldDriver}) ||
				!strings.HasSuffix(p.Steps[0].Why, tt.fenceWhy) {
				t.Fatalf("want a fence whose why ends %q, got %s: %s %+v", tt.fenceWhy, p.Outcome, p.Message, p.Steps)
			}
			if !strings.HasSuffix(a.NextAction, "kubectl sparkha failover stream -n s3 --node-down") {
				t.Errorf("next action: %s", a.NextAction)
			}
			// Without --node-down: the usual refusal, which names --node-down.
			if p := analysis.Decide(a, analysis.Operator{}); p.Outcome != analysis.Refuse || !strings.Contains(p.Message, "It becomes safe when node-a rejoins") {
				t.Errorf("without --node-down: %s %s", p.Outcome, p.Message)
			}
		})
	}
}

func actions(steps []analysis.Step) []analysis.Action {
	var out []analysis.Action
	for _, s := range steps {
		out = append(out, s.Action)
	}
	return out
}

// TestOperatorAppBetweenDrivers: a SparkApplication with no live driver pod is an app too; its
// verdict follows its operator's state.
func TestOperatorAppBetweenDrivers(t *testing.T) {
	tests := []struct {
		name    string
		sa      analysis.SparkApplication
		verdict analysis.Verdict
		reason  string
		next    string
	}{
		{"kubeflow pending rerun", analysis.SparkApplication{APIVersion: "sparkoperator.k8s.io/v1beta2", State: "PENDING_RERUN", RestartPolicy: "Always"},
			analysis.Starting, "SparkApplication pi: the SparkApplication is PENDING_RERUN: its operator submits a new driver once the old driver pod is gone",
			"kubectl sparkha inspect pi -n ops --watch"},
		{"kubeflow completed", analysis.SparkApplication{APIVersion: "sparkoperator.k8s.io/v1beta2", State: "COMPLETED"},
			analysis.Finished, "the SparkApplication completed (COMPLETED)", "none"},
		{"kubeflow failed", analysis.SparkApplication{APIVersion: "sparkoperator.k8s.io/v1beta2", State: "FAILED", RestartPolicy: "OnFailure"},
			analysis.RetriesExhausted, "the SparkApplication is FAILED: its operator starts no new driver",
			"kubectl describe sparkapplications.sparkoperator.k8s.io pi -n ops"},
		{"apache released after success", analysis.SparkApplication{APIVersion: "spark.apache.org/v1", State: "ResourceReleased", EndedAs: "Succeeded"},
			analysis.Finished, "the SparkApplication completed (ResourceReleased)", "none"},
		{"apache released after failure", analysis.SparkApplication{APIVersion: "spark.apache.org/v1", State: "ResourceReleased", EndedAs: "Failed"},
			analysis.RetriesExhausted, "the SparkApplication ended Failed (ResourceReleased): its operator starts no new driver",
			"kubectl describe sparkapplications.spark.apache.org pi -n ops"},
		{"apache scheduled to restart", analysis.SparkApplication{APIVersion: "spark.apache.org/v1", State: "ScheduledToRestart", RestartPolicy: "Always"},
			analysis.Starting, "SparkApplication pi: the SparkApplication is ScheduledToRestart: its operator requests a new driver",
			"kubectl sparkha inspect pi -n ops --watch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.sa.Namespace, tt.sa.Name = "ops", "pi"
			r := analysis.Analyze(&analysis.Snapshot{SparkApplications: []analysis.SparkApplication{tt.sa}}, time.Date(2026, 11, 25, 14, 30, 0, 0, time.UTC))
			if len(r.Apps) != 1 {
				t.Fatalf("apps: %+v", r.Apps)
			}
			a := r.Apps[0]
			if a.Kind != sparkapp.KindSparkApplication || a.Verdict != tt.verdict || a.Reason != tt.reason || a.NextAction != tt.next {
				t.Fatalf("got %s %s: %q, next %q", a.Kind, a.Verdict, a.Reason, a.NextAction)
			}
		})
	}
}

// TestOperatorAppOfTheDriversOperator: when both operators have an app of the same name, the
// app's SparkApplication is the one of the operator its driver pods name.
func TestOperatorAppOfTheDriversOperator(t *testing.T) {
	kubeflow := analysis.SparkApplication{APIVersion: "sparkoperator.k8s.io/v1beta2", Namespace: "s3", Name: "stream", RestartPolicy: "Never", State: "RUNNING"}
	apache := analysis.SparkApplication{APIVersion: "spark.apache.org/v1", Namespace: "s3", Name: "stream", RestartPolicy: "Always", State: "RunningHealthy",
		MaxRestartAttempts: ptr.To[int64](3)}
	for _, order := range [][]analysis.SparkApplication{{kubeflow, apache}, {apache, kubeflow}} {
		a := app(t, "s3-step4-stuck-terminating", func(s *analysis.Snapshot) {
			p := &s.DriverPods[0]
			p.OwnerReferences, s.Jobs = nil, nil
			delete(p.Labels, sparkapp.LabelManagedBy)
			p.Labels[sparkapp.LabelApacheOperatorApp] = "stream"
			s.SparkApplications = order
		})
		if a.SparkApplication == nil || a.SparkApplication.APIVersion != "spark.apache.org/v1" {
			t.Errorf("listed %s first: the app's SparkApplication is %+v, want Apache's", order[0].APIVersion, a.SparkApplication)
		}
	}
}

// TestResubmitRetriesExhaustedOperatorApp: an operator app whose last driver is gone (a fence
// for another app let the pod garbage collector take it first) and whose operator starts no
// other is relaunched by --resubmit, with nothing fenced; without it, the refusal names it; a
// Job that spent its retries is still refused whatever the flags.
func TestResubmitRetriesExhaustedOperatorApp(t *testing.T) {
	sa := analysis.SparkApplication{APIVersion: "sparkoperator.k8s.io/v1beta2", Namespace: "ops", Name: "batch", State: "FAILED", RestartPolicy: "Never"}
	r := analysis.Analyze(&analysis.Snapshot{SparkApplications: []analysis.SparkApplication{sa}}, time.Date(2026, 11, 25, 14, 30, 0, 0, time.UTC))
	a := r.Apps[0]
	if a.Verdict != analysis.RetriesExhausted {
		t.Fatalf("verdict %s: %s", a.Verdict, a.Reason)
	}
	p := analysis.Decide(a, analysis.Operator{Resubmit: true})
	if p.Outcome != analysis.Act || len(p.Steps) != 0 || !slices.Equal(p.Waits, []string{analysis.WaitOldGone}) ||
		!strings.Contains(p.Message, "nothing is fenced") {
		t.Errorf("--resubmit: %s %q steps %v waits %v", p.Outcome, p.Message, p.Steps, p.Waits)
	}
	if p := analysis.Decide(a, analysis.Operator{NodeDown: true, Resubmit: true}); p.Outcome != analysis.Act || len(p.Steps) != 0 {
		t.Errorf("--node-down --resubmit: %s %v: a gone driver's node is not fenced", p.Outcome, p.Steps)
	}
	if p := analysis.Decide(a, analysis.Operator{}); p.Outcome != analysis.Refuse || !strings.HasSuffix(p.Message, "kubectl sparkha failover batch -n ops --resubmit") {
		t.Errorf("without --resubmit: %s %q", p.Outcome, p.Message)
	}
	job := app(t, "s1-step7-recovered", func(s *analysis.Snapshot) {
		s.Jobs[0].Status.Conditions = append(s.Jobs[0].Status.Conditions, batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded"})
	})
	if job.Verdict != analysis.RetriesExhausted {
		t.Fatalf("fixture verdict %s", job.Verdict)
	}
	if p := analysis.Decide(job, analysis.Operator{NodeDown: true, Resubmit: true}); p.Outcome != analysis.Refuse || !strings.Contains(p.Message, "Find the cause") {
		t.Errorf("a Job that spent its retries: %s %q", p.Outcome, p.Message)
	}
}

// TestOperatorNextByState: what each operator does after the current driver, state by state,
// as the report says it (Resubmits and Why), for the states no failover case above reaches.
func TestOperatorNextByState(t *testing.T) {
	kf := func(policy, state string) *analysis.SparkApplication {
		return &analysis.SparkApplication{APIVersion: "sparkoperator.k8s.io/v1beta2", Namespace: "s3", Name: "stream", RestartPolicy: policy, State: state}
	}
	ap := func(state, endedAs string) *analysis.SparkApplication {
		return &analysis.SparkApplication{APIVersion: "spark.apache.org/v1", Namespace: "s3", Name: "stream", RestartPolicy: "Always", State: state, EndedAs: endedAs}
	}
	for _, tt := range []struct {
		name      string
		sa        *analysis.SparkApplication
		resubmits bool
		why       string
	}{
		{"kubeflow succeeding, Always", kf("Always", "SUCCEEDING"), true, "the driver succeeded; restart policy Always"},
		{"kubeflow succeeding, Never", kf("Never", "SUCCEEDING"), false, "the driver succeeded; restart policy Never"},
		{"kubeflow succeeding, no policy", kf("", "SUCCEEDING"), false, "the driver succeeded; restart policy Never"},
		{"kubeflow completed", kf("Always", "COMPLETED"), false, "the SparkApplication is COMPLETED: its operator starts no new driver"},
		{"kubeflow suspended", kf("OnFailure", "SUSPENDED"), false, "the SparkApplication is SUSPENDED: its operator starts no driver until it is resumed"},
		{"kubeflow pending rerun", kf("Never", "PENDING_RERUN"), true, "the SparkApplication is PENDING_RERUN: its operator submits a new driver once the old driver pod is gone"},
		{"kubeflow no state yet", kf("Never", ""), true, "the SparkApplication is new: its operator submits a new driver once the old driver pod is gone"},
		{"apache released", ap("ResourceReleased", ""), false, "the SparkApplication is ResourceReleased: its operator starts no new driver"},
		{"apache released after failing", ap("ResourceReleased", "Failed"), false, "the SparkApplication ended Failed (ResourceReleased): its operator starts no new driver"},
		{"apache terminated", ap("TerminatedWithoutReleaseResources", "Succeeded"), false, "the SparkApplication ended Succeeded (TerminatedWithoutReleaseResources): its operator starts no new driver"},
		{"apache scheduled to restart", ap("ScheduledToRestart", ""), true, "the SparkApplication is ScheduledToRestart: its operator requests a new driver"},
		{"apache submitted", ap("Submitted", ""), true, "the SparkApplication is Submitted: its operator requests a new driver"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := operatorApp(t, tt.sa).SparkApplication
			if o == nil || o.Resubmits != tt.resubmits || o.Why != tt.why {
				t.Errorf("got %+v, want resubmits %t, why %q", o, tt.resubmits, tt.why)
			}
		})
	}
	// Being deleted, whatever the state: its operator starts nothing.
	sa := kf("Always", "PENDING_RERUN")
	sa.Deleting = true
	if o := operatorApp(t, sa).SparkApplication; o == nil || o.Resubmits || o.Why != "the SparkApplication is being deleted: its operator starts no new driver" {
		t.Errorf("deleting: %+v", o)
	}
}

// TestApacheRestartLimits: with both of Apache's limits, the smaller one decides and is named;
// at a tie, maxRestartAttempts, the general one, is named.
func TestApacheRestartLimits(t *testing.T) {
	for _, tt := range []struct {
		name                    string
		onFailure, failureCount int64
		want                    string
	}{
		{"failure limit smaller", 2, 1, "restart policy Always, maxRestartOnFailure 2, failureRestartCounter 1: 1 restart left"},
		{"tie", 3, 1, "restart policy Always, maxRestartAttempts 3, restartCounter 1: 2 restarts left"},
		{"general limit smaller", 5, 1, "restart policy Always, maxRestartAttempts 3, restartCounter 1: 2 restarts left"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sa := &analysis.SparkApplication{APIVersion: "spark.apache.org/v1", Namespace: "s3", Name: "stream", RestartPolicy: "Always",
				State: "RunningHealthy", MaxRestartAttempts: ptr.To[int64](3), RestartCounter: 1,
				MaxRestartOnFailure: ptr.To(tt.onFailure), FailureRestartCounter: tt.failureCount}
			if o := operatorApp(t, sa).SparkApplication; o == nil || o.Why != tt.want {
				t.Errorf("got %+v, want %q", o, tt.want)
			}
		})
	}
}

// TestOperatorAppAfterItsDriverEnded: an operator app whose last driver ended: its operator starts
// the next (Starting), or the driver succeeded (Finished), or nothing will (RetriesExhausted);
// the reason names the driver that ended.
func TestOperatorAppAfterItsDriverEnded(t *testing.T) {
	for _, tt := range []struct {
		name    string
		phase   corev1.PodPhase
		sa      *analysis.SparkApplication
		verdict analysis.Verdict
		reason  string
	}{
		{"operator resubmits", corev1.PodFailed,
			&analysis.SparkApplication{APIVersion: "sparkoperator.k8s.io/v1beta2", Namespace: "s3", Name: "stream", RestartPolicy: "Always", State: "FAILING"},
			analysis.Starting, "driver stream-p48hf ended (Error); SparkApplication stream: restart policy Always: the operator resubmits the app after every driver failure"},
		{"driver succeeded, no restart", corev1.PodSucceeded,
			&analysis.SparkApplication{APIVersion: "sparkoperator.k8s.io/v1beta2", Namespace: "s3", Name: "stream", RestartPolicy: "Never", State: "SUCCEEDING"},
			analysis.Finished, "the driver pod succeeded"},
		{"nothing restarts it", corev1.PodFailed,
			&analysis.SparkApplication{APIVersion: "sparkoperator.k8s.io/v1beta2", Namespace: "s3", Name: "stream", RestartPolicy: "Never", State: "FAILED"},
			analysis.RetriesExhausted, "driver stream-p48hf ended (Error); the SparkApplication is FAILED: its operator starts no new driver"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := app(t, "s3-step4-stuck-terminating", func(s *analysis.Snapshot) {
				s.DriverPods = s.DriverPods[:1] // its one driver, which ended
				p := &s.DriverPods[0]
				p.OwnerReferences, s.Jobs = nil, nil
				delete(p.Labels, sparkapp.LabelManagedBy)
				p.Labels[sparkapp.LabelOperatorApp] = "stream"
				p.DeletionTimestamp, p.DeletionGracePeriodSeconds = nil, nil
				p.Spec.NodeName = "node-b"
				p.Status.Phase = tt.phase
				for i := range p.Status.ContainerStatuses {
					p.Status.ContainerStatuses[i].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1}}
				}
				s.SparkApplications = []analysis.SparkApplication{*tt.sa}
			})
			if a.Verdict != tt.verdict || a.Reason != tt.reason {
				t.Errorf("got %s: %q, want %s: %q", a.Verdict, a.Reason, tt.verdict, tt.reason)
			}
		})
	}
}
