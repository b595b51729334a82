// Package analysis decides, purely from a snapshot of the cluster and a clock, what state each
// Spark application is in and what is safe to do (Analyze), and plans a failover from that
// verdict (Decide). It imports no client: pkg/inspect gathers the snapshot, pkg/failover carries
// plans out, pkg/render prints. The same snapshot and clock always give the same report, and
// the report holds facts and timestamps, never ages.
package analysis

import (
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// Verdict is the state of one Spark application, from the responder's view.
type Verdict string

// The verdicts, in the order a responder should care about them.
const (
	// SplitBrainRisk: two driver generations may be running at once.
	SplitBrainRisk Verdict = "SplitBrainRisk"
	// SafeToComplete: the old driver is confirmed stopped (its node rejoined
	// and finished it, or the node is fenced out of service) but something of
	// it lingers; failover can finish the job.
	SafeToComplete Verdict = "SafeToComplete"
	// ReplacementBlocked: a new driver waits for a volume still attached to
	// the old driver's lost node, or for a Ready node allowed to mount it (a
	// local or zonal volume whose nodes are all lost).
	ReplacementBlocked Verdict = "ReplacementBlocked"
	// StuckTerminating: the old driver was deleted but cannot finish
	// terminating, because only its unreachable kubelet could confirm it.
	StuckTerminating Verdict = "StuckTerminating"
	// StrayExecutors: executors of a driver generation that is gone, deleted
	// or on a fenced node still run on Ready nodes, where they can keep
	// writing to sinks. Only given when no other verdict needs attention.
	StrayExecutors Verdict = "StrayExecutors"
	// DriverAtRisk: the driver's node is not Ready; the driver is not yet evicted.
	DriverAtRisk Verdict = "DriverAtRisk"
	// ExecutorsOnLostNode: the driver runs on a Ready node, but some of its executors are on a
	// lost node. Spark counts an executor pod the API still shows as running (an evicted pod
	// keeps phase Running while its kubelet is away), so it asks for no other, and tasks wait.
	ExecutorsOnLostNode Verdict = "ExecutorsOnLostNode"
	// RetriesExhausted: the Job failed (backoff limit) or a bare driver pod
	// failed: nothing will start a new driver.
	RetriesExhausted Verdict = "RetriesExhausted"
	// Starting: a driver is being created, scheduled or started, unblocked.
	Starting Verdict = "Starting"
	// Healthy: one driver runs on a Ready node.
	Healthy Verdict = "Healthy"
	// Finished: the application completed.
	Finished Verdict = "Finished"
)

// NeedsAttention reports whether a responder must look at an app in this state.
func (v Verdict) NeedsAttention() bool {
	switch v {
	case Healthy, Starting, Finished:
		return false
	}
	return true
}

// Report is the result of Analyze: the stable schema of `inspect -o json|yaml`.
type Report struct {
	Apps []App `json:"apps"`
	// Unavailable lists what could not be seen (e.g. nodes: forbidden), so the
	// verdicts that depend on it are known to be partial.
	Unavailable []string `json:"unavailable,omitempty"`
}

// State is what the report says, as a string to compare: its JSON without the facts that
// move while nothing happens to the apps (node heartbeats, renewed every few seconds, and the
// repeat counts and times of events). inspect --watch reprints when it changes.
func (r *Report) State() (string, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	var c Report
	if err := json.Unmarshal(b, &c); err != nil {
		return "", err
	}
	for i := range c.Apps {
		for j := range c.Apps[i].Drivers {
			d := &c.Apps[i].Drivers[j]
			d.NodeHeartbeat = nil
			for k := range d.Events {
				d.Events[k].Count, d.Events[k].Last = 0, time.Time{}
			}
			for k := range d.Volumes {
				if e := d.Volumes[k].LastEvent; e != nil {
					e.Count, e.Last = 0, time.Time{}
				}
			}
		}
	}
	b, err = json.Marshal(c)
	return string(b), err
}

// App is one Spark application and all its driver generations.
type App struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Kind of controller: SparkhaJob, Job, SparkApplication (Spark operator) or Pod (spark-submit).
	Kind sparkapp.Kind `json:"kind"`
	// Job is the driver Job's name, for Job kinds.
	Job        string  `json:"job,omitempty"`
	Verdict    Verdict `json:"verdict"`
	Reason     string  `json:"reason"`
	NextAction string  `json:"nextAction"`
	// Drivers are the driver generations, oldest first.
	Drivers []Driver `json:"drivers"`
	// JobStatus summarises the Job's counters, for Job kinds.
	JobStatus *JobStatus `json:"jobStatus,omitempty"`
	// SparkApplication is what the app's SparkApplication says, for the SparkApplication kind:
	// whether its operator starts a new driver after the current one.
	SparkApplication *OperatorApp `json:"sparkApplication,omitempty"`
	// LostNode is the unhealthy node under the old driver: the node that
	// `failover --node-down` would fence.
	LostNode string `json:"lostNode,omitempty"`
	// LostNodeEvidence is what the cluster knows of LostNode's machine: signs that it still
	// runs, or that it is down.
	LostNodeEvidence *NodeEvidence `json:"lostNodeEvidence,omitempty"`
	// OrphanExecutors are executor pods of this app whose driver pod is gone
	// (the garbage collector deletes them through their owner reference).
	OrphanExecutors []Executor `json:"orphanExecutors,omitempty"`
	// Warnings are what a responder should know beyond the verdict, such as
	// stray executors (see Executor.Stray).
	Warnings []string `json:"warnings,omitempty"`
}

// NodeEvidence is what the cluster says of a node's machine, before anyone fences it.
type NodeEvidence struct {
	Node string `json:"node"`
	// Ready is the Ready condition's status (True, False, Unknown), or Missing when the Node
	// object is gone; ReadyReason and ReadySince its reason and last transition.
	Ready       string     `json:"ready"`
	ReadyReason string     `json:"readyReason,omitempty"`
	ReadySince  *time.Time `json:"readySince,omitempty"`
	// LeaseRenewed is the kubelet's last renewal of its node Lease (every 10 s while it runs);
	// StatusHeartbeat the Ready condition's last heartbeat (the kubelet's last status post).
	LeaseRenewed    *time.Time `json:"leaseRenewed,omitempty"`
	StatusHeartbeat *time.Time `json:"statusHeartbeat,omitempty"`
	// CloudShutdown: the cloud node lifecycle controller tainted the node
	// node.cloudprovider.kubernetes.io/shutdown: the provider reports the instance shut down.
	CloudShutdown bool `json:"cloudShutdown,omitempty"`
	// Alive is evidence that the node's kubelet runs, in words ("" when there is none): a
	// Lease renewed after the node stopped being Ready, or Ready=False, which only a running
	// kubelet reports. Fencing such a node force-deletes pods whose containers may run.
	Alive string `json:"alive,omitempty"`
	// Down is evidence that the machine is down, in words ("" when there is none): the cloud
	// provider's shutdown taint, the Node object deleted with its instance, or a remediation
	// whose status says it fenced the machine.
	Down string `json:"down,omitempty"`
	// Remediations are the medik8s remediations of the node, oldest first, and what each says;
	// one still in progress is no evidence. A fence one reports after the last sign of life
	// outdates that sign (Alive is then empty).
	Remediations []RemediationState `json:"remediations,omitempty"`
	// RemediationsUnseen names the remediation kinds that could not be listed (Forbidden).
	RemediationsUnseen []string `json:"remediationsUnseen,omitempty"`
}

// JobStatus is what the Job controller counts.
type JobStatus struct {
	Active       int32 `json:"active"`
	Terminating  int32 `json:"terminating"`
	Failed       int32 `json:"failed"`
	BackoffLimit int32 `json:"backoffLimit"`
	// ReplacementPolicy is the Job's podReplacementPolicy ("Failed" fences).
	ReplacementPolicy string `json:"podReplacementPolicy,omitempty"`
}

// Driver is one driver pod (one generation).
type Driver struct {
	Pod string `json:"pod"`
	UID string `json:"uid"`
	// Generation numbers the driver pods still visible, oldest first.
	Generation int       `json:"generation"`
	Created    time.Time `json:"created"`
	Node       string    `json:"node"`
	Phase      string    `json:"phase"`
	// Status is what `kubectl get pod` prints (Running, Terminating, Unknown, ContainerCreating, ...).
	Status string `json:"status"`
	// Deleted is when the pod's deletion was requested (its deletionTimestamp
	// minus the grace period), if it was.
	Deleted *time.Time `json:"deleted,omitempty"`
	// ContainersStopped: the kubelet reported every container terminated (or the pod is terminal).
	ContainersStopped bool `json:"containersStopped"`
	// Ended: the pod reached phase Succeeded or Failed.
	Ended bool `json:"ended"`
	// NodeLost: the node is not Ready, tainted unreachable or not-ready (NoExecute), or gone,
	// so what the API shows of this pod may be stale.
	NodeLost bool `json:"nodeLost"`
	// NodeFenced: the node carries the out-of-service taint: declared down by an operator.
	NodeFenced bool `json:"nodeFenced"`
	// MayRun: the driver's containers may be running right now (on a lost node, whatever the
	// API shows).
	MayRun bool `json:"mayRun"`
	// NodeReady is the node's Ready condition: True, False, Unknown, or Missing.
	NodeReady string `json:"nodeReady"`
	// NodeHeartbeat is the node's latest sign of life (Lease renewal or Ready heartbeat).
	NodeHeartbeat *time.Time `json:"nodeHeartbeat,omitempty"`
	NodeTaints    []string   `json:"nodeTaints,omitempty"`
	// DisruptionTarget is the pod condition set when Kubernetes evicts it.
	DisruptionTarget *Condition `json:"disruptionTarget,omitempty"`
	Volumes          []Volume   `json:"volumes"`
	// Events are the latest warnings about the pod (reason: message), newest last.
	Events []Event `json:"events,omitempty"`
	// Executors are this generation's executor pods, by executor ID: those
	// owned by the driver pod, else labelled with its spark.app.id.
	Executors []Executor `json:"executors,omitempty"`
	// ExecutorCounts sums them up, when there are any.
	ExecutorCounts *ExecutorCounts `json:"executorCounts,omitempty"`
}

// Executor is one Spark executor pod.
type Executor struct {
	Pod string `json:"pod"`
	// ID is Spark's executor ID (the spark-exec-id label).
	ID    string `json:"id,omitempty"`
	Node  string `json:"node,omitempty"`
	Phase string `json:"phase"`
	// Status is what `kubectl get pod` prints.
	Status string `json:"status"`
	// Deleted is when the pod's deletion was requested, if it was.
	Deleted *time.Time `json:"deleted,omitempty"`
	// NodeReady is the node's Ready condition (True, False, Unknown, Missing).
	NodeReady string `json:"nodeReady,omitempty"`
	// Stray: it runs on a Ready node while its driver is gone, deleted or on
	// a fenced node, so it can keep writing to sinks on its own.
	Stray bool `json:"stray,omitempty"`
	// UID is the pod's UID.
	UID string `json:"uid,omitempty"`
	// NodeLost: its node is not Ready, tainted unreachable or not-ready, or gone (fenced or
	// not): what the API shows of it may be stale. NodeFenced: the node is out of service.
	NodeLost   bool `json:"nodeLost,omitempty"`
	NodeFenced bool `json:"nodeFenced,omitempty"`
}

// Ended says whether the executor's pod reached a final phase: its containers stopped for good.
func (x Executor) Ended() bool {
	return x.Phase == string(corev1.PodSucceeded) || x.Phase == string(corev1.PodFailed)
}

// ExecutorCounts counts one generation's executors.
type ExecutorCounts struct {
	Total int `json:"total"`
	// Running counts the executors whose containers run (phase Running, not stopped).
	Running int `json:"running"`
	// ByPhase counts them by pod phase; pods being deleted count as Terminating.
	ByPhase map[string]int `json:"byPhase"`
	// Nodes they are on, sorted.
	Nodes []string `json:"nodes,omitempty"`
}

// Condition is a pod condition's reason and message.
type Condition struct {
	Reason  string    `json:"reason"`
	Message string    `json:"message,omitempty"`
	Since   time.Time `json:"since"`
}

// Volume is the chain pod volume → PVC → PV → VolumeAttachment(s) → node.
type Volume struct {
	Name        string       `json:"name"`
	Claim       string       `json:"claim"`
	PV          string       `json:"pv,omitempty"`
	AccessModes []string     `json:"accessModes,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// NoAttach says the volume is never attached to a node (NFS, local, a CSI driver with
	// attachRequired false): there is no VolumeAttachment to wait for.
	NoAttach bool `json:"noAttach,omitempty"`
	// NodeAffinity is the PV's required node affinity, e.g. "kubernetes.io/hostname in (node-a)"
	// for a local volume or "topology.kubernetes.io/zone in (zone-1)" for a zonal one: only
	// pods on such nodes can mount it.
	NodeAffinity string `json:"nodeAffinity,omitempty"`
	// NoReadyNode: no Ready, schedulable node satisfies NodeAffinity, so no new driver can
	// start until one does, whatever failover does.
	NoReadyNode bool `json:"noReadyNode,omitempty"`
	// LastEvent is the latest FailedMount/FailedAttachVolume warning about it.
	LastEvent *Event `json:"lastEvent,omitempty"`
}

// Attachment is one VolumeAttachment of a PV.
type Attachment struct {
	Name     string `json:"name"`
	Node     string `json:"node"`
	Attached bool   `json:"attached"`
	Deleting bool   `json:"deleting,omitempty"`
}

// Event is a Kubernetes event, condensed.
type Event struct {
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	Count   int32     `json:"count,omitempty"`
	Last    time.Time `json:"last"`
}
