package safetyfuzz_test

// FuzzAnalyze builds a random but well-formed Snapshot from the fuzz bytes (nodes with random
// Ready status, heartbeats, leases and taints; driver pods with random owners, labels, phases,
// container states, deletion timestamps, DisruptionTarget conditions, node names and claims;
// Jobs, PVCs, PVs, VolumeAttachments, warning events; kinds hidden as Forbidden), runs
// analysis.Analyze and analysis.Decide, renders every human format, and checks the safety
// properties that must hold whatever the cluster looks like.
//
// The bytes are read through a tape (see shape.walk); the same walk writes a tape from a
// captured snapshot (encodeFixture), so the seed corpus testdata/fuzz/FuzzAnalyze holds the
// shapes of every sandbox fixture (internal/fixture), and TestFuzzSeedsAreFixtureShapes
// checks that each seed still decodes to a snapshot with the fixture's verdict.

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/render"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

var writeSeeds = flag.Bool("write-fuzz-seeds", false, "rewrite testdata/fuzz/FuzzAnalyze/fixture-* from the sandbox fixtures")

// allVerdicts is the documented set (inspect --help, report.go).
var allVerdicts = map[analysis.Verdict]bool{
	analysis.Healthy: true, analysis.Starting: true, analysis.Finished: true, analysis.DriverAtRisk: true,
	analysis.StuckTerminating: true, analysis.ReplacementBlocked: true, analysis.SplitBrainRisk: true, analysis.StrayExecutors: true, analysis.ExecutorsOnLostNode: true,
	analysis.SafeToComplete: true, analysis.RetriesExhausted: true,
}

func FuzzAnalyze(f *testing.F) {
	f.Add([]byte{})
	// One Ready node, one sparkha Job, its driver Running there.
	f.Add([]byte{0, 1, 1, 0, 10, 0, 1, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 2, 1, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := decodeShape(data)
		snap, now := s.snapshot()
		checkAnalysis(t, snap, now)
	})
}

// checkAnalysis runs the analysis and the planner on snap and fails t on any broken property.
func checkAnalysis(t *testing.T, snap *analysis.Snapshot, now time.Time) *analysis.Report {
	t.Helper()
	rep := analysis.Analyze(snap, now)
	again, _ := json.Marshal(analysis.Analyze(snap, now))
	if first, _ := json.Marshal(rep); !bytes.Equal(first, again) {
		t.Fatalf("Analyze is not deterministic:\n%s\n%s", first, again)
	}
	// Ground truth from the snapshot itself, not from the report.
	ready := map[string]bool{}
	for _, n := range snap.Nodes {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready[n.Name] = true
			}
		}
	}
	pods := 0
	for _, a := range rep.Apps {
		pods += len(a.Drivers)
		if !allVerdicts[a.Verdict] {
			t.Fatalf("app %s/%s: verdict %q is not a documented verdict", a.Namespace, a.Name, a.Verdict)
		}
		if a.Reason == "" || a.NextAction == "" {
			t.Fatalf("app %s/%s (%s): empty reason %q or next action %q", a.Namespace, a.Name, a.Verdict, a.Reason, a.NextAction)
		}
		for _, nodeDown := range []bool{false, true} {
			p := analysis.Decide(a, analysis.Operator{NodeDown: nodeDown})
			switch p.Outcome {
			case analysis.Refuse, analysis.NothingToDo:
				if p.Message == "" || len(p.Steps) > 0 {
					t.Fatalf("app %s/%s (%s): %s with message %q and steps %+v", a.Namespace, a.Name, a.Verdict, p.Outcome, p.Message, p.Steps)
				}
			case analysis.Act:
			default:
				t.Fatalf("app %s/%s: outcome %q", a.Namespace, a.Name, p.Outcome)
			}
			for _, st := range p.Steps {
				switch st.Action {
				case analysis.FenceNode:
					stranded := slices.ContainsFunc(a.Drivers, func(d analysis.Driver) bool {
						return slices.ContainsFunc(d.Volumes, func(v analysis.Volume) bool { return v.NoReadyNode })
					})
					alive := a.LostNodeEvidence != nil && a.LostNodeEvidence.Alive != ""
					if st.Node == "" || ready[st.Node] || !nodeDown || (stranded && a.Verdict == analysis.ReplacementBlocked) || alive {
						t.Fatalf("app %s/%s (%s: %s): fences node %q (Ready=%t, --node-down=%t)", a.Namespace, a.Name, a.Verdict, a.Reason, st.Node, ready[st.Node], nodeDown)
					}
				case analysis.FinishOldDriver:
					var d *analysis.Driver
					for i := range a.Drivers {
						if a.Drivers[i].UID == st.PodUID && a.Drivers[i].Pod == st.Pod {
							d = &a.Drivers[i]
						}
					}
					if d == nil || !d.ContainersStopped || p.Outcome != analysis.Act {
						t.Fatalf("app %s/%s (%s): finishes driver %s whose containers are not reported stopped: %+v", a.Namespace, a.Name, a.Verdict, st.Pod, d)
					}
				case analysis.CollectOldDriver:
					// Only on the operator's word, for a driver of this app on a node that is
					// not Ready and is fenced, or fenced by this very plan.
					var d *analysis.Driver
					for i := range a.Drivers {
						if a.Drivers[i].UID == st.PodUID && a.Drivers[i].Pod == st.Pod {
							d = &a.Drivers[i]
						}
					}
					fencedHere := slices.ContainsFunc(p.Steps, func(s analysis.Step) bool { return s.Action == analysis.FenceNode && s.Node == st.Node })
					if !nodeDown || d == nil || d.Node != st.Node || ready[st.Node] || d.Ended || !(d.NodeFenced || fencedHere) {
						t.Fatalf("app %s/%s (%s): collects driver %s on node %s (Ready=%t, --node-down=%t): %+v", a.Namespace, a.Name, a.Verdict, st.Pod, st.Node, ready[st.Node], nodeDown, d)
					}
				case analysis.CollectExecutor:
					// Only on the operator's word, for a running executor of this app on a node
					// that is not Ready and is fenced, or fenced by this very plan.
					var x *analysis.Executor
					for _, d := range a.Drivers {
						for i := range d.Executors {
							if d.Executors[i].UID == st.PodUID && d.Executors[i].Pod == st.Pod {
								x = &d.Executors[i]
							}
						}
					}
					fencedHere := slices.ContainsFunc(p.Steps, func(s analysis.Step) bool { return s.Action == analysis.FenceNode && s.Node == st.Node })
					if !nodeDown || x == nil || x.Node != st.Node || ready[st.Node] || !(x.NodeFenced || fencedHere) {
						t.Fatalf("app %s/%s (%s): collects executor %s on node %s (Ready=%t, --node-down=%t): %+v", a.Namespace, a.Name, a.Verdict, st.Pod, st.Node, ready[st.Node], nodeDown, x)
					}
				default:
					t.Fatalf("unknown step %+v", st)
				}
			}
		}
	}
	// A stray executor runs on a Ready node, and its app needs attention. ExecutorsOnLostNode
	// names a lost node that holds an executor of a driver that runs elsewhere.
	for _, a := range rep.Apps {
		if a.Verdict == analysis.ExecutorsOnLostNode && !slices.ContainsFunc(a.Drivers, func(d analysis.Driver) bool {
			return d.MayRun && !d.NodeLost && slices.ContainsFunc(d.Executors, func(x analysis.Executor) bool { return x.Node == a.LostNode && x.NodeLost })
		}) {
			t.Fatalf("app %s/%s: ExecutorsOnLostNode without an executor of a running driver on lost node %q: %+v", a.Namespace, a.Name, a.LostNode, a.Drivers)
		}
		var xs []analysis.Executor
		for _, d := range a.Drivers {
			xs = append(xs, d.Executors...)
			if c := d.ExecutorCounts; (c == nil) != (len(d.Executors) == 0) || (c != nil && c.Total != len(d.Executors)) {
				t.Fatalf("app %s/%s: driver %s counts %+v for %d executors", a.Namespace, a.Name, d.Pod, c, len(d.Executors))
			}
		}
		for _, x := range append(xs, a.OrphanExecutors...) {
			if x.Stray && (!ready[x.Node] || !a.Verdict.NeedsAttention() || len(a.Warnings) == 0) {
				t.Fatalf("app %s/%s (%s): stray executor %+v on a node not Ready, or not reported", a.Namespace, a.Name, a.Verdict, x)
			}
		}
	}
	if pods != len(snap.DriverPods) {
		t.Fatalf("%d driver pods in the snapshot, %d in the report", len(snap.DriverPods), pods)
	}
	var buf bytes.Buffer
	opts := render.Options{AllNamespaces: true, Now: now}
	for _, fn := range []func() error{
		func() error { return render.Table(&buf, rep, opts) },
		func() error { return render.Tree(&buf, rep, opts) },
	} {
		if err := fn(); err != nil {
			t.Fatalf("render: %v", err)
		}
	}
	for _, a := range rep.Apps {
		if err := render.Timeline(&buf, analysis.Timeline(snap, a)); err != nil {
			t.Fatalf("timeline: %v", err)
		}
	}
	return rep
}

// ---- The tape: one walk both reads a shape from bytes and writes a shape as bytes. ----

type tape struct {
	in    []byte
	write bool
	out   []byte
}

func (t *tape) u8(v *uint8) {
	if t.write {
		t.out = append(t.out, *v)
		return
	}
	*v = 0
	if len(t.in) > 0 {
		*v, t.in = t.in[0], t.in[1:]
	}
}

func (t *tape) u16(v *uint16) {
	hi, lo := uint8(*v>>8), uint8(*v)
	t.u8(&hi)
	t.u8(&lo)
	*v = uint16(hi)<<8 | uint16(lo)
}

func walkSlice[T any, P interface {
	*T
	walk(*tape)
}](t *tape, s *[]T, limit int) {
	n := uint8(len(*s))
	t.u8(&n)
	if !t.write {
		*s = make([]T, int(n)%(limit+1))
	}
	for i := range *s {
		P(&(*s)[i]).walk(t)
	}
}

// Limits of a generated snapshot; names come from small pools so that objects refer to each other.
const (
	maxNodes, maxNodeNames = 4, 5 // node-4 is never listed: a pod there has a Missing node
	maxPods                = 5
	maxJobs, maxApps       = 4, 4
	maxNamespaces          = 2
	maxClaims, maxPVs      = 4, 4
	maxZones               = 3
	maxAttachments         = 4
	maxEvents              = 8
	maxPodVolumes          = 2
	maxExecutors           = 6
)

var unavailableKinds = []string{"nodes", "leases", "jobs", "persistentvolumeclaims", "persistentvolumes", "volumeattachments", "events"}

type shape struct {
	Unavailable uint8 // bit i: unavailableKinds[i] is Forbidden
	Nodes       []nodeShape
	Jobs        []jobShape
	Pods        []podShape
	Claims      []claimShape
	PVs         []pvShape
	Attachments []attachShape
	Events      []eventShape
	Executors   []execShape
}

type execShape struct {
	Driver  uint8 // below maxPods: owned by pod drv-n; else a gone driver of app-(n-maxPods)
	NS      uint8 // for a gone driver
	Node    uint8 // 0 not scheduled, else node-(n-1)
	Phase   uint8 // "", Pending, Running, Succeeded, Failed
	Deleted uint8 // 0 not deleted
}

func (e *execShape) walk(t *tape) {
	for _, v := range []*uint8{&e.Driver, &e.NS, &e.Node, &e.Phase, &e.Deleted} {
		t.u8(v)
	}
}

type nodeShape struct {
	Ready     uint8  // 0 no Ready condition, 1 True, 2 False, 3 Unknown
	Heartbeat uint16 // seconds before now
	Taints    uint8  // bits: unreachable NoExecute, NoSchedule; not-ready NoExecute, NoSchedule; out-of-service NoExecute
	Lease     uint8  // 0 none, 1 never renewed, else renewed
	Renew     uint16
	Since     uint16 // the Ready condition's last transition, seconds before now
	Zone      uint8  // 0 no zone label, else topology.kubernetes.io/zone=zone-(Zone-1)
	Cordon    uint8  // odd: spec.unschedulable
}

type jobShape struct {
	NS, App   uint8
	Labels    uint8 // bit0 managed-by kubectl-sparkha, bit1 template spark-role=driver
	Condition uint8 // 0 none, 1 Complete, 2 Failed, 3 Complete=False
	Active    uint8
	Failed    uint8
	Term      uint8 // 0 not reported, else n-1
	Backoff   uint8 // 0 not set, else n-1
	Policy    uint8 // 0 not set, 1 Failed, 2 TerminatingOrFailed
}

type podShape struct {
	NS         uint8
	Owner      uint8 // 0 none, 1 batch/v1 Job, 2 Job of another API version, 3 ReplicaSet
	OwnerApp   uint8
	Labels     uint8 // bit0 spark-app-name, bit1 operator app-name, bit2 managed-by kubectl-sparkha, bit3 spark-app-selector
	LabelApp   uint8
	Node       uint8 // 0 not scheduled, else node-(n-1)
	Phase      uint8 // "", Pending, Running, Succeeded, Failed, Unknown
	Containers uint8 // none, running, terminated, waiting, running+terminated, terminated by signal, running not ready
	Reason     uint8 // 0 none, 1 NodeLost, 2 Evicted
	Created    uint16
	Deleted    uint8 // 0 not deleted, else grace period: 1 none given, 2 0s, 3 30s, 4 5s
	DeletedAt  uint16
	Disruption uint8 // 0 none, 1 True DeletionByTaintManager, 2 False, 3 True other reason
	Volumes    []volumeShape
}

type volumeShape struct {
	Claim uint8 // 0 not a claim (emptyDir), else claim-(n-1)
}

type claimShape struct {
	NS, Name uint8
	PV       uint8 // 0 unbound, else pv-(n-1)
	Mode     uint8 // 0 none, RWOP, RWO, RWX
}

type pvShape struct {
	Name uint8
	// Pin is the PV's required node affinity: 0 none, 1 kubernetes.io/hostname in (node Target),
	// 2 topology.kubernetes.io/zone in (zone-Target).
	Pin, Target uint8
}

type attachShape struct {
	PV       uint8 // 0 no PV source (inline), else pv-(n-1)
	Node     uint8 // node-n (may be absent)
	Attached uint8
	Deleting uint8
}

type eventShape struct {
	Pod     uint8 // index into the pods; beyond them: an unrelated pod
	Flags   uint8 // bit0 UID differs, bit1 Normal instead of Warning, bit2 about a Node instead
	Reason  uint8 // FailedMount, FailedAttachVolume, NodeNotReady, FailedScheduling
	Message uint8 // 0..1 names pod volume vol-n, 2..5 names pv-(n-2), else unrelated
	Time    uint8 // 0 lastTimestamp, 1 eventTime, 2 series, 3 firstTimestamp only
	At      uint16
	Count   uint8
}

func (s *shape) walk(t *tape) {
	t.u8(&s.Unavailable)
	walkSlice(t, &s.Nodes, maxNodes)
	walkSlice(t, &s.Jobs, maxJobs)
	walkSlice(t, &s.Pods, maxPods)
	walkSlice(t, &s.Claims, maxClaims)
	walkSlice(t, &s.PVs, maxPVs)
	walkSlice(t, &s.Attachments, maxAttachments)
	walkSlice(t, &s.Events, maxEvents)
	walkSlice(t, &s.Executors, maxExecutors)
}

func (n *nodeShape) walk(t *tape) {
	t.u8(&n.Ready)
	t.u16(&n.Heartbeat)
	t.u8(&n.Taints)
	t.u8(&n.Lease)
	t.u16(&n.Renew)
	t.u16(&n.Since)
	t.u8(&n.Zone)
	t.u8(&n.Cordon)
}

func (j *jobShape) walk(t *tape) {
	for _, v := range []*uint8{&j.NS, &j.App, &j.Labels, &j.Condition, &j.Active, &j.Failed, &j.Term, &j.Backoff, &j.Policy} {
		t.u8(v)
	}
}

func (p *podShape) walk(t *tape) {
	for _, v := range []*uint8{&p.NS, &p.Owner, &p.OwnerApp, &p.Labels, &p.LabelApp, &p.Node, &p.Phase, &p.Containers, &p.Reason} {
		t.u8(v)
	}
	t.u16(&p.Created)
	t.u8(&p.Deleted)
	t.u16(&p.DeletedAt)
	t.u8(&p.Disruption)
	walkSlice(t, &p.Volumes, maxPodVolumes)
}

func (v *volumeShape) walk(t *tape) { t.u8(&v.Claim) }

func (c *claimShape) walk(t *tape) {
	for _, v := range []*uint8{&c.NS, &c.Name, &c.PV, &c.Mode} {
		t.u8(v)
	}
}

func (p *pvShape) walk(t *tape) {
	t.u8(&p.Name)
	t.u8(&p.Pin)
	t.u8(&p.Target)
}

func (a *attachShape) walk(t *tape) {
	for _, v := range []*uint8{&a.PV, &a.Node, &a.Attached, &a.Deleting} {
		t.u8(v)
	}
}

func (e *eventShape) walk(t *tape) {
	for _, v := range []*uint8{&e.Pod, &e.Flags, &e.Reason, &e.Message, &e.Time} {
		t.u8(v)
	}
	t.u16(&e.At)
	t.u8(&e.Count)
}

func decodeShape(data []byte) *shape {
	s := &shape{}
	s.walk(&tape{in: data})
	return s
}

func (s *shape) encode() []byte {
	t := &tape{write: true}
	s.walk(t)
	return t.out
}

// ---- shape → Snapshot ----

var fuzzNow = time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)

func ago(secs uint16) metav1.Time {
	return metav1.NewTime(fuzzNow.Add(-time.Duration(secs) * time.Second))
}

func nsName(b uint8) string    { return fmt.Sprintf("ns-%d", int(b)%maxNamespaces) }
func appName(b uint8) string   { return fmt.Sprintf("app-%d", int(b)%maxApps) }
func nodeName(b uint8) string  { return fmt.Sprintf("node-%d", int(b)%maxNodeNames) }
func claimName(b uint8) string { return fmt.Sprintf("claim-%d", int(b)%maxClaims) }
func pvName(b uint8) string    { return fmt.Sprintf("pv-%d", int(b)%maxPVs) }
func zoneName(b uint8) string  { return fmt.Sprintf("zone-%d", int(b)%maxZones) }

func (s *shape) snapshot() (*analysis.Snapshot, time.Time) {
	snap := &analysis.Snapshot{DriverPods: []corev1.Pod{}}
	hidden := func(kind string) bool {
		for i, k := range unavailableKinds {
			if k == kind {
				return s.Unavailable&(1<<i) != 0
			}
		}
		return false
	}
	for i, n := range s.Nodes {
		node := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName(uint8(i)), UID: types.UID(fmt.Sprintf("node-uid-%d", i)),
			Labels: map[string]string{corev1.LabelHostname: nodeName(uint8(i))}}}
		if n.Zone != 0 {
			node.Labels[corev1.LabelTopologyZone] = zoneName(n.Zone - 1)
		}
		node.Spec.Unschedulable = n.Cordon%2 == 1
		if st := int(n.Ready) % 4; st > 0 {
			status := []corev1.ConditionStatus{corev1.ConditionTrue, corev1.ConditionFalse, corev1.ConditionUnknown}[st-1]
			node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status, LastHeartbeatTime: ago(n.Heartbeat), LastTransitionTime: ago(n.Since)}}
		}
		for bit, tn := range []corev1.Taint{
			{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute},
			{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
			{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute},
			{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule},
			{Key: corev1.TaintNodeOutOfService, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute},
		} {
			if n.Taints&(1<<bit) != 0 {
				tn.TimeAdded = ptr.To(ago(n.Heartbeat))
				node.Spec.Taints = append(node.Spec.Taints, tn)
			}
		}
		if !hidden("nodes") {
			snap.Nodes = append(snap.Nodes, node)
		}
		if n.Lease != 0 && !hidden("leases") {
			l := coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: node.Name, Namespace: corev1.NamespaceNodeLease}}
			if n.Lease != 1 {
				l.Spec.RenewTime = &metav1.MicroTime{Time: ago(n.Renew).Time}
			}
			snap.Leases = append(snap.Leases, l)
		}
	}
	for i, j := range s.Jobs {
		job := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: appName(j.App), Namespace: nsName(j.NS), UID: types.UID(fmt.Sprintf("job-uid-%d", i))}}
		if j.Labels&1 != 0 {
			job.Labels = map[string]string{sparkapp.LabelManagedBy: sparkapp.ManagedBy}
		}
		if j.Labels&2 != 0 {
			job.Spec.Template.Labels = map[string]string{sparkapp.LabelSparkRole: sparkapp.RoleDriver, sparkapp.LabelAppName: job.Name}
		}
		switch j.Condition % 4 {
		case 1:
			job.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
		case 2:
			job.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}}
		case 3:
			job.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionFalse}}
		}
		job.Status.Active, job.Status.Failed = int32(j.Active%4), int32(j.Failed)
		if j.Term != 0 {
			job.Status.Terminating = ptr.To(int32(j.Term - 1))
		}
		if j.Backoff != 0 {
			job.Spec.BackoffLimit = ptr.To(int32(j.Backoff - 1))
		}
		switch j.Policy % 3 {
		case 1:
			job.Spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
		case 2:
			job.Spec.PodReplacementPolicy = ptr.To(batchv1.TerminatingOrFailed)
		}
		if !hidden("jobs") {
			snap.Jobs = append(snap.Jobs, job)
		}
	}
	for i, p := range s.Pods {
		pod := corev1.Pod{ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("drv-%d", i), Namespace: nsName(p.NS), UID: types.UID(fmt.Sprintf("uid-%d", i)),
			CreationTimestamp: ago(p.Created), Labels: map[string]string{sparkapp.LabelSparkRole: sparkapp.RoleDriver},
		}}
		switch p.Owner % 4 {
		case 1:
			pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: appName(p.OwnerApp), Controller: ptr.To(true)}}
			pod.Labels[batchv1.JobNameLabel] = appName(p.OwnerApp)
			pod.Finalizers = []string{batchv1.JobTrackingFinalizer}
		case 2:
			pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v2", Kind: "Job", Name: appName(p.OwnerApp)}}
		case 3:
			pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: appName(p.OwnerApp)}}
		}
		if p.Labels&1 != 0 {
			pod.Labels[sparkapp.LabelAppName] = appName(p.LabelApp)
		}
		if p.Labels&2 != 0 {
			pod.Labels[sparkapp.LabelOperatorApp] = appName(p.LabelApp)
		}
		if p.Labels&4 != 0 {
			pod.Labels[sparkapp.LabelManagedBy] = sparkapp.ManagedBy
		}
		if p.Labels&8 != 0 {
			pod.Labels[sparkapp.LabelAppSelector] = "spark-" + appName(p.LabelApp)
		}
		if p.Node != 0 {
			pod.Spec.NodeName = nodeName(p.Node - 1)
		}
		pod.Status.Phase = []corev1.PodPhase{"", corev1.PodPending, corev1.PodRunning, corev1.PodSucceeded, corev1.PodFailed, corev1.PodUnknown}[int(p.Phase)%6]
		running := corev1.ContainerStatus{Name: "spark-kubernetes-driver", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(p.Created)}}}
		done := corev1.ContainerStatus{Name: "sidecar", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error"}}}
		switch p.Containers % 7 {
		case 1:
			pod.Status.ContainerStatuses = []corev1.ContainerStatus{running}
		case 2:
			pod.Status.ContainerStatuses = []corev1.ContainerStatus{done}
		case 3:
			pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "spark-kubernetes-driver", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}
		case 4:
			pod.Status.ContainerStatuses = []corev1.ContainerStatus{running, done}
		case 5:
			pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "spark-kubernetes-driver", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Signal: 9}}}}
		case 6:
			running.Ready = false
			pod.Status.ContainerStatuses = []corev1.ContainerStatus{running}
		}
		pod.Status.Reason = []string{"", "NodeLost", "Evicted"}[int(p.Reason)%3]
		if p.Deleted != 0 {
			grace := []*int64{nil, ptr.To[int64](0), ptr.To[int64](30), ptr.To[int64](5)}[int(p.Deleted-1)%4]
			at := ago(p.DeletedAt)
			if grace != nil {
				at = metav1.NewTime(at.Add(time.Duration(*grace) * time.Second))
			}
			pod.DeletionTimestamp, pod.DeletionGracePeriodSeconds = &at, grace
		}
		switch p.Disruption % 4 {
		case 1:
			pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "DeletionByTaintManager", Message: "Taint manager: deleting due to NoExecute taint", LastTransitionTime: ago(p.DeletedAt)}}
		case 2:
			pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionFalse}}
		case 3:
			pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "DeletionByPodGC", LastTransitionTime: ago(p.DeletedAt)}}
		}
		for k, v := range p.Volumes {
			vol := corev1.Volume{Name: fmt.Sprintf("vol-%d", k)}
			if v.Claim == 0 {
				vol.EmptyDir = &corev1.EmptyDirVolumeSource{}
			} else {
				vol.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claimName(v.Claim - 1)}
			}
			pod.Spec.Volumes = append(pod.Spec.Volumes, vol)
		}
		snap.DriverPods = append(snap.DriverPods, pod)
	}
	for _, c := range s.Claims {
		pvc := corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: claimName(c.Name), Namespace: nsName(c.NS)}}
		if c.PV != 0 {
			pvc.Spec.VolumeName = pvName(c.PV - 1)
		}
		if m := int(c.Mode) % 4; m > 0 {
			pvc.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{[]corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod, corev1.ReadWriteOnce, corev1.ReadWriteMany}[m-1]}
		}
		if !hidden("persistentvolumeclaims") {
			snap.Claims = append(snap.Claims, pvc)
		}
	}
	for _, p := range s.PVs {
		pv := corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: pvName(p.Name)}}
		if pin := p.Pin % 3; pin != 0 {
			key, value := corev1.LabelHostname, nodeName(p.Target)
			if pin == 2 {
				key, value = corev1.LabelTopologyZone, zoneName(p.Target)
			}
			pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: corev1.NodeSelectorOpIn, Values: []string{value}}}}}}}
		}
		if !hidden("persistentvolumes") {
			snap.Volumes = append(snap.Volumes, pv)
		}
	}
	for i, a := range s.Attachments {
		va := storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("csi-%d", i)}}
		va.Spec.NodeName = nodeName(a.Node)
		if a.PV != 0 {
			va.Spec.Source.PersistentVolumeName = ptr.To(pvName(a.PV - 1))
		}
		va.Status.Attached = a.Attached%2 == 1
		if a.Deleting%2 == 1 {
			va.DeletionTimestamp = ptr.To(ago(0))
		}
		if !hidden("volumeattachments") {
			snap.VolumeAttachments = append(snap.VolumeAttachments, va)
		}
	}
	for i, e := range s.Events {
		ev := corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ev-%d", i)}, Type: corev1.EventTypeWarning, Count: int32(e.Count)}
		if k := int(e.Pod) % (len(s.Pods) + 1); k < len(s.Pods) {
			p := snap.DriverPods[k]
			ev.InvolvedObject = corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID}
		} else {
			ev.InvolvedObject = corev1.ObjectReference{Kind: "Pod", Namespace: "ns-0", Name: "other", UID: "other-uid"}
		}
		if e.Flags&1 != 0 {
			ev.InvolvedObject.UID += "-old"
		}
		if e.Flags&2 != 0 {
			ev.Type = corev1.EventTypeNormal
		}
		if e.Flags&4 != 0 {
			ev.InvolvedObject = corev1.ObjectReference{Kind: "Node", Name: nodeName(e.Pod)}
		}
		ev.Reason = []string{"FailedMount", "FailedAttachVolume", "NodeNotReady", "FailedScheduling"}[int(e.Reason)%4]
		switch m := int(e.Message) % 8; {
		case m < 2:
			ev.Message = fmt.Sprintf("Unable to attach or mount volumes: unmounted volumes=[vol-%d]: timed out waiting for the condition", m)
		case m < 6:
			ev.Message = fmt.Sprintf(`Multi-Attach error for volume "%s" Volume is already exclusively attached to one node`, pvName(uint8(m-2)))
		default:
			ev.Message = "something else happened"
		}
		at := ago(e.At)
		switch e.Time % 4 {
		case 0:
			ev.FirstTimestamp, ev.LastTimestamp = at, at
		case 1:
			ev.EventTime = metav1.MicroTime{Time: at.Time}
		case 2:
			ev.EventTime = metav1.MicroTime{Time: at.Add(-time.Minute)}
			ev.Series = &corev1.EventSeries{Count: 2, LastObservedTime: metav1.MicroTime{Time: at.Time}}
		case 3:
			ev.FirstTimestamp = at
		}
		if !hidden("events") {
			snap.Events = append(snap.Events, ev)
		}
	}
	for i, e := range s.Executors {
		pod := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("exec-%d", i), UID: types.UID(fmt.Sprintf("exec-uid-%d", i)),
			CreationTimestamp: ago(0), Labels: map[string]string{sparkapp.LabelSparkRole: sparkapp.RoleExecutor, sparkapp.LabelExecID: strconv.Itoa(i + 1)}}}
		if d := int(e.Driver) % (maxPods + maxApps); d < len(snap.DriverPods) {
			drv := snap.DriverPods[d]
			pod.Namespace = drv.Namespace
			pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: drv.Name, UID: drv.UID, Controller: ptr.To(true)}}
		} else {
			app := appName(uint8(d - maxPods))
			pod.Namespace = nsName(e.NS)
			pod.Labels[sparkapp.LabelAppName] = app
			pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: app + "-gone", UID: "gone", Controller: ptr.To(true)}}
		}
		if e.Node != 0 {
			pod.Spec.NodeName = nodeName(e.Node - 1)
		}
		pod.Status.Phase = []corev1.PodPhase{"", corev1.PodPending, corev1.PodRunning, corev1.PodSucceeded, corev1.PodFailed}[int(e.Phase)%5]
		if pod.Status.Phase == corev1.PodRunning {
			pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "spark-kubernetes-executor", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
		}
		if e.Deleted != 0 {
			pod.DeletionTimestamp = ptr.To(ago(1))
		}
		snap.ExecutorPods = append(snap.ExecutorPods, pod)
	}
	for i, k := range unavailableKinds {
		if s.Unavailable&(1<<i) != 0 {
			snap.Unavailable = append(snap.Unavailable, k+": Forbidden")
		}
	}
	return snap, fuzzNow
}

// ---- Snapshot (a sandbox fixture) → shape, for the seed corpus ----

// names numbers the names of one pool in order of first use.
type names map[string]uint8

func (n names) of(name string, limit int) uint8 {
	if i, ok := n[name]; ok {
		return i
	}
	n[name] = uint8(len(n) % limit)
	return n[name]
}

func sortedNames(n names) []string {
	var out []string
	for k := range n {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func secsAgo(now, t time.Time) uint16 {
	d := math.Ceil(now.Sub(t).Seconds())
	return uint16(min(max(d, 0), math.MaxUint16))
}

func encodeFixture(snap *analysis.Snapshot, now time.Time) *shape {
	s := &shape{}
	nss, apps, nodes, claims, pvs, zones := names{}, names{}, names{}, names{}, names{}, names{}
	for i, k := range unavailableKinds {
		for _, u := range snap.Unavailable {
			if strings.HasPrefix(u, k+":") {
				s.Unavailable |= 1 << i
			}
		}
	}
	for _, n := range snap.Nodes[:min(len(snap.Nodes), maxNodes)] {
		nodes.of(n.Name, maxNodeNames)
		ns := nodeShape{}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				ns.Ready = map[corev1.ConditionStatus]uint8{corev1.ConditionTrue: 1, corev1.ConditionFalse: 2, corev1.ConditionUnknown: 3}[c.Status]
				ns.Heartbeat = secsAgo(now, c.LastHeartbeatTime.Time)
				ns.Since = secsAgo(now, c.LastTransitionTime.Time)
			}
		}
		for _, t := range n.Spec.Taints {
			for bit, want := range []string{"unreachable:NoExecute", "unreachable:NoSchedule", "not-ready:NoExecute", "not-ready:NoSchedule", "out-of-service:NoExecute"} {
				if "node.kubernetes.io/"+want == t.Key+":"+string(t.Effect) {
					ns.Taints |= 1 << bit
				}
			}
		}
		if z := n.Labels[corev1.LabelTopologyZone]; z != "" {
			ns.Zone = zones.of(z, maxZones) + 1
		}
		if n.Spec.Unschedulable {
			ns.Cordon = 1
		}
		for _, l := range snap.Leases {
			if l.Name == n.Name {
				ns.Lease = 1
				if l.Spec.RenewTime != nil {
					ns.Lease, ns.Renew = 2, secsAgo(now, l.Spec.RenewTime.Time)
				}
			}
		}
		s.Nodes = append(s.Nodes, ns)
	}
	for _, j := range snap.Jobs[:min(len(snap.Jobs), maxJobs)] {
		js := jobShape{NS: nss.of(j.Namespace, maxNamespaces), App: apps.of(j.Name, maxApps)}
		if j.Labels[sparkapp.LabelManagedBy] == sparkapp.ManagedBy {
			js.Labels |= 1
		}
		if j.Spec.Template.Labels[sparkapp.LabelSparkRole] == sparkapp.RoleDriver {
			js.Labels |= 2
		}
		for _, c := range j.Status.Conditions {
			switch {
			case c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue:
				js.Condition = 1
			case c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue:
				js.Condition = 2
			}
		}
		js.Active, js.Failed = uint8(min(j.Status.Active, 3)), uint8(min(j.Status.Failed, 255))
		if j.Status.Terminating != nil {
			js.Term = uint8(min(*j.Status.Terminating, 254)) + 1
		}
		if j.Spec.BackoffLimit != nil {
			js.Backoff = uint8(min(*j.Spec.BackoffLimit, 254)) + 1
		}
		if p := j.Spec.PodReplacementPolicy; p != nil {
			js.Policy = map[batchv1.PodReplacementPolicy]uint8{batchv1.Failed: 1, batchv1.TerminatingOrFailed: 2}[*p]
		}
		s.Jobs = append(s.Jobs, js)
	}
	var pods []corev1.Pod
	for _, p := range snap.DriverPods[:min(len(snap.DriverPods), maxPods)] {
		pods = append(pods, p)
		ps := podShape{NS: nss.of(p.Namespace, maxNamespaces), Created: secsAgo(now, p.CreationTimestamp.Time)}
		for _, o := range p.OwnerReferences {
			switch {
			case o.Kind == "Job" && o.APIVersion == "batch/v1":
				ps.Owner, ps.OwnerApp = 1, apps.of(o.Name, maxApps)
			case o.Kind == "Job":
				ps.Owner, ps.OwnerApp = 2, apps.of(o.Name, maxApps)
			default:
				ps.Owner, ps.OwnerApp = 3, apps.of(o.Name, maxApps)
			}
		}
		for bit, key := range []string{sparkapp.LabelAppName, sparkapp.LabelOperatorApp} {
			if v := p.Labels[key]; v != "" {
				ps.Labels |= 1 << bit
				ps.LabelApp = apps.of(v, maxApps)
			}
		}
		if p.Labels[sparkapp.LabelManagedBy] == sparkapp.ManagedBy {
			ps.Labels |= 4
		}
		if p.Spec.NodeName != "" {
			ps.Node = nodes.of(p.Spec.NodeName, maxNodeNames) + 1
		}
		ps.Phase = map[corev1.PodPhase]uint8{corev1.PodPending: 1, corev1.PodRunning: 2, corev1.PodSucceeded: 3, corev1.PodFailed: 4, corev1.PodUnknown: 5}[p.Status.Phase]
		var run, term, wait, ready bool
		for _, cs := range p.Status.ContainerStatuses {
			run, term, wait = run || cs.State.Running != nil, term || cs.State.Terminated != nil, wait || cs.State.Waiting != nil
			ready = ready || cs.Ready
		}
		switch {
		case run && term:
			ps.Containers = 4
		case run && ready:
			ps.Containers = 1
		case run:
			ps.Containers = 6
		case term && !wait:
			ps.Containers = 2
		case wait:
			ps.Containers = 3
		}
		ps.Reason = map[string]uint8{"NodeLost": 1, "Evicted": 2}[p.Status.Reason]
		if p.DeletionTimestamp != nil {
			at := p.DeletionTimestamp.Time
			ps.Deleted = 1
			if g := p.DeletionGracePeriodSeconds; g != nil {
				ps.Deleted = map[int64]uint8{0: 2, 30: 3}[*g]
				if ps.Deleted == 0 {
					ps.Deleted = 4 // 5s: the request time below is what matters
				}
				at = at.Add(-time.Duration(*g) * time.Second)
			}
			ps.DeletedAt = secsAgo(now, at)
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.DisruptionTarget {
				switch {
				case c.Status != corev1.ConditionTrue:
					ps.Disruption = 2
				case c.Reason == "DeletionByTaintManager":
					ps.Disruption = 1
				default:
					ps.Disruption = 3
				}
			}
		}
		for _, v := range p.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && len(ps.Volumes) < maxPodVolumes {
				ps.Volumes = append(ps.Volumes, volumeShape{Claim: claims.of(v.PersistentVolumeClaim.ClaimName, maxClaims) + 1})
			}
		}
		s.Pods = append(s.Pods, ps)
	}
	for _, e := range snap.ExecutorPods[:min(len(snap.ExecutorPods), maxExecutors)] {
		es := execShape{NS: nss.of(e.Namespace, maxNamespaces), Driver: uint8(maxPods) + apps.of(e.Labels[sparkapp.LabelAppName], maxApps)}
		for i, p := range pods {
			for _, o := range e.OwnerReferences {
				if o.UID == p.UID {
					es.Driver = uint8(i)
				}
			}
		}
		if e.Spec.NodeName != "" {
			es.Node = nodes.of(e.Spec.NodeName, maxNodeNames) + 1
		}
		es.Phase = map[corev1.PodPhase]uint8{corev1.PodPending: 1, corev1.PodRunning: 2, corev1.PodSucceeded: 3, corev1.PodFailed: 4}[e.Status.Phase]
		if e.DeletionTimestamp != nil {
			es.Deleted = 1
		}
		s.Executors = append(s.Executors, es)
	}
	for _, c := range snap.Claims {
		cs := claimShape{NS: nss.of(c.Namespace, maxNamespaces), Name: claims.of(c.Name, maxClaims)}
		if c.Spec.VolumeName != "" {
			cs.PV = pvs.of(c.Spec.VolumeName, maxPVs) + 1
		}
		if len(c.Spec.AccessModes) > 0 {
			cs.Mode = map[corev1.PersistentVolumeAccessMode]uint8{corev1.ReadWriteOncePod: 1, corev1.ReadWriteOnce: 2, corev1.ReadWriteMany: 3}[c.Spec.AccessModes[0]]
		}
		if len(s.Claims) < maxClaims {
			s.Claims = append(s.Claims, cs)
		}
	}
	for _, p := range snap.Volumes {
		if len(s.PVs) < maxPVs {
			ps := pvShape{Name: pvs.of(p.Name, maxPVs)}
			if a := p.Spec.NodeAffinity; a != nil && a.Required != nil && len(a.Required.NodeSelectorTerms) > 0 && len(a.Required.NodeSelectorTerms[0].MatchExpressions) > 0 {
				e := a.Required.NodeSelectorTerms[0].MatchExpressions[0]
				switch {
				case e.Key == corev1.LabelHostname && len(e.Values) > 0:
					ps.Pin, ps.Target = 1, nodes.of(e.Values[0], maxNodeNames)
				case e.Key == corev1.LabelTopologyZone && len(e.Values) > 0:
					ps.Pin, ps.Target = 2, zones.of(e.Values[0], maxZones)
				}
			}
			s.PVs = append(s.PVs, ps)
		}
	}
	for _, va := range snap.VolumeAttachments {
		as := attachShape{Node: nodes.of(va.Spec.NodeName, maxNodeNames)}
		if pv := va.Spec.Source.PersistentVolumeName; pv != nil {
			as.PV = pvs.of(*pv, maxPVs) + 1
		}
		if va.Status.Attached {
			as.Attached = 1
		}
		if va.DeletionTimestamp != nil {
			as.Deleting = 1
		}
		if len(s.Attachments) < maxAttachments {
			s.Attachments = append(s.Attachments, as)
		}
	}
	// Only the warnings about the driver pods matter to Analyze; keep the latest.
	type evAt struct {
		e  eventShape
		at time.Time
	}
	var evs []evAt
	for _, ev := range snap.Events {
		if ev.Type != corev1.EventTypeWarning || ev.InvolvedObject.Kind != "Pod" {
			continue
		}
		for k, p := range pods {
			if ev.InvolvedObject.Namespace != p.Namespace || ev.InvolvedObject.Name != p.Name {
				continue
			}
			es := eventShape{Pod: uint8(k), Message: 7, Count: uint8(min(ev.Count, 255))}
			if ev.InvolvedObject.UID != p.UID {
				es.Flags |= 1
			}
			es.Reason = map[string]uint8{"FailedMount": 0, "FailedAttachVolume": 1, "NodeNotReady": 2}[ev.Reason]
			if _, ok := map[string]bool{"FailedMount": true, "FailedAttachVolume": true, "NodeNotReady": true}[ev.Reason]; !ok {
				es.Reason = 3
			}
			claimVols := 0
			for _, v := range p.Spec.Volumes {
				if v.PersistentVolumeClaim != nil && claimVols < maxPodVolumes {
					if strings.Contains(ev.Message, v.Name) {
						es.Message = uint8(claimVols)
					}
					claimVols++
				}
			}
			for _, pv := range sortedNames(pvs) {
				if es.Message == 7 && strings.Contains(ev.Message, pv) {
					es.Message = 2 + pvs[pv]
				}
			}
			at := ev.LastTimestamp.Time
			switch {
			case ev.Series != nil:
				es.Time, at = 2, ev.Series.LastObservedTime.Time
			case !ev.LastTimestamp.IsZero():
			case !ev.EventTime.IsZero():
				es.Time, at = 1, ev.EventTime.Time
			default:
				es.Time, at = 3, ev.FirstTimestamp.Time
			}
			es.At = secsAgo(now, at)
			evs = append(evs, evAt{es, at})
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at.Before(evs[j].at) })
	for _, e := range evs[max(0, len(evs)-maxEvents):] {
		s.Events = append(s.Events, e.e)
	}
	return s
}

// TestFuzzSeedsAreFixtureShapes: each sandbox fixture, encoded as fuzz bytes, decodes to a
// snapshot with the fixture's verdicts (so the generator reaches every captured state), and
// the committed seed file is exactly that encoding.
func TestFuzzSeedsAreFixtureShapes(t *testing.T) {
	for _, name := range fixture.Names(t) {
		t.Run(name, func(t *testing.T) {
			fix := fixture.Load(t, name)
			want := analysis.Analyze(&fix.Snapshot, fix.Now)
			data := encodeFixture(&fix.Snapshot, fix.Now).encode()
			snap, now := decodeShape(data).snapshot()
			got := checkAnalysis(t, snap, now)
			if len(got.Apps) != len(want.Apps) {
				t.Fatalf("%d apps, fixture has %d", len(got.Apps), len(want.Apps))
			}
			for i := range want.Apps {
				w, g := want.Apps[i], got.Apps[i]
				if g.Verdict != w.Verdict || (g.LostNode == "") != (w.LostNode == "") || len(g.Drivers) != len(w.Drivers) {
					t.Errorf("decoded shape: %s (%s) lost node %q, %d drivers; fixture: %s (%s) lost node %q, %d drivers",
						g.Verdict, g.Reason, g.LostNode, len(g.Drivers), w.Verdict, w.Reason, w.LostNode, len(w.Drivers))
				}
				for nodeDown := range 2 {
					pw, pg := analysis.Decide(w, analysis.Operator{NodeDown: nodeDown == 1}), analysis.Decide(g, analysis.Operator{NodeDown: nodeDown == 1})
					if pw.Outcome != pg.Outcome || len(pw.Steps) != len(pg.Steps) {
						t.Errorf("--node-down=%d: decoded shape plans %s %+v, fixture %s %+v", nodeDown, pg.Outcome, pg.Steps, pw.Outcome, pw.Steps)
					}
				}
			}
			seed := filepath.Join("testdata", "fuzz", "FuzzAnalyze", "fixture-"+name)
			content := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
			if *writeSeeds {
				if err := os.MkdirAll(filepath.Dir(seed), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(seed, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if b, err := os.ReadFile(seed); err != nil || string(b) != content {
				t.Errorf("seed %s is stale or missing (%v): go test ./internal/safetyfuzz -run TestFuzzSeedsAreFixtureShapes -write-fuzz-seeds", seed, err)
			}
		})
	}
}
