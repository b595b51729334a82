package analysis

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The node remediation kinds of medik8s's operators that inspect lists (pkg/inspect, with the
// dynamic client: the analysis imports no operator types).
const (
	// KindFenceAgentsRemediation (fence-agents-remediation.medik8s.io/v1alpha1) runs a fence
	// agent against the machine's power controller.
	KindFenceAgentsRemediation = "FenceAgentsRemediation"
	// KindSelfNodeRemediation (self-node-remediation.medik8s.io/v1alpha1): the node reboots
	// itself through its watchdog once it cannot reach the API server or its peers.
	KindSelfNodeRemediation = "SelfNodeRemediation"
)

// Remediation is one medik8s remediation object, reduced to what says whether its node's
// machine was fenced: plain data, as listed.
type Remediation struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Node is the node remediated: the remediation.medik8s.io/node-name annotation, else the
	// object's name (both operators' GetNodeName).
	Node     string    `json:"node"`
	Created  time.Time `json:"created"`
	Deleting bool      `json:"deleting,omitempty"`
	// Strategy is spec.remediationStrategy (ResourceDeletion, OutOfServiceTaint, Automatic).
	Strategy string `json:"remediationStrategy,omitempty"`
	// Conditions are status.conditions: Processing, Succeeded, and for a
	// FenceAgentsRemediation FenceAgentActionSucceeded.
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Phase and TimeAssumedRebooted are a SelfNodeRemediation's status.phase and
	// status.timeAssumedRebooted.
	Phase               string     `json:"phase,omitempty"`
	TimeAssumedRebooted *time.Time `json:"timeAssumedRebooted,omitempty"`
}

// RemediationState is what one remediation of a node says of its machine.
type RemediationState struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// State is what its status says, in words.
	State string `json:"state"`
	// Fenced: its status says the machine was fenced (powered off or rebooted), at At.
	Fenced bool       `json:"fenced,omitempty"`
	At     *time.Time `json:"at,omitempty"`
}

// The status vocabulary of the operators this reads, from their sources:
// fence-agents-remediation pkg/utils/conditions.go (FenceAgentActionSucceededType,
// UpdateConditions) and self-node-remediation internal/controller/selfnoderemediation_controller.go
// (the remediationPhase constants; handlePreRebootCompletedPhase/waitForNodeRebooted).
const (
	condProcessing          = "Processing"
	condSucceeded           = "Succeeded"
	condFenceAgentSucceeded = "FenceAgentActionSucceeded"
	snrPreRebootCompleted   = "Pre-Reboot-Completed"
	snrRebootCompleted      = "Reboot-Completed"
	snrFencingCompleted     = "Fencing-Completed"
)

// remediationState reads a remediation's status at now.
func remediationState(r Remediation, now time.Time) RemediationState {
	s := RemediationState{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
	cond := func(t string) *metav1.Condition {
		i := slices.IndexFunc(r.Conditions, func(c metav1.Condition) bool { return c.Type == t })
		if i < 0 {
			return nil
		}
		return &r.Conditions[i]
	}
	stopped := func(what string) string {
		c := cond(condSucceeded)
		if c == nil || c.Status != metav1.ConditionFalse {
			return ""
		}
		return fmt.Sprintf("stopped without %s: %s", what, strings.TrimSuffix(orNoReason(c.Reason)+" ("+c.Message+")", " ()"))
	}
	switch r.Kind {
	case KindFenceAgentsRemediation:
		// The fence agent's action is reboot or off (fenceagentsremediation_params.go,
		// validateFenceAction): either way what ran on the machine before it has stopped.
		// Named first, so that each condition is a statement of its own (mutation testing).
		fa := cond(condFenceAgentSucceeded)
		fenced := fa != nil && fa.Status == metav1.ConditionTrue
		failed := fa != nil && fa.Status == metav1.ConditionFalse
		stoppedWhy := stopped("fencing")
		hasStopped := stoppedWhy != ""
		switch {
		case fenced:
			s.Fenced, s.At = true, timeOf(fa.LastTransitionTime)
			s.State = fmt.Sprintf("the fence agent powered the machine off or rebooted it at %s (%s=True)", clockOrUnknown(s.At), condFenceAgentSucceeded)
		case failed:
			s.State = fmt.Sprintf("the fence agent did not fence the machine: %s", strings.TrimSuffix(orNoReason(fa.Reason)+" ("+fa.Message+")", " ()"))
		case hasStopped:
			s.State = stoppedWhy
		case isTrue(cond(condProcessing)):
			s.State = fmt.Sprintf("in progress since %s: the fence agent has not succeeded yet", clockOrUnknown(timeOf(cond(condProcessing).LastTransitionTime)))
		default:
			s.State = "no status yet: the operator has not started it"
		}
	case KindSelfNodeRemediation:
		// The manager assumes the node rebooted (its watchdog fires once it cannot reach the API
		// server or its peers) when timeAssumedRebooted passes, then moves the phase on.
		passed := r.TimeAssumedRebooted != nil && !now.Before(*r.TimeAssumedRebooted)
		rebooted := r.Phase == snrRebootCompleted || r.Phase == snrFencingCompleted || (r.Phase == snrPreRebootCompleted && passed)
		stoppedWhy := stopped("a reboot")
		hasStopped := stoppedWhy != ""
		rebootTimeSet := r.TimeAssumedRebooted != nil
		switch {
		case rebooted:
			s.Fenced, s.At = true, r.TimeAssumedRebooted
			s.State = fmt.Sprintf("the node is assumed rebooted since %s (phase %s)", clockOrUnknown(s.At), r.Phase)
		case hasStopped:
			s.State = stoppedWhy
		case rebootTimeSet:
			s.State = fmt.Sprintf("in progress (phase %s): the node is assumed rebooted only from %s", orNoPhase(r.Phase), clock(*r.TimeAssumedRebooted))
		default:
			s.State = fmt.Sprintf("in progress (phase %s): no reboot time set yet", orNoPhase(r.Phase))
		}
	}
	if r.Deleting {
		s.State += "; being deleted"
	}
	return s
}

func isTrue(c *metav1.Condition) bool { return c != nil && c.Status == metav1.ConditionTrue }

func timeOf(t metav1.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t.Time
}

func clockOrUnknown(t *time.Time) string {
	if t == nil {
		return "an unrecorded time"
	}
	return clock(*t)
}

func orNoPhase(p string) string {
	if p == "" {
		return "none yet"
	}
	return p
}
