package analysis

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// stuckAfter is how long past its deletion deadline (request + grace period),
// or past its node's return to Ready if that came later, a pod may take to
// terminate on a Ready node before it counts as stuck.
const stuckAfter = 2 * time.Minute

// stuckAfterWords is stuckAfter, as reasons say it.
const stuckAfterWords = "2 minutes"

// Analyze decides the state of every Spark application in the snapshot. It is
// pure: the same snapshot and clock give the same report.
func Analyze(s *Snapshot, now time.Time) *Report {
	idx := newIndex(s, now)
	apps := map[appKey]*appBuild{}
	var order []appKey
	get := func(k sparkapp.AppKey) *appBuild {
		key := appKey{k.Namespace, k.Name}
		if a, ok := apps[key]; ok {
			return a
		}
		a := &appBuild{App: App{Namespace: k.Namespace, Name: k.Name, Kind: k.Kind, Job: k.Job}}
		apps[key] = a
		order = append(order, key)
		return a
	}
	for i := range s.DriverPods {
		pod := &s.DriverPods[i]
		a := get(sparkapp.AppOfPod(pod))
		a.pods = append(a.pods, pod)
	}
	// Driver Jobs with no pod at the moment (between generations) are apps too.
	for i := range s.Jobs {
		if k, ok := sparkapp.AppOfJob(&s.Jobs[i]); ok {
			get(k)
		}
	}
	// So are SparkApplications: their operator starts the next driver.
	for i := range s.SparkApplications {
		sa := &s.SparkApplications[i]
		if _, ok := apps[appKey{sa.Namespace, sa.Name}]; !ok {
			get(sparkapp.AppKey{Namespace: sa.Namespace, Name: sa.Name, Kind: sparkapp.KindSparkApplication}).sa = sa
		}
	}
	assignExecutors(s, apps)
	r := &Report{Apps: []App{}, Unavailable: s.Unavailable}
	for _, k := range order {
		a := apps[k]
		a.job = idx.jobs[k.ns+"/"+a.Job]
		a.analyze(idx, now)
		r.Apps = append(r.Apps, a.App)
	}
	sort.SliceStable(r.Apps, func(i, j int) bool {
		if r.Apps[i].Namespace != r.Apps[j].Namespace {
			return r.Apps[i].Namespace < r.Apps[j].Namespace
		}
		return r.Apps[i].Name < r.Apps[j].Name
	})
	return r
}

// appKey is the map key of an app: sparkapp.AppKey without its kind.
type appKey struct{ ns, name string }

type index struct {
	nodes      map[string]*corev1.Node
	nodesKnown bool
	heartbeats map[string]time.Time
	// leases is each node Lease's last renewal.
	leases map[string]time.Time
	claims map[string]*corev1.PersistentVolumeClaim
	pvs    map[string]*corev1.PersistentVolume
	attach map[string][]Attachment
	// csiAttach is spec.attachRequired of each CSIDriver object.
	csiAttach map[string]bool
	events    map[string][]Event
	jobs      map[string]*batchv1.Job
	// sparkApps are the SparkApplications by namespace/name; sparkAppsUnseen the kinds that
	// could not be listed.
	sparkApps       map[string][]*SparkApplication
	sparkAppsUnseen []string
	// remediations are the medik8s remediations of each node.
	remediations       map[string][]Remediation
	remediationsUnseen []string
	now                time.Time
}

func newIndex(s *Snapshot, now time.Time) *index {
	idx := &index{now: now, remediations: map[string][]Remediation{}, remediationsUnseen: s.RemediationsUnseen,
		nodes: map[string]*corev1.Node{}, heartbeats: map[string]time.Time{}, leases: map[string]time.Time{},
		claims: map[string]*corev1.PersistentVolumeClaim{}, pvs: map[string]*corev1.PersistentVolume{},
		attach: map[string][]Attachment{}, events: map[string][]Event{}, jobs: map[string]*batchv1.Job{},
		csiAttach: map[string]bool{},
	}
	for _, d := range s.CSIDrivers {
		idx.csiAttach[d.Name] = d.Spec.AttachRequired == nil || *d.Spec.AttachRequired
	}
	idx.nodesKnown = !unavailable(s, "nodes")
	for _, r := range s.Remediations {
		idx.remediations[r.Node] = append(idx.remediations[r.Node], r)
	}
	for i := range s.Nodes {
		n := &s.Nodes[i]
		idx.nodes[n.Name] = n
		if c := nodeCondition(n, corev1.NodeReady); c != nil {
			idx.heartbeats[n.Name] = c.LastHeartbeatTime.Time
		}
	}
	for _, l := range s.Leases {
		if l.Spec.RenewTime == nil {
			continue
		}
		idx.leases[l.Name] = l.Spec.RenewTime.Time
		if l.Spec.RenewTime.After(idx.heartbeats[l.Name]) {
			idx.heartbeats[l.Name] = l.Spec.RenewTime.Time
		}
	}
	for i := range s.Claims {
		idx.claims[s.Claims[i].Namespace+"/"+s.Claims[i].Name] = &s.Claims[i]
	}
	for i := range s.Volumes {
		idx.pvs[s.Volumes[i].Name] = &s.Volumes[i]
	}
	for _, va := range s.VolumeAttachments {
		if va.Spec.Source.PersistentVolumeName == nil {
			continue
		}
		pv := *va.Spec.Source.PersistentVolumeName
		idx.attach[pv] = append(idx.attach[pv], Attachment{Name: va.Name, Node: va.Spec.NodeName, Attached: va.Status.Attached, Deleting: va.DeletionTimestamp != nil})
	}
	for pv := range idx.attach {
		sort.Slice(idx.attach[pv], func(i, j int) bool { return idx.attach[pv][i].Node < idx.attach[pv][j].Node })
	}
	for _, ev := range s.Events {
		if ev.InvolvedObject.Kind != "Pod" || ev.Type != corev1.EventTypeWarning {
			continue
		}
		k := ev.InvolvedObject.Namespace + "/" + ev.InvolvedObject.Name + "/" + string(ev.InvolvedObject.UID)
		idx.events[k] = append(idx.events[k], Event{Reason: ev.Reason, Message: ev.Message, Count: ev.Count, Last: eventTime(ev)})
	}
	for k := range idx.events {
		evs := idx.events[k]
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].Last.Before(evs[j].Last) })
	}
	for i := range s.Jobs {
		idx.jobs[s.Jobs[i].Namespace+"/"+s.Jobs[i].Name] = &s.Jobs[i]
	}
	idx.sparkApps, idx.sparkAppsUnseen = map[string][]*SparkApplication{}, s.SparkApplicationsUnseen
	for i := range s.SparkApplications {
		sa := &s.SparkApplications[i]
		idx.sparkApps[sa.Namespace+"/"+sa.Name] = append(idx.sparkApps[sa.Namespace+"/"+sa.Name], sa)
	}
	return idx
}

func unavailable(s *Snapshot, kind string) bool {
	for _, u := range s.Unavailable {
		if strings.HasPrefix(u, kind+":") {
			return true
		}
	}
	return false
}

// eventTime is when an event last happened, whichever API generation wrote it.
func eventTime(ev corev1.Event) time.Time {
	switch {
	case ev.Series != nil && !ev.Series.LastObservedTime.IsZero():
		return ev.Series.LastObservedTime.Time
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	}
	return ev.FirstTimestamp.Time
}

type appBuild struct {
	App
	pods []*corev1.Pod
	job  *batchv1.Job
	// sa is the SparkApplication of an operator app, if listed; saUnseen: SparkApplications
	// could not be listed.
	sa       *SparkApplication
	saUnseen bool
	// execs are executor pods of the app's driver pods; orphans those of its
	// driver pods that are gone.
	execs, orphans []*corev1.Pod
}

// driverState is what the analysis needs to know of one driver, beyond what
// is reported.
type driverState struct {
	*Driver
	pod      *corev1.Pod
	rejoined bool // node Ready with a heartbeat after the deletion
	blocked  *Volume
	// terminating is when the kubelet of a deleted driver should have stopped it: its deletion
	// deadline, or its node's return to Ready if later (a node away at the deadline learns of
	// the deletion only when it rejoins, and only then gives the pod its grace period).
	terminating time.Time
}

func (a *appBuild) analyze(idx *index, now time.Time) {
	sort.SliceStable(a.pods, func(i, j int) bool {
		return a.pods[i].CreationTimestamp.Before(&a.pods[j].CreationTimestamp)
	})
	var ds []*driverState
	a.Drivers = make([]Driver, len(a.pods))
	for i, pod := range a.pods {
		a.Drivers[i] = describeDriver(pod, i+1, idx)
		ds = append(ds, classify(&a.Drivers[i], pod, idx))
	}
	if a.job != nil {
		a.JobStatus = &JobStatus{Active: a.job.Status.Active, Failed: a.job.Status.Failed}
		if a.job.Status.Terminating != nil {
			a.JobStatus.Terminating = *a.job.Status.Terminating
		}
		if a.job.Spec.BackoffLimit != nil {
			a.JobStatus.BackoffLimit = *a.job.Spec.BackoffLimit
		}
		if a.job.Spec.PodReplacementPolicy != nil {
			a.JobStatus.ReplacementPolicy = string(*a.job.Spec.PodReplacementPolicy)
		}
	}
	if a.Kind == sparkapp.KindSparkApplication {
		a.operator(idx)
	}
	a.decide(ds, idx, now)
	a.operatorNext()
	a.executors(ds, idx, now)
	if a.LostNode != "" && idx.nodesKnown {
		a.LostNodeEvidence = idx.evidence(a.LostNode)
	}
}

func (a *appBuild) target() string {
	return fmt.Sprintf("%s -n %s", a.Name, a.Namespace)
}

// decide sets the verdict, reason and next action. The order of the checks is
// the order of danger: the first that matches wins.
func (a *appBuild) decide(ds []*driverState, idx *index, now time.Time) {
	failover := "kubectl sparkha failover " + a.target()
	if a.job != nil {
		if c := jobCondition(a.job, batchv1.JobComplete); c != nil {
			a.set(Finished, "the Job completed", "none")
			return
		}
		if c := jobCondition(a.job, batchv1.JobFailed); c != nil {
			a.set(RetriesExhausted, fmt.Sprintf("the Job failed (%s: %s); no new driver will start", c.Reason, c.Message),
				fmt.Sprintf("kubectl describe job %s -n %s", a.job.Name, a.Namespace))
			return
		}
	}
	var live, mayRun []*driverState
	for _, d := range ds {
		if !d.Ended {
			live = append(live, d)
		}
		if d.MayRun {
			mayRun = append(mayRun, d)
		}
	}
	if a.Kind == sparkapp.KindSparkApplication && len(live) == 0 && a.operatorBetween(ds) {
		return
	}
	if a.job == nil && a.Kind == sparkapp.KindPod && len(live) == 0 && len(ds) > 0 {
		last := ds[len(ds)-1]
		if last.Phase == string(corev1.PodSucceeded) {
			a.set(Finished, "the driver pod succeeded", "none")
		} else {
			a.set(RetriesExhausted, fmt.Sprintf("bare driver pod %s failed and nothing recreates a spark-submit driver", last.Pod),
				"resubmit with kubectl sparkha submit, so that the driver runs as a Job")
		}
		return
	}

	// Lost: a live driver on a lost, unfenced node (it may still run there).
	var lost *driverState
	for _, d := range live {
		if d.NodeLost && !d.NodeFenced {
			lost = d
			break
		}
	}
	var starting *driverState // newest live driver that is not on a lost node
	for i := len(live) - 1; i >= 0; i-- {
		if !live[i].NodeLost {
			starting = live[i]
			break
		}
	}

	if len(mayRun) >= 2 || (lost != nil && starting != nil && starting.blocked == nil && starting.Deleted == nil) {
		a.splitBrain(lost, starting, mayRun, failover)
		return
	}

	// A volume that only lost nodes may mount (a local PV on the lost node, a zonal one whose
	// zone has no Ready node left): no new driver can start anywhere, and no fence changes
	// that. Unless a driver runs on a Ready node already (its node may be cordoned).
	if v := strandedVolume(a.Drivers); v != nil && !slices.ContainsFunc(live, func(d *driverState) bool { return d.MayRun && !d.NodeLost }) {
		reason := fmt.Sprintf("volume %s (claim %s, pv %s) can only be mounted on nodes matching %s, and no Ready node does: no new driver can start until one does",
			v.Name, v.Claim, v.PV, v.NodeAffinity)
		next := fmt.Sprintf("make a node matching %s Ready; a failover cannot move the volume (if those nodes are gone for good, restore the checkpoint onto a volume a Ready node can mount and resubmit)", v.NodeAffinity)
		if lost != nil {
			a.LostNode = lost.Node
			reason += fmt.Sprintf("; driver %s is %s on lost node %s (%s)", lost.Pod, lost.Status, lost.Node, lost.nodeSummary())
			next = fmt.Sprintf("bring %s back: the driver then recovers by itself; a failover cannot move the volume (if %s is gone for good, restore the checkpoint onto a volume a Ready node can mount and resubmit)", lost.Node, lost.Node)
		}
		a.set(ReplacementBlocked, reason, next)
		return
	}

	// A driver confirmed stopped but lingering is only worth finishing when
	// no other driver may still run on a lost node.
	if lost == nil {
		for _, d := range live {
			if !d.NodeFenced && !(d.Deleted != nil && d.rejoined && d.ContainersStopped) {
				continue
			}
			why := fmt.Sprintf("node %s rejoined and its kubelet stopped driver %s, but the pod lingers (finalizers: %s)",
				d.Node, d.Pod, strings.Join(d.pod.Finalizers, ", "))
			switch {
			case d.NodeFenced && d.Deleted == nil:
				a.LostNode = d.Node
				why = fmt.Sprintf("node %s is fenced (%s); driver %s will be force-deleted", d.Node, corev1.TaintNodeOutOfService, d.Pod)
			case d.NodeFenced:
				a.LostNode = d.Node
				why = fmt.Sprintf("node %s is fenced (%s); Kubernetes force-deletes driver %s and detaches its volumes", d.Node, corev1.TaintNodeOutOfService, d.Pod)
			}
			a.set(SafeToComplete, why, failover)
			return
		}
	}

	if lost != nil {
		a.LostNode = lost.Node
		decision := idx.lostNodeNext(lost.Node, failover)
		if starting != nil && starting.blocked != nil {
			v := starting.blocked
			a.set(ReplacementBlocked,
				fmt.Sprintf("new driver %s on %s waits for volume %s (claim %s) still attached to %s, where old driver %s is %s; %s",
					starting.Pod, orNone(starting.Node), v.Name, v.Claim, attachedNodes(v), lost.Pod, lost.Status, lost.nodeSummary()),
				decision)
			return
		}
		if lost.Deleted != nil {
			a.set(StuckTerminating,
				fmt.Sprintf("driver %s was deleted%s but only %s's kubelet can confirm it stopped; %s",
					lost.Pod, lost.deletionCause(), lost.Node, lost.nodeSummary()),
				decision)
			return
		}
		a.set(DriverAtRisk,
			fmt.Sprintf("node %s of driver %s is %s; the driver will be evicted when its toleration of the %s taint expires",
				lost.Node, lost.Pod, lost.nodeSummary(), corev1.TaintNodeUnreachable),
			fmt.Sprintf("kubectl describe node %s", lost.Node))
		return
	}

	// No driver pod is left on a lost node, yet the new driver's volume is
	// still attached to one: its pod was force-deleted, or its kubelet went
	// away before reporting the volume unmounted. Whatever held the volume
	// may still run there; only that node's kubelet, or a fence, frees it.
	if starting != nil && starting.blocked != nil {
		if n := attachedToLostNode(starting.blocked, idx); n != nil {
			v := starting.blocked
			a.LostNode = n.Name
			a.set(ReplacementBlocked,
				fmt.Sprintf("new driver %s on %s waits for volume %s (claim %s) still attached to %s (%s); no driver pod is left there, but only its kubelet can report the volume unmounted",
					starting.Pod, orNone(starting.Node), v.Name, v.Claim, n.Name, summarizeNode(NodeReady(n), nodeTaints(n))),
				idx.lostNodeNext(n.Name, failover))
			return
		}
	}

	for _, d := range live {
		if d.Deleted != nil && !d.ContainersStopped && now.Sub(d.terminating) > stuckAfter {
			a.set(StuckTerminating,
				fmt.Sprintf("driver %s has been terminating for more than %s on Ready node %s: its kubelet has not stopped it", d.Pod, stuckAfterWords, d.Node),
				fmt.Sprintf("kubectl describe pod %s -n %s", d.Pod, a.Namespace))
			return
		}
	}
	if len(mayRun) == 1 && len(live) == 1 && mayRun[0].Deleted == nil {
		d := mayRun[0]
		reason := fmt.Sprintf("driver %s runs on %s", d.Pod, d.Node)
		if d.NodeReady == "" {
			reason += " (node state not visible: nodes cannot be listed)"
		}
		a.set(Healthy, reason, "none")
		return
	}
	if starting != nil && starting.blocked != nil {
		a.set(Starting, fmt.Sprintf("driver %s on %s waits for volume %s (%s)", starting.Pod, orNone(starting.Node), starting.blocked.Name, attachedNodes(starting.blocked)),
			fmt.Sprintf("kubectl sparkha inspect %s --watch", a.target()))
		return
	}
	switch {
	case len(live) == 0 && len(ds) == 0:
		a.set(Starting, "the Job has no driver pod yet", fmt.Sprintf("kubectl sparkha inspect %s --watch", a.target()))
	case len(live) == 0:
		a.set(Starting, fmt.Sprintf("driver %s ended (%s); the Job starts the next generation", ds[len(ds)-1].Pod, ds[len(ds)-1].Status),
			fmt.Sprintf("kubectl sparkha inspect %s --watch", a.target()))
	default:
		d := live[len(live)-1]
		a.set(Starting, fmt.Sprintf("driver %s is %s on %s", d.Pod, d.Status, orNone(d.Node)),
			fmt.Sprintf("kubectl sparkha inspect %s --watch", a.target()))
	}
}

// splitBrain reports two driver generations that may run at once: one on a
// lost node and a second one running or starting, or two running on Ready
// nodes (a plain Job replacing a driver that is still shutting down).
func (a *appBuild) splitBrain(lost, starting *driverState, mayRun []*driverState, failover string) {
	first := lost
	if first == nil {
		first = mayRun[0]
	}
	other := starting
	for i := len(mayRun) - 1; i >= 0; i-- {
		if mayRun[i] != first {
			other = mayRun[i]
			break
		}
	}
	state := "is starting"
	if other.MayRun {
		state = "runs"
	}
	if lost == nil {
		a.set(SplitBrainRisk,
			fmt.Sprintf("drivers %s on %s and %s on %s both run: two drivers can write the checkpoint at once", first.Pod, first.Node, other.Pod, other.Node),
			fmt.Sprintf("kubectl describe pod %s -n %s", first.Pod, a.Namespace))
		return
	}
	a.LostNode = lost.Node
	a.set(SplitBrainRisk,
		fmt.Sprintf("driver %s may still run on %s (%s) while driver %s %s on %s: two drivers can write the checkpoint at once",
			lost.Pod, lost.Node, lost.nodeSummary(), other.Pod, state, orNone(other.Node)),
		fmt.Sprintf("power off or isolate %s now, then: %s --node-down", lost.Node, failover))
}

func (a *appBuild) set(v Verdict, reason, next string) {
	a.Verdict, a.Reason, a.NextAction = v, reason, next
}

func orNone(s string) string {
	if s == "" {
		return "no node yet"
	}
	return s
}

// nodeSummary says in words how the driver's node looks.
func (d *driverState) nodeSummary() string {
	return summarizeNode(d.NodeReady, d.NodeTaints)
}

// summarizeNode says in words how a node looks: its Ready condition ("" when
// nodes cannot be listed, "Missing" when the object is gone) and the taints
// that evict or fence. The last heartbeat is a fact of the report
// (Driver.NodeHeartbeat), not of the reason: its age changes every second.
func summarizeNode(ready string, taints []string) string {
	var parts []string
	switch ready {
	case "Missing":
		parts = append(parts, "the node object is gone")
	case "":
		parts = append(parts, "node state not visible")
	default:
		parts = append(parts, "Ready="+ready)
	}
	for _, t := range taints {
		// The NoExecute taint is the one that evicts; its NoSchedule twin adds nothing.
		if t == corev1.TaintNodeUnreachable+":NoExecute" || t == corev1.TaintNodeNotReady+":NoExecute" || strings.HasPrefix(t, corev1.TaintNodeOutOfService) {
			parts = append(parts, "tainted "+t)
		}
	}
	return strings.Join(parts, ", ")
}

// NodeReady is the status of a node's Ready condition, Unknown without one.
func NodeReady(n *corev1.Node) string {
	if c := nodeCondition(n, corev1.NodeReady); c != nil {
		return string(c.Status)
	}
	return string(corev1.ConditionUnknown)
}

// Fenced says whether the node carries the out-of-service taint (non-graceful node shutdown):
// an operator confirmed it down, and Kubernetes force-deletes its pods and detaches its volumes.
func Fenced(n *corev1.Node) bool {
	return slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == corev1.TaintNodeOutOfService })
}

// nodeTaints lists a node's taints as key:effect.
func nodeTaints(n *corev1.Node) []string {
	var out []string
	for _, t := range n.Spec.Taints {
		out = append(out, t.Key+":"+string(t.Effect))
	}
	return out
}

// strandedVolume is a volume of the newest driver generation that has one (or of any, newest
// first) that no Ready node may mount, or nil.
func strandedVolume(drivers []Driver) *Volume {
	for i := len(drivers) - 1; i >= 0; i-- {
		for j := range drivers[i].Volumes {
			if drivers[i].Volumes[j].NoReadyNode {
				return &drivers[i].Volumes[j]
			}
		}
	}
	return nil
}

// evidence is what the cluster says of node's machine.
func (idx *index) evidence(node string) *NodeEvidence {
	m := Machine{Node: idx.nodes[node], Remediations: idx.remediations[node], RemediationsUnseen: idx.remediationsUnseen}
	if t, ok := idx.leases[node]; ok {
		m.LeaseRenewed = &t
	}
	return Evidence(node, m, idx.now)
}

// Machine is what the cluster publishes about one node's machine.
type Machine struct {
	// Node is the Node object, nil when it is gone.
	Node *corev1.Node
	// LeaseRenewed is its Lease's last renewal, nil when unknown.
	LeaseRenewed *time.Time
	// Remediations are the medik8s remediations of the node; RemediationsUnseen the kinds
	// that could not be listed (Snapshot.RemediationsUnseen).
	Remediations       []Remediation
	RemediationsUnseen []string
}

// Evidence is what the cluster says of a node's machine at now. failover reads it again from
// the live objects just before it fences.
func Evidence(name string, m Machine, now time.Time) *NodeEvidence {
	e := &NodeEvidence{Node: name, Ready: "Missing", LeaseRenewed: m.LeaseRenewed, RemediationsUnseen: m.RemediationsUnseen}
	var down []string
	var fencedAt *time.Time // the latest fence a remediation reports
	rems := slices.Clone(m.Remediations)
	slices.SortStableFunc(rems, func(a, b Remediation) int { return a.Created.Compare(b.Created) })
	for _, r := range rems {
		s := remediationState(r, now)
		e.Remediations = append(e.Remediations, s)
		if s.Fenced {
			down = append(down, fmt.Sprintf("%s %s/%s: %s", s.Kind, s.Namespace, s.Name, s.State))
			if s.At != nil && (fencedAt == nil || s.At.After(*fencedAt)) {
				fencedAt = s.At
			}
		}
	}
	n := m.Node
	if n == nil {
		e.Down = strings.Join(append([]string{"the Node object is gone, as when its instance is deleted"}, down...), "; ")
		return e
	}
	e.Ready = NodeReady(n)
	if c := nodeCondition(n, corev1.NodeReady); c != nil {
		e.ReadyReason = c.Reason
		if !c.LastTransitionTime.IsZero() {
			e.ReadySince = ptr.To(c.LastTransitionTime.Time)
		}
		if !c.LastHeartbeatTime.IsZero() {
			e.StatusHeartbeat = ptr.To(c.LastHeartbeatTime.Time)
		}
	}
	e.CloudShutdown = slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == cloudShutdownTaint })
	switch {
	case e.Ready == string(corev1.ConditionFalse):
		e.Alive = fmt.Sprintf("its kubelet reports Ready=False (%s): only a running kubelet reports that", orNoReason(e.ReadyReason))
	case e.Ready != string(corev1.ConditionTrue) && e.LeaseRenewed != nil && e.ReadySince != nil && e.LeaseRenewed.After(*e.ReadySince):
		e.Alive = fmt.Sprintf("its kubelet renewed its Lease at %s, after the node stopped being Ready at %s", clock(*e.LeaseRenewed), clock(*e.ReadySince))
	}
	// A fence after the last sign of life outdates it: the kubelet seen alive ran on the
	// machine that was then powered off or rebooted. A sign of life after the fence is a
	// machine that came back.
	if e.Alive != "" && fencedAt != nil && !lastSignOfLife(e).After(*fencedAt) {
		e.Alive = ""
	}
	if e.CloudShutdown {
		down = append([]string{"the cloud provider reports the instance shut down (" + cloudShutdownTaint + ")"}, down...)
	}
	e.Down = strings.Join(down, "; ")
	return e
}

// lastSignOfLife is the latest time the kubelet was seen running: its Lease's renewal, or its
// last status post when that status was Ready=False.
func lastSignOfLife(e *NodeEvidence) time.Time {
	var t time.Time
	if e.LeaseRenewed != nil {
		t = *e.LeaseRenewed
	}
	if e.Ready == string(corev1.ConditionFalse) && e.StatusHeartbeat != nil && e.StatusHeartbeat.After(t) {
		t = *e.StatusHeartbeat
	}
	return t
}

// cloudShutdownTaint is the taint the cloud node lifecycle controller puts on a node whose
// instance the provider reports shut down (k8s.io/cloud-provider api/well_known_taints.go,
// TaintNodeShutdown; set by controllers/nodelifecycle as ShutdownTaint, NoSchedule).
const cloudShutdownTaint = "node.cloudprovider.kubernetes.io/shutdown"

// lostNodeNext is the next action for an app whose old driver, or volume, is on a lost node:
// wait for it, or fence it once it is known down; the evidence changes the wording.
func (idx *index) lostNodeNext(node, failover string) string {
	e := idx.evidence(node)
	switch {
	case !idx.nodesKnown:
		// Nodes cannot be listed: no evidence either way.
	case e.Alive != "":
		return fmt.Sprintf("%s's machine is running (%s): find out why it is not Ready (kubectl describe node %s) and bring it back; do not fence it", node, e.Alive, node)
	case e.Down != "":
		return fmt.Sprintf("%s is down (%s): %s --node-down", node, e.Down, failover)
	}
	return fmt.Sprintf("if %s comes back, recovery completes by itself; once you know it is powered off, or cut from its storage and network (a network partition is not enough): %s --node-down", node, failover)
}

// clock is a time as evidence states it.
func clock(t time.Time) string { return t.UTC().Format("15:04:05Z") }

func orNoReason(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}

// anyReadyNode says whether a node that could run a new driver (Ready, schedulable, not
// tainted unreachable, not-ready or out-of-service) satisfies sel, as the scheduler's volume
// binding checks a PV's node affinity (corev1helpers.MatchNodeSelectorTerms).
func (idx *index) anyReadyNode(sel *corev1.NodeSelector) bool {
	for _, n := range idx.nodes {
		if NodeReady(n) != string(corev1.ConditionTrue) || n.Spec.Unschedulable || Fenced(n) {
			continue
		}
		if slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool {
			return t.Key == corev1.TaintNodeUnreachable || t.Key == corev1.TaintNodeNotReady
		}) {
			continue
		}
		if ok, err := corev1helpers.MatchNodeSelectorTerms(n, sel); ok && err == nil {
			return true
		}
	}
	return false
}

// describeSelector says a node selector as a person reads it: its terms, or-ed, each a list
// of requirements, and-ed.
func describeSelector(sel *corev1.NodeSelector) string {
	var terms []string
	for _, t := range sel.NodeSelectorTerms {
		var reqs []string
		for _, r := range append(append([]corev1.NodeSelectorRequirement{}, t.MatchExpressions...), t.MatchFields...) {
			req := r.Key + " " + strings.ToLower(string(r.Operator))
			switch r.Operator {
			case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
				req = r.Key + " " + map[corev1.NodeSelectorOperator]string{corev1.NodeSelectorOpIn: "in", corev1.NodeSelectorOpNotIn: "not in"}[r.Operator] + " (" + strings.Join(r.Values, ", ") + ")"
			case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
				req += " " + strings.Join(r.Values, ", ")
			}
			reqs = append(reqs, req)
		}
		terms = append(terms, strings.Join(reqs, ", "))
	}
	return strings.Join(terms, " or ")
}

func (idx *index) heartbeat(node string) *time.Time {
	if hb, ok := idx.heartbeats[node]; ok && !hb.IsZero() {
		return &hb
	}
	return nil
}

// attachedToLostNode returns the node, neither Ready nor fenced, to which a
// volume is still attached, or nil. A node that is Ready again (even before
// its unreachable taint is lifted) will report the volume unmounted by
// itself; a fenced one has its volumes detached by Kubernetes.
func attachedToLostNode(v *Volume, idx *index) *corev1.Node {
	// A volume that many nodes may attach at once waits for no detach.
	if !idx.nodesKnown || slices.Contains(v.AccessModes, string(corev1.ReadWriteMany)) || slices.Contains(v.AccessModes, string(corev1.ReadOnlyMany)) {
		return nil
	}
	for _, at := range v.Attachments {
		n := idx.nodes[at.Node]
		if n == nil || NodeReady(n) == string(corev1.ConditionTrue) {
			continue
		}
		if !Fenced(n) {
			return n
		}
	}
	return nil
}

func (d *driverState) deletionCause() string {
	if d.DisruptionTarget != nil {
		return " (DisruptionTarget: " + d.DisruptionTarget.Reason + ")"
	}
	return ""
}

func attachedNodes(v *Volume) string {
	var nodes []string
	for _, at := range v.Attachments {
		nodes = append(nodes, at.Node)
	}
	if len(nodes) == 0 {
		return "not attached anywhere yet"
	}
	return strings.Join(nodes, ", ")
}

func jobCondition(j *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if j.Status.Conditions[i].Type == t && j.Status.Conditions[i].Status == corev1.ConditionTrue {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

func nodeCondition(n *corev1.Node, t corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == t {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// describeDriver collects the facts of one driver pod.
func describeDriver(pod *corev1.Pod, generation int, idx *index) Driver {
	d := Driver{
		Pod: pod.Name, UID: string(pod.UID), Generation: generation, Created: pod.CreationTimestamp.Time,
		Node: pod.Spec.NodeName, Phase: string(pod.Status.Phase), Status: KubectlStatus(pod),
		ContainersStopped: ContainersStopped(pod), Volumes: []Volume{},
	}
	if pod.DeletionTimestamp != nil {
		// deletionTimestamp is the deadline (request + grace period); report the request.
		t := pod.DeletionTimestamp.Time
		if pod.DeletionGracePeriodSeconds != nil {
			t = t.Add(-time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second)
		}
		d.Deleted = &t
	}
	if c := podCondition(pod, corev1.DisruptionTarget); c != nil && c.Status == corev1.ConditionTrue {
		d.DisruptionTarget = &Condition{Reason: c.Reason, Message: c.Message, Since: c.LastTransitionTime.Time}
	}
	if pod.Spec.NodeName != "" && idx.nodesKnown {
		d.NodeReady = "Missing"
		if n := idx.nodes[pod.Spec.NodeName]; n != nil {
			d.NodeReady, d.NodeTaints = NodeReady(n), nodeTaints(n)
		}
	}
	d.NodeHeartbeat = idx.heartbeat(pod.Spec.NodeName)
	evs := idx.events[pod.Namespace+"/"+pod.Name+"/"+string(pod.UID)]
	if len(evs) > 5 {
		evs = evs[len(evs)-5:]
	}
	d.Events = evs
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		vol := Volume{Name: v.Name, Claim: v.PersistentVolumeClaim.ClaimName}
		if pvc := idx.claims[pod.Namespace+"/"+vol.Claim]; pvc != nil {
			vol.PV = pvc.Spec.VolumeName
			for _, m := range pvc.Spec.AccessModes {
				vol.AccessModes = append(vol.AccessModes, string(m))
			}
		}
		if vol.PV != "" {
			vol.Attachments = idx.attach[vol.PV]
			vol.NoAttach = !idx.attaches(idx.pvs[vol.PV])
			if pv := idx.pvs[vol.PV]; pv != nil && pv.Spec.NodeAffinity != nil && pv.Spec.NodeAffinity.Required != nil {
				vol.NodeAffinity = describeSelector(pv.Spec.NodeAffinity.Required)
				vol.NoReadyNode = idx.nodesKnown && !idx.anyReadyNode(pv.Spec.NodeAffinity.Required)
			}
		}
		for i := len(evs) - 1; i >= 0; i-- {
			ev := evs[i]
			if (ev.Reason == eventFailedMount || ev.Reason == eventFailedAttach) &&
				(strings.Contains(ev.Message, v.Name) || (vol.PV != "" && strings.Contains(ev.Message, vol.PV))) {
				e := ev
				vol.LastEvent = &e
				break
			}
		}
		d.Volumes = append(d.Volumes, vol)
	}
	return d
}

// classify derives what the decision needs from the facts.
func classify(d *Driver, pod *corev1.Pod, idx *index) *driverState {
	s := &driverState{Driver: d, pod: pod}
	if pod.DeletionTimestamp != nil {
		s.terminating = pod.DeletionTimestamp.Time
	}
	s.Ended = pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
	if pod.Spec.NodeName != "" && idx.nodesKnown {
		n := idx.nodes[pod.Spec.NodeName]
		s.NodeLost, s.NodeFenced = idx.nodeLost(pod.Spec.NodeName)
		if !s.NodeLost && d.Deleted != nil && d.NodeHeartbeat != nil && d.NodeHeartbeat.After(*d.Deleted) {
			s.rejoined = true
		}
		if n != nil && pod.DeletionTimestamp != nil {
			if c := nodeCondition(n, corev1.NodeReady); c != nil && c.Status == corev1.ConditionTrue && c.LastTransitionTime.After(s.terminating) {
				s.terminating = c.LastTransitionTime.Time
			}
		}
	}
	// Without the right to list nodes a deleted driver that has not stopped
	// may be on a lost node: assume the worst, the reason says why.
	if !idx.nodesKnown && pod.Spec.NodeName != "" && d.Deleted != nil && !s.Ended && !d.ContainersStopped {
		s.NodeLost = true
	}
	switch {
	case s.Ended || pod.Spec.NodeName == "" || s.NodeFenced:
	case s.NodeLost:
		// What the API shows of a lost node's pod is stale: it may run.
		s.MayRun = true
	default:
		s.MayRun = pod.Status.Phase == corev1.PodRunning && !d.ContainersStopped
	}
	if !s.Ended && !s.MayRun && pod.Spec.NodeName == "" && len(d.Volumes) > 0 {
		// Not scheduled: a ReadWriteOncePod claim still used by the old
		// driver keeps the scheduler from placing it.
		for i := len(d.Events) - 1; i >= 0; i-- {
			if d.Events[i].Reason == "FailedScheduling" {
				v := &d.Volumes[0]
				if v.LastEvent == nil {
					e := d.Events[i]
					v.LastEvent = &e
				}
				s.blocked = v
				break
			}
		}
	}
	if !s.Ended && !s.MayRun && pod.Spec.NodeName != "" {
		for i := range d.Volumes {
			v := &d.Volumes[i]
			elsewhere := false
			for _, at := range v.Attachments {
				if at.Node != pod.Spec.NodeName {
					elsewhere = true
				}
			}
			if elsewhere || v.LastEvent != nil {
				s.blocked = v
				break
			}
		}
	}
	return s
}

// ContainersStopped says whether the pod's kubelet reported every container terminated, or the
// pod is terminal: what a driver must show before it counts as stopped.
func ContainersStopped(pod *corev1.Pod) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return true
	}
	if len(pod.Status.ContainerStatuses) == 0 {
		return false
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.State.Terminated == nil {
			return false
		}
	}
	return true
}

// attaches says whether a PV is attached to a node before it is mounted, as the attach/detach
// controller decides (pkg/volume/util/operationexecutor and each plugin's CanAttach): a CSI
// volume when its CSIDriver says attachRequired (true by default, and when no CSIDriver object
// exists: pkg/volume/csi/csi_attacher.go isAttachRequired); an in-tree volume when its plugin
// is attachable. NFS, hostPath, local, CephFS and Azure File are not (they implement no
// AttachableVolumePlugin); an unknown PV counts as attaching, so nothing is skipped on doubt.
func (idx *index) attaches(pv *corev1.PersistentVolume) bool {
	if pv == nil {
		return true
	}
	src := pv.Spec.PersistentVolumeSource
	switch {
	case src.CSI != nil:
		required, known := idx.csiAttach[src.CSI.Driver]
		return !known || required
	case src.NFS != nil, src.HostPath != nil, src.Local != nil, src.CephFS != nil, src.AzureFile != nil:
		return false
	}
	return true
}

// driverFor finds the driver pod of an executor pod: its owner by UID first,
// then the driver whose generation app ID its spark-app-selector label names
// (the newest created before it, for drivers sharing one label).
func driverFor(e *corev1.Pod, pods []*corev1.Pod) *corev1.Pod {
	if uid := sparkapp.OwnerPodUID(e); uid != "" {
		for _, p := range pods {
			if p.UID == uid {
				return p
			}
		}
		return nil
	}
	var best *corev1.Pod
	id := e.Labels[sparkapp.LabelAppSelector]
	for _, p := range pods {
		if id == "" || sparkapp.DriverAppID(p) != id {
			continue
		}
		if best == nil || (!p.CreationTimestamp.After(e.CreationTimestamp.Time) && p.CreationTimestamp.After(best.CreationTimestamp.Time)) {
			best = p
		}
	}
	return best
}

// assignExecutors gives every executor pod to its app: with its driver
// generation, or as an orphan of an app whose driver pod is gone (found by
// its spark-app-name label or its owner's name, a Job's pod name).
func assignExecutors(s *Snapshot, apps map[appKey]*appBuild) {
	var pods []*corev1.Pod
	owner := map[types.UID]*appBuild{}
	for _, a := range apps {
		for _, p := range a.pods {
			pods = append(pods, p)
			owner[p.UID] = a
		}
	}
	for i := range s.ExecutorPods {
		e := &s.ExecutorPods[i]
		if d := driverFor(e, pods); d != nil {
			owner[d.UID].execs = append(owner[d.UID].execs, e)
			continue
		}
		if sparkapp.OwnerPodUID(e) == "" {
			continue // not a driver's executor we can place
		}
		var a *appBuild
		if n := e.Labels[sparkapp.LabelAppName]; n != "" {
			a = apps[appKey{e.Namespace, n}]
		}
		for _, o := range e.OwnerReferences {
			if i := strings.LastIndex(o.Name, "-"); a == nil && o.Kind == "Pod" && i > 0 {
				a = apps[appKey{e.Namespace, o.Name[:i]}]
			}
		}
		if a != nil {
			a.orphans = append(a.orphans, e)
		}
	}
}

// nodeLost says whether a node is lost (not Ready, tainted unreachable or not-ready with
// NoExecute, or gone) and whether it is fenced (the out-of-service taint). Nodes must be known.
func (idx *index) nodeLost(name string) (lost, fenced bool) {
	n := idx.nodes[name]
	if n == nil {
		return true, false
	}
	lost = NodeReady(n) != string(corev1.ConditionTrue)
	for _, t := range n.Spec.Taints {
		switch t.Key {
		case corev1.TaintNodeUnreachable, corev1.TaintNodeNotReady:
			lost = lost || t.Effect == corev1.TaintEffectNoExecute
		case corev1.TaintNodeOutOfService:
			fenced = true
		}
	}
	return lost, fenced
}

// describeExecutor collects the facts of one executor pod. driverDown says whether
// its driver is gone, deleted, ended or fenced.
func describeExecutor(e *corev1.Pod, idx *index, driverDown bool) Executor {
	x := Executor{Pod: e.Name, UID: string(e.UID), ID: e.Labels[sparkapp.LabelExecID], Node: e.Spec.NodeName, Phase: string(e.Status.Phase), Status: KubectlStatus(e)}
	if e.DeletionTimestamp != nil {
		t := e.DeletionTimestamp.Time
		if e.DeletionGracePeriodSeconds != nil {
			t = t.Add(-time.Duration(*e.DeletionGracePeriodSeconds) * time.Second)
		}
		x.Deleted = &t
	}
	if e.Spec.NodeName != "" && idx.nodesKnown {
		x.NodeReady = "Missing"
		if n := idx.nodes[e.Spec.NodeName]; n != nil {
			x.NodeReady = NodeReady(n)
		}
		x.NodeLost, x.NodeFenced = idx.nodeLost(e.Spec.NodeName)
	}
	runs := e.Status.Phase == corev1.PodRunning && !ContainersStopped(e)
	x.Stray = driverDown && runs && e.DeletionTimestamp == nil && x.NodeReady == string(corev1.ConditionTrue)
	return x
}

func sortExecutors(xs []Executor) {
	sort.SliceStable(xs, func(i, j int) bool {
		a, errA := strconv.Atoi(xs[i].ID)
		b, errB := strconv.Atoi(xs[j].ID)
		if errA == nil && errB == nil && a != b {
			return a < b
		}
		return xs[i].Pod < xs[j].Pod
	})
}

func countExecutors(xs []Executor) *ExecutorCounts {
	if len(xs) == 0 {
		return nil
	}
	c := &ExecutorCounts{Total: len(xs), ByPhase: map[string]int{}}
	nodes := map[string]bool{}
	for _, x := range xs {
		phase := x.Phase
		if phase == "" {
			phase = string(corev1.PodPending)
		}
		if x.Deleted != nil && phase != string(corev1.PodFailed) && phase != string(corev1.PodSucceeded) {
			phase = "Terminating"
		}
		c.ByPhase[phase]++
		if x.Phase == string(corev1.PodRunning) && x.Status == string(corev1.PodRunning) && x.Deleted == nil {
			c.Running++
		}
		if x.Node != "" && !nodes[x.Node] {
			nodes[x.Node] = true
			c.Nodes = append(c.Nodes, x.Node)
		}
	}
	sort.Strings(c.Nodes)
	return c
}

// finishing: the driver was deleted on a Ready node, not long ago: its kubelet
// is stopping it, and its executors will disconnect and be collected, as in
// any ordinary deletion. Not worth a warning (yet).
func (d *driverState) finishing(now time.Time) bool {
	return d.Deleted != nil && !d.NodeLost && !d.NodeFenced && d.NodeReady == string(corev1.ConditionTrue) &&
		now.Sub(d.terminating) <= stuckAfter
}

// executors lists each generation's executors, and flags those that run on
// Ready nodes while their driver is gone, deleted, ended or fenced: they
// can keep writing to sinks with nothing in charge of them. The verdict
// becomes StrayExecutors only when no other needs attention.
func (a *appBuild) executors(ds []*driverState, idx *index, now time.Time) {
	byUID := map[types.UID]int{}
	for i, d := range ds {
		byUID[d.pod.UID] = i
	}
	for _, e := range a.execs {
		d := driverFor(e, a.pods)
		i := byUID[d.UID]
		down := (ds[i].Ended || ds[i].NodeFenced || ds[i].Deleted != nil) && !ds[i].finishing(now)
		a.Drivers[i].Executors = append(a.Drivers[i].Executors, describeExecutor(e, idx, down))
	}
	var warnings, commands []string
	flag := func(xs []Executor, what string) {
		var names, nodes []string
		ids := map[string]bool{}
		for _, x := range xs {
			if x.Stray {
				names = append(names, x.Pod)
				if !slices.Contains(nodes, x.Node) {
					nodes = append(nodes, x.Node)
				}
			}
		}
		if len(names) == 0 {
			return
		}
		sort.Strings(nodes)
		subject, verb, where, they := "executors", "run", "nodes", "they"
		if len(names) == 1 {
			subject, verb, they = "executor", "runs", "it"
		}
		if len(nodes) == 1 {
			where = "node"
		}
		warnings = append(warnings, fmt.Sprintf("%s %s of %s still %s on Ready %s %s: %s can keep writing to sinks",
			subject, strings.Join(names, ", "), what, verb, where, strings.Join(nodes, ", "), they))
		for _, e := range append(append([]*corev1.Pod{}, a.execs...), a.orphans...) {
			if slices.Contains(names, e.Name) && !ids[e.Labels[sparkapp.LabelAppSelector]] {
				ids[e.Labels[sparkapp.LabelAppSelector]] = true
				sel := sparkapp.LabelSparkRole + "=" + sparkapp.RoleExecutor
				if id := e.Labels[sparkapp.LabelAppSelector]; id != "" {
					sel += "," + sparkapp.LabelAppSelector + "=" + id
				}
				commands = append(commands, fmt.Sprintf("kubectl delete pod -n %s -l %s", a.Namespace, sel))
			}
		}
	}
	for i := range a.Drivers {
		d := &a.Drivers[i]
		sortExecutors(d.Executors)
		d.ExecutorCounts = countExecutors(d.Executors)
		what := fmt.Sprintf("driver generation %d (%s, ", d.Generation, d.Pod)
		switch {
		case ds[i].finishing(now):
			continue
		case ds[i].NodeFenced:
			what += "on fenced node " + d.Node + ")"
		case d.Deleted != nil:
			what += "deleted)"
		case ds[i].Ended:
			what += "ended " + d.Phase + ")"
		default:
			continue
		}
		flag(d.Executors, what)
	}
	owners := map[string][]Executor{}
	for _, e := range a.orphans {
		x := describeExecutor(e, idx, true)
		a.OrphanExecutors = append(a.OrphanExecutors, x)
		for _, o := range e.OwnerReferences {
			if o.Kind == "Pod" {
				owners[o.Name] = append(owners[o.Name], x)
			}
		}
	}
	sortExecutors(a.OrphanExecutors)
	var gone []string
	for o := range owners {
		gone = append(gone, o)
	}
	sort.Strings(gone)
	for _, o := range gone {
		sortExecutors(owners[o])
		flag(owners[o], "driver pod "+o+" (gone)")
	}
	if len(warnings) > 0 {
		next := strings.Join(commands, " && ") + " (or wait for the garbage collector: it deletes them once their driver pod is gone)"
		for i := range warnings {
			a.Warnings = append(a.Warnings, warnings[i]+"; "+next)
		}
		if !a.Verdict.NeedsAttention() {
			a.set(StrayExecutors, strings.Join(warnings, "; "), next)
		}
	}
	a.lostExecutors(idx)
}

// lostExecutors flags the executors of a running driver that are on a lost node: Spark counts
// them as its executors as long as their pods are in the API (an evicted pod stays Running
// while its kubelet is away: ExecutorPodsSnapshot.isDeleted needs the pod gone or its phase
// final), so it asks for no others and the tasks that need them wait. Only a fence frees them
// while the node is away: the out-of-service taint lets the taint manager evict them and the
// pod garbage collector delete them.
func (a *appBuild) lostExecutors(idx *index) {
	if !idx.nodesKnown {
		return
	}
	for i := range a.Drivers {
		d := &a.Drivers[i]
		if !d.runsOnAHealthyNode() {
			continue
		}
		byNode := map[string][]string{}
		for _, x := range d.Executors {
			if x.NodeLost && !x.Ended() {
				byNode[x.Node] = append(byNode[x.Node], x.Pod)
			}
		}
		if len(byNode) == 0 {
			continue
		}
		nodes := slices.Sorted(maps.Keys(byNode))
		node := nodes[0]
		what := fmt.Sprintf("executor %s", byNode[node][0])
		if len(byNode[node]) > 1 {
			what = "executors " + strings.Join(byNode[node], ", ")
		}
		failover := "kubectl sparkha failover " + a.target()
		_, fenced := idx.nodeLost(node)
		reason := fmt.Sprintf("driver %s runs on %s, but %s of it %s on lost node %s (%s): Spark counts %s as running until %s gone from the API, asks for no other executor, and tasks wait",
			d.Pod, d.Node, what, isAre(byNode[node]), node, nodeSummaryOf(idx, node), themIt(byNode[node]), podsAre(byNode[node]))
		next := idx.lostNodeNext(node, failover)
		if fenced {
			reason = fmt.Sprintf("driver %s runs on %s; node %s of %s is fenced (%s): Kubernetes force-deletes %s, then Spark asks for other executors",
				d.Pod, d.Node, node, what, corev1.TaintNodeOutOfService, themIt(byNode[node]))
			next = failover
		}
		if len(nodes) > 1 {
			reason += "; executors are on other lost nodes too: " + strings.Join(nodes[1:], ", ")
		}
		if a.Verdict == Healthy {
			a.LostNode = node
			a.set(ExecutorsOnLostNode, reason, next)
		} else if a.LostNode != node {
			a.Warnings = append(a.Warnings, reason+"; next: "+next)
		}
		return
	}
}

// runsOnAHealthyNode says whether the driver may run, on a node that is not lost, and is not
// being deleted (an ended driver never may run): the driver lost executors can hold back.
func (d Driver) runsOnAHealthyNode() bool { return d.MayRun && !d.NodeLost && d.Deleted == nil }

func isAre(xs []string) string {
	if len(xs) == 1 {
		return "is"
	}
	return "are"
}

func themIt(xs []string) string {
	if len(xs) == 1 {
		return "it"
	}
	return "them"
}

func podsAre(xs []string) string {
	if len(xs) == 1 {
		return "its pod is"
	}
	return "their pods are"
}

// nodeSummaryOf summarizes a node by name, one that is gone too.
func nodeSummaryOf(idx *index, name string) string {
	if n := idx.nodes[name]; n != nil {
		return summarizeNode(NodeReady(n), nodeTaints(n))
	}
	return summarizeNode("Missing", nil)
}
