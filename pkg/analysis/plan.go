package analysis

// Decide turns the verdict of an app into a failover plan, or a refusal naming what would make
// acting safe. It is pure, like Analyze: pkg/failover carries a plan out against the API
// server, deciding again from fresh evidence before every step.

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// Outcome of a decision.
type Outcome string

const (
	// Act: the plan's steps are safe to run now.
	Act Outcome = "act"
	// NothingToDo: the app needs no failover (rerunning after success ends here).
	NothingToDo Outcome = "nothing-to-do"
	// Refuse: acting now could run two drivers, or could not help.
	Refuse Outcome = "refuse"
)

// Action is one kind of change failover makes.
type Action string

const (
	// FenceNode taints the node node.kubernetes.io/out-of-service: Kubernetes
	// then force-deletes its pods and detaches its volumes (non-graceful
	// node shutdown). Only on the operator's word that the node is down.
	FenceNode Action = "fence-node"
	// FinishOldDriver marks a deleted driver pod whose containers its kubelet
	// reported stopped as Failed, then deletes it with grace period 0, as
	// PodGC does for orphaned pods.
	FinishOldDriver Action = "finish-old-driver"
	// CollectOldDriver does, for the old driver on a node fenced (by failover or anyone else), what
	// the pod garbage collector's next pass would (kube-controller-manager's podgc,
	// gcTerminating, every 20 s): a terminating pod on a node that is not Ready and carries the
	// out-of-service taint is marked Failed and deleted with grace period 0. Doing it at once
	// saves up to those 20 s; what decides it is the same fence.
	CollectOldDriver Action = "collect-old-driver"
	// CollectExecutor does for an executor on a fenced node what CollectOldDriver does for the
	// old driver: once evicted, marked Failed and deleted with grace period 0, so that its
	// driver sees it gone and asks for another.
	CollectExecutor Action = "collect-executor"
	// ReleaseNode removes the out-of-service taint from a repaired node that is Ready again.
	ReleaseNode Action = "release-node"
)

// OutOfServiceValue is the taint value Kubernetes documents for non-graceful shutdown.
const OutOfServiceValue = "nodeshutdown"

// Step is one change.
type Step struct {
	Action Action `json:"action"`
	Node   string `json:"node,omitempty"`
	Pod    string `json:"pod,omitempty"`
	PodUID string `json:"podUID,omitempty"`
	Why    string `json:"why"`
}

// Plan is what failover will do for one app, and why.
type Plan struct {
	Namespace string  `json:"namespace"`
	App       string  `json:"app"`
	Verdict   Verdict `json:"verdict"`
	Outcome   Outcome `json:"outcome"`
	// Message explains a refusal or why there is nothing to do.
	Message string `json:"message,omitempty"`
	Steps   []Step `json:"steps,omitempty"`
	// Waits are the phases waited for after the steps, in order.
	Waits []string `json:"waits,omitempty"`
	// BlastRadius lists the other pods on a node to be fenced: all of them
	// are force-deleted and their volumes detached.
	BlastRadius []string `json:"blastRadius,omitempty"`
	// NodeEvidence is what the cluster says of the lost node's machine.
	NodeEvidence *NodeEvidence `json:"nodeEvidence,omitempty"`
}

// Operator is what the operator said on the command line.
type Operator struct {
	// NodeDown confirms that the old driver's machine is powered off, or cut from its storage
	// and network (failover --node-down).
	NodeDown bool
	// IgnoreNodeEvidence fences even against evidence that the machine runs
	// (failover --ignore-node-evidence); the plan and the audit say so.
	IgnoreNodeEvidence bool
	// Resubmit relaunches a bare spark-submit driver, or an operator app whose operator will not
	// start a new driver, as a sparkha Job once the old one is gone
	// (failover --resubmit): the new driver is the caller's to start.
	Resubmit bool
}

// Decide plans the failover of app on the operator's word.
func Decide(app App, op Operator) Plan {
	nodeDown := op.NodeDown
	p := Plan{Namespace: app.Namespace, App: app.Name, Verdict: app.Verdict, NodeEvidence: app.LostNodeEvidence}
	self := fmt.Sprintf("kubectl sparkha failover %s -n %s", app.Name, app.Namespace)
	switch app.Verdict {
	case Healthy, Finished, Starting:
		p.Outcome = NothingToDo
		p.Message = fmt.Sprintf("nothing to fail over: %s (%s)", app.Reason, app.Verdict)
		return p
	case RetriesExhausted:
		sa := app.SparkApplication
		relaunchable := app.Kind == sparkapp.KindSparkApplication && sa != nil && sa.APIVersion != "" && !sa.Resubmits &&
			!slices.ContainsFunc(app.Drivers, func(d Driver) bool { return !d.Ended })
		if relaunchable && op.Resubmit {
			// Its last driver is gone (a fence for another app may have collected it first)
			// and its operator starts no other: relaunched as a Job from its SparkApplication,
			// as migrate would. No driver of it may run, so nothing is fenced.
			p.Outcome = Act
			p.Message = fmt.Sprintf("%s; with --resubmit kubectl sparkha relaunches it as a Job, and no driver of it may still run, so nothing is fenced", app.Reason)
			p.Waits = []string{WaitOldGone}
			return p
		}
		p.Outcome = Refuse
		p.Message = fmt.Sprintf("refusing: %s; a failover cannot start a new driver. Find the cause, then resubmit with kubectl sparkha submit", app.Reason)
		if relaunchable {
			p.Message = fmt.Sprintf("refusing: %s; a failover cannot start a new driver. If its last driver was lost with its node, relaunch it as a sparkha Job: %s --resubmit", app.Reason, self)
		}
		return p
	case ExecutorsOnLostNode:
		return decideExecutors(app, op, p, self)
	case SafeToComplete:
		p.Outcome = Act
		for _, d := range app.Drivers {
			switch {
			case d.Deleted != nil && d.ContainersStopped && !d.Ended && d.NodeReady == "True":
				p.Steps = append(p.Steps, Step{Action: FinishOldDriver, Node: d.Node, Pod: d.Pod, PodUID: d.UID,
					Why: fmt.Sprintf("node %s rejoined and its kubelet reported the containers of %s stopped, but the pod was never marked Failed", d.Node, d.Pod)})
			case nodeDown && d.NodeFenced && !d.Ended && d.NodeReady != "True":
				p.Steps = append(p.Steps, collect(d))
			}
		}
		p.Waits = waits(app)
		return p
	}
	if v := strandedVolume(app.Drivers); v != nil && app.Verdict == ReplacementBlocked {
		// Fencing would stop the old driver for a new one that cannot start anywhere.
		p.Outcome = Refuse
		p.Message = fmt.Sprintf("refusing to fail over %s/%s: %s. A fence would only stop the old driver; next: %s",
			app.Namespace, app.Name, app.Reason, app.NextAction)
		return p
	}
	if app.Kind == sparkapp.KindPod && !op.Resubmit {
		p.Outcome = Refuse
		p.Message = fmt.Sprintf("refusing: %s/%s is a bare spark-submit driver pod: nothing would start a new driver after a failover. %s. "+
			"Add --resubmit to relaunch it as a sparkha Job once the old driver is gone: %s --node-down --resubmit",
			app.Namespace, app.Name, app.Reason, self)
		return p
	}
	// With --resubmit kubectl sparkha relaunches the app from its SparkApplication: it must
	// have been read.
	if sa := app.SparkApplication; app.Kind == sparkapp.KindSparkApplication && app.LostNode != "" && (sa == nil || sa.APIVersion == "" || !sa.Resubmits && !op.Resubmit) {
		// The fence stops the old driver; only the operator would start the next one.
		p.Outcome = Refuse
		why := "its SparkApplication was not read"
		if sa != nil {
			why = sa.Why
		}
		p.Message = fmt.Sprintf("refusing to fail over %s/%s: its operator will not start a new driver after the fence (%s), so a fence would only stop the app. "+
			"Add --resubmit to relaunch it as a sparkha Job once the old driver is gone (the SparkApplication is deleted, its spec kept on the Job): %s --node-down --resubmit; "+
			"or, if %s comes back first: %s",
			app.Namespace, app.Name, why, self, app.LostNode, migrateCommand(app.Namespace, app.Name))
		return p
	}
	if app.LostNode == "" {
		// Both drivers are on Ready nodes: their kubelets are in charge, and
		// fencing a healthy node would only kill the app.
		p.Outcome = Refuse
		p.Message = fmt.Sprintf("refusing: %s; no node is lost, so there is nothing to fence. Next: %s", app.Reason, app.NextAction)
		return p
	}
	old, hasOld := oldDriver(app)
	if !nodeDown {
		p.Outcome = Refuse
		held := fmt.Sprintf("driver %s may still be running on node %s (%s)", old.Pod, app.LostNode, nodeState(old))
		if !hasOld {
			held = app.Reason + ", and whatever held it there may still be running"
		}
		p.Message = fmt.Sprintf("refusing to fail over %s/%s: %s. "+
			"Starting another driver now could run two at once. It becomes safe when %s rejoins (then rerun %s), "+
			"or once you have confirmed %s is powered off (or cut from its storage and network by your infrastructure; "+
			"a plain network partition is not enough: its containers keep running and writing): %s --node-down",
			app.Namespace, app.Name, held, app.LostNode, self, app.LostNode, self)
		return p
	}
	if ev := app.LostNodeEvidence; ev != nil && ev.Alive != "" && !op.IgnoreNodeEvidence {
		// The operator's word against the cluster's: a kubelet that runs means a machine that
		// runs, whose containers a fence would leave running beside a new driver.
		p.Outcome = Refuse
		p.Message = fmt.Sprintf("refusing to fence node %s: %s, so its machine is running and its containers may be. "+
			"Find out why it is not Ready (kubectl describe node %s). If you know the machine is powered off or cut from its storage "+
			"and network and this evidence is stale, rerun with --ignore-node-evidence (the audit records it)", app.LostNode, ev.Alive, app.LostNode)
		return p
	}
	if hasOld && old.NodeReady == "True" {
		// Its kubelet is back and the node controller has not lifted the unreachable taint
		// yet: the node is not down, and fencing it would only kill its pods (found by FuzzAnalyze).
		// (Without an old driver, Analyze names a lost node only if it is not Ready.)
		p.Outcome = Refuse
		p.Message = fmt.Sprintf("refusing to fence node %s: it is Ready again, so it is not down. Rerun without --node-down: %s", app.LostNode, self)
		return p
	}
	p.Outcome = Act
	why := fmt.Sprintf("the operator declared %s powered off or cut from its storage; the out-of-service taint lets Kubernetes force-delete driver %s and detach its volumes", app.LostNode, old.Pod)
	if !hasOld {
		why = fmt.Sprintf("the operator declared %s powered off or cut from its storage; the out-of-service taint lets Kubernetes detach the volumes still attached there", app.LostNode)
	}
	if ev := app.LostNodeEvidence; ev != nil && ev.Alive != "" {
		why += "; evidence that the machine runs ignored on the operator's word: " + ev.Alive
	} else if ev != nil && ev.Down != "" {
		why += "; the cluster agrees: " + ev.Down
	}
	resubmit := app.Kind == sparkapp.KindPod
	if sa := app.SparkApplication; sa != nil && app.Kind == sparkapp.KindSparkApplication {
		if sa.Resubmits {
			why += "; then its Spark operator starts the next driver: " + sa.Why
		} else {
			why += "; then kubectl sparkha relaunches it as a Job (its operator will not: " + sa.Why + ")"
			resubmit = true
		}
	}
	p.Steps = []Step{{Action: FenceNode, Node: app.LostNode, Pod: old.Pod, PodUID: old.UID, Why: why}}
	if hasOld {
		p.Steps = append(p.Steps, collect(old))
	}
	p.Waits = waits(app)
	if resubmit {
		// No controller starts the next driver: the caller resubmits it once the old one is gone.
		p.Waits = []string{WaitOldGone}
	}
	return p
}

// decideExecutors plans the failover of executors on a lost node under a running driver: the
// same fence, on the same evidence, as for a driver there; the driver stays.
func decideExecutors(app App, op Operator, p Plan, self string) Plan {
	lost := lostExecutors(app)
	names := make([]string, len(lost))
	for i, x := range lost {
		names[i] = x.Pod
	}
	what := "executors " + strings.Join(names, ", ")
	if len(names) == 1 {
		what = "executor " + names[0]
	}
	fenced := len(lost) > 0 && lost[0].NodeFenced
	ev := app.LostNodeEvidence
	// Named before the switch: gremlins (and Go's coverage) see a case expression as outside
	// every block, so only statements of their own are measured.
	noneLeft := len(lost) == 0
	readyAgain := !noneLeft && lost[0].NodeReady == string(corev1.ConditionTrue)
	mayRun := !fenced && !op.NodeDown
	runsByEvidence := !fenced && ev != nil && ev.Alive != "" && !op.IgnoreNodeEvidence
	switch {
	case noneLeft:
		p.Outcome = Refuse
		p.Message = fmt.Sprintf("refusing: %s, but no executor of the running driver is on %s any more; rerun to decide again", app.Reason, app.LostNode)
		return p
	case readyAgain:
		// Its kubelet is back and the unreachable taint not lifted yet: not down (found by FuzzAnalyze).
		p.Outcome = Refuse
		p.Message = fmt.Sprintf("refusing to fence or collect on node %s: it is Ready again, so it is not down, and its kubelet is in charge of %s; rerun to decide again: %s", app.LostNode, what, self)
		return p
	case mayRun:
		p.Outcome = Refuse
		p.Message = fmt.Sprintf("refusing to fence node %s: %s of %s/%s may still be running there (%s). Spark asks for no other executor while their pods are in the API. "+
			"It becomes safe when %s rejoins (its kubelet then stops or confirms them), or once you have confirmed %s is powered off (or cut from its storage and network by your infrastructure; "+
			"a plain network partition is not enough: its containers keep running and writing): %s --node-down",
			app.LostNode, what, app.Namespace, app.Name, lost[0].NodeReady, app.LostNode, app.LostNode, self)
		return p
	case runsByEvidence:
		p.Outcome = Refuse
		p.Message = fmt.Sprintf("refusing to fence node %s: %s, so its machine is running and %s may be. "+
			"Find out why it is not Ready (kubectl describe node %s). If you know the machine is powered off or cut from its storage "+
			"and network and this evidence is stale, rerun with --ignore-node-evidence (the audit records it)", app.LostNode, ev.Alive, what, app.LostNode)
		return p
	}
	p.Outcome = Act
	if !fenced {
		why := fmt.Sprintf("the operator declared %s powered off or cut from its storage; the out-of-service taint lets Kubernetes force-delete %s, so that Spark sees %s gone and asks for others; the driver stays", app.LostNode, what, themIt(names))
		if ev != nil && ev.Alive != "" {
			why += "; evidence that the machine runs ignored on the operator's word: " + ev.Alive
		} else if ev != nil && ev.Down != "" {
			why += "; the cluster agrees: " + ev.Down
		}
		p.Steps = append(p.Steps, Step{Action: FenceNode, Node: app.LostNode, Why: why})
	}
	if op.NodeDown {
		for _, x := range lost {
			p.Steps = append(p.Steps, Step{Action: CollectExecutor, Node: x.Node, Pod: x.Pod, PodUID: x.UID,
				Why: fmt.Sprintf("node %s is fenced (out-of-service) and not Ready, whoever fenced it: the pod garbage collector would mark executor %s Failed and delete it at its next pass, up to 20 s from now", x.Node, x.Pod)})
		}
	}
	p.Waits = []string{WaitExecutorsGone}
	return p
}

// lostExecutors are the executors of the app's running drivers on its lost node, not ended.
func lostExecutors(app App) []Executor {
	var out []Executor
	for _, d := range app.Drivers {
		if !d.runsOnAHealthyNode() {
			continue
		}
		for _, x := range d.Executors {
			if x.Node == app.LostNode && x.NodeLost && !x.Ended() {
				out = append(out, x)
			}
		}
	}
	return out
}

// collect is the step that force-deletes an old driver on a fenced node as PodGC would.
func collect(d Driver) Step {
	return Step{Action: CollectOldDriver, Node: d.Node, Pod: d.Pod, PodUID: d.UID,
		Why: fmt.Sprintf("node %s is fenced (out-of-service) and not Ready, whoever fenced it: the pod garbage collector would mark %s Failed and delete it at its next pass, up to 20 s from now", d.Node, d.Pod)}
}

// oldDriver is the live driver on the lost node, if its pod still exists.
func oldDriver(app App) (Driver, bool) {
	for _, d := range app.Drivers {
		if d.Node == app.LostNode && !d.Ended {
			return d, true
		}
	}
	return Driver{}, false
}

func nodeState(d Driver) string {
	parts := []string{"Ready=" + orUnknown(d.NodeReady)}
	if d.NodeHeartbeat != nil {
		parts = append(parts, "last heartbeat at "+clock(*d.NodeHeartbeat))
	}
	if d.Deleted != nil {
		parts = append(parts, "pod "+d.Status+" since "+clock(*d.Deleted))
	}
	return strings.Join(parts, ", ")
}

func orUnknown(s string) string {
	if s == "" {
		return "not visible"
	}
	return s
}

// Wait phases, in order.
const (
	WaitOldGone     = "old driver gone"
	WaitDetached    = "volume detached from the old node"
	WaitNewAttached = "volume attached to the new driver's node"
	WaitNewRunning  = "new driver Running"
	// WaitExecutorsGone: no executor of the app is left on the lost node.
	WaitExecutorsGone = "executors on the lost node gone"
)

// waits are the phases that apply: the attach/detach ones only when a volume of the app
// is attached to nodes (NFS or a CSI driver without attach has no VolumeAttachment to wait for).
func waits(app App) []string {
	w := []string{WaitOldGone}
	for _, d := range app.Drivers {
		if slices.ContainsFunc(d.Volumes, func(v Volume) bool { return !v.NoAttach }) {
			w = append(w, WaitDetached, WaitNewAttached)
			break
		}
	}
	return append(w, WaitNewRunning)
}

// Describe says in words what a step does.
func Describe(s Step) string {
	switch s.Action {
	case FenceNode:
		return fmt.Sprintf("fence node %s (taint %s=%s:NoExecute)", s.Node, corev1.TaintNodeOutOfService, OutOfServiceValue)
	case FinishOldDriver:
		return fmt.Sprintf("finish old driver %s (mark Failed, delete with grace period 0)", s.Pod)
	case CollectOldDriver:
		return fmt.Sprintf("collect old driver %s from fenced node %s once it is evicted (mark Failed, delete with grace period 0, as the pod garbage collector would)", s.Pod, s.Node)
	case CollectExecutor:
		return fmt.Sprintf("collect executor %s from fenced node %s once it is evicted (mark Failed, delete with grace period 0, as the pod garbage collector would)", s.Pod, s.Node)
	}
	return string(s.Action)
}
