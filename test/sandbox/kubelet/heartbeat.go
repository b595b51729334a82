package kubelet

import (
	"context"
	"math/rand/v2"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
)

// v1.37's KubeletConfiguration defaults (pkg/kubelet/apis/config/v1beta1/defaults.go).
const (
	DefaultNodeLeaseDurationSeconds  = 40
	DefaultNodeStatusUpdateFrequency = 10 * time.Second
	DefaultNodeStatusReportFrequency = 5 * time.Minute
)

// nodeLeaseRenewIntervalFraction is the part of the Lease's duration after which the kubelet
// renews it (pkg/kubelet/kubelet.go).
const nodeLeaseRenewIntervalFraction = 0.25

// nodeStatusUpdateRetry is how many times a status post is tried in a row
// (pkg/kubelet/kubelet.go).
const nodeStatusUpdateRetry = 5

// defaults fills the heartbeat timing left zero as KubeletConfiguration's defaulting does:
// a report frequency left unset follows an update frequency that was set (SetDefaults_KubeletConfiguration).
func (k *Kubelet) defaults() {
	if k.NodeLeaseDurationSeconds == 0 {
		k.NodeLeaseDurationSeconds = DefaultNodeLeaseDurationSeconds
	}
	if k.NodeStatusReportFrequency == 0 {
		k.NodeStatusReportFrequency = DefaultNodeStatusReportFrequency
		if k.NodeStatusUpdateFrequency != 0 {
			k.NodeStatusReportFrequency = k.NodeStatusUpdateFrequency
		}
	}
	if k.NodeStatusUpdateFrequency == 0 {
		k.NodeStatusUpdateFrequency = DefaultNodeStatusUpdateFrequency
	}
}

// renewInterval is how often the Lease is renewed (NewMainKubelet: leaseDuration ×
// nodeLeaseRenewIntervalFraction).
func (k *Kubelet) renewInterval() time.Duration {
	return time.Duration(float64(time.Duration(k.NodeLeaseDurationSeconds)*time.Second) * nodeLeaseRenewIntervalFraction)
}

// heartbeat runs the two heartbeats the node lifecycle controller reads: the Lease, renewed
// by the lease controller (k8s.io/component-helpers/apimachinery/lease, Run:
// JitterUntil(sync, renewInterval, 0.04, sliding)), and the node status, computed every
// nodeStatusUpdateFrequency (Kubelet.Run: wait.Until(syncNodeStatus, ...)) and posted only
// when it changed or the report period expired.
func (k *Kubelet) heartbeat(ctx context.Context) {
	go wait.JitterUntilWithContext(ctx, func(ctx context.Context) {
		if err := k.renewLease(ctx); err != nil {
			k.Log.Printf("lease: %v", err)
		}
	}, k.renewInterval(), 0.04, true)
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if err := k.updateNodeStatus(ctx); err != nil {
			k.Log.Printf("node status: %v", err)
		}
	}, k.NodeStatusUpdateFrequency)
}

func (k *Kubelet) renewLease(ctx context.Context) error {
	leases := k.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	lease, err := leases.Get(ctx, k.Node, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: k.Node},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr.To(k.Node),
				LeaseDurationSeconds: ptr.To(k.NodeLeaseDurationSeconds),
				RenewTime:            &now,
			},
		}, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	lease.Spec.RenewTime = &now
	lease.Spec.LeaseDurationSeconds = ptr.To(k.NodeLeaseDurationSeconds)
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

// updateNodeStatus is the kubelet's updateNodeStatus: tryUpdateNodeStatus up to
// nodeStatusUpdateRetry times, the first from the informer's copy of the node, the
// retries (after a conflict) from the API server.
func (k *Kubelet) updateNodeStatus(ctx context.Context) error {
	var err error
	for try := 0; try < nodeStatusUpdateRetry; try++ {
		if err = k.tryUpdateNodeStatus(ctx, try); err == nil {
			return nil
		}
	}
	return err
}

func (k *Kubelet) tryUpdateNodeStatus(ctx context.Context, try int) error {
	var original *corev1.Node
	var err error
	if try == 0 && k.nodes != nil {
		original, err = k.nodes.Get(k.Node)
	} else {
		original, err = k.Client.CoreV1().Nodes().Get(ctx, k.Node, metav1.GetOptions{})
	}
	if err != nil {
		return err
	}
	now := time.Now()
	node := original.DeepCopy()
	k.setNodeStatus(&node.Status, now)
	changed := nodeStatusHasChanged(&original.Status, &node.Status)
	if !k.report.due(changed, now) {
		k.markReportedInUse(node.Status.VolumesInUse)
		return nil
	}
	updated, err := k.Client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	if err != nil {
		return err
	}
	k.report.posted(changed, time.Now(), rand.Float64())
	k.markReportedInUse(updated.Status.VolumesInUse)
	return nil
}

// statusReport decides when an unchanged node status is posted anyway (tryUpdateNodeStatus,
// isUpdateStatusPeriodExpired): nodeStatusReportFrequency after the last post, shifted by a
// random delay of up to half of it after a change or the first post, so that the nodes of a
// cluster do not all report at once.
type statusReport struct {
	frequency time.Duration
	last      time.Time
	delay     time.Duration
}

func (r *statusReport) due(changed bool, now time.Time) bool {
	return changed || now.Sub(r.last) >= r.frequency+r.delay
}

// posted records a post at now; rnd in [0, 1) draws the delay (calculateDelay).
func (r *statusReport) posted(changed bool, now time.Time, rnd float64) {
	r.delay = 0
	if changed || r.last.IsZero() {
		r.delay = time.Duration(float64(r.frequency) * (rnd - 0.5))
	}
	r.last = now
}

// setNodeStatus is what the kubelet's node status setters (pkg/kubelet/nodestatus) write;
// each condition's heartbeat is now and its transition time changes only with its status.
func (k *Kubelet) setNodeStatus(s *corev1.NodeStatus, at time.Time) {
	now := metav1.NewTime(at)
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("16"),
		corev1.ResourceMemory:           resource.MustParse("64Gi"),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	s.Capacity = capacity
	s.Allocatable = capacity
	s.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: k.NodeIP}, {Type: corev1.NodeHostName, Address: k.Node}}
	s.NodeInfo = corev1.NodeSystemInfo{
		KubeletVersion: Version, OperatingSystem: "linux", Architecture: "amd64",
		ContainerRuntimeVersion: "sandbox://1.0", OSImage: "sparkha sandbox", KernelVersion: "sandbox",
	}
	s.DaemonEndpoints = corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}}
	ready := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"}
	if k.runtimeDown() {
		ready = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionFalse, Reason: "KubeletNotReady", Message: "container runtime is down"}
	}
	conds := []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		ready,
	}
	for _, c := range conds {
		c.LastHeartbeatTime = now
		c.LastTransitionTime = now
		for _, old := range s.Conditions {
			if old.Type == c.Type && old.Status == c.Status {
				c.LastTransitionTime = old.LastTransitionTime
			}
		}
		setNodeCondition(s, c)
	}
	s.VolumesInUse = k.volumesInUse()
}

// nodeStatusHasChanged is the kubelet's (pkg/kubelet/kubelet_node_status.go): any change but
// the conditions' heartbeat times.
func nodeStatusHasChanged(original, status *corev1.NodeStatus) bool {
	if original == nil && status == nil {
		return false
	}
	if original == nil || status == nil {
		return true
	}
	if nodeConditionsHaveChanged(original.Conditions, status.Conditions) {
		return true
	}
	o, s := original.DeepCopy(), status.DeepCopy()
	o.Conditions, s.Conditions = nil, nil
	return !equality.Semantic.DeepEqual(o, s)
}

func nodeConditionsHaveChanged(original, conditions []corev1.NodeCondition) bool {
	if len(original) != len(conditions) {
		return true
	}
	byType := map[corev1.NodeConditionType]corev1.NodeCondition{}
	for _, c := range original {
		c.LastHeartbeatTime = metav1.Time{}
		byType[c.Type] = c
	}
	for _, c := range conditions {
		c.LastHeartbeatTime = metav1.Time{}
		o, ok := byType[c.Type]
		if !ok || !equality.Semantic.DeepEqual(o, c) {
			return true
		}
	}
	return false
}

func setNodeCondition(s *corev1.NodeStatus, c corev1.NodeCondition) {
	for i := range s.Conditions {
		if s.Conditions[i].Type == c.Type {
			s.Conditions[i] = c
			return
		}
	}
	s.Conditions = append(s.Conditions, c)
}
