package kubelet

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestDefaults(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		leaseIn                int32
		updateIn, reportIn     time.Duration
		lease                  int32
		renew, update, reports time.Duration
	}{
		{name: "v1.37's defaults", lease: 40, renew: 10 * time.Second, update: 10 * time.Second, reports: 5 * time.Minute},
		// SetDefaults_KubeletConfiguration: an unset report frequency follows a set update frequency.
		{name: "update frequency only", updateIn: time.Second, lease: 40, renew: 10 * time.Second, update: time.Second, reports: time.Second},
		{name: "the sandbox's", leaseIn: 4, updateIn: time.Second, reportIn: 5 * time.Minute,
			lease: 4, renew: time.Second, update: time.Second, reports: 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := &Kubelet{NodeLeaseDurationSeconds: tc.leaseIn, NodeStatusUpdateFrequency: tc.updateIn, NodeStatusReportFrequency: tc.reportIn}
			k.defaults()
			if k.NodeLeaseDurationSeconds != tc.lease || k.renewInterval() != tc.renew ||
				k.NodeStatusUpdateFrequency != tc.update || k.NodeStatusReportFrequency != tc.reports {
				t.Errorf("lease %d renew %s update %s report %s, want %d %s %s %s", k.NodeLeaseDurationSeconds, k.renewInterval(),
					k.NodeStatusUpdateFrequency, k.NodeStatusReportFrequency, tc.lease, tc.renew, tc.update, tc.reports)
			}
		})
	}
}

func TestNodeStatusHasChanged(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(10 * time.Second))
	base := func() *corev1.NodeStatus {
		return &corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", LastHeartbeatTime: t0, LastTransitionTime: t0},
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: t0, LastTransitionTime: t0},
			},
			VolumesInUse: []corev1.UniqueVolumeName{"kubernetes.io/csi/csi.sandbox.sparkha.io^vol-1"},
		}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*corev1.NodeStatus)
		want   bool
	}{
		{name: "same", mutate: func(*corev1.NodeStatus) {}, want: false},
		{name: "only the heartbeats moved", mutate: func(s *corev1.NodeStatus) {
			for i := range s.Conditions {
				s.Conditions[i].LastHeartbeatTime = t1
			}
		}, want: false},
		{name: "conditions in another order", mutate: func(s *corev1.NodeStatus) {
			s.Conditions[0], s.Conditions[1] = s.Conditions[1], s.Conditions[0]
		}, want: false},
		{name: "Ready turned", mutate: func(s *corev1.NodeStatus) {
			s.Conditions[1] = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionFalse, Reason: "KubeletNotReady", LastHeartbeatTime: t1, LastTransitionTime: t1}
		}, want: true},
		// The node lifecycle controller set Ready=Unknown while the node was away: the kubelet's
		// Ready=True differs, so a rejoined node reports at once.
		{name: "Unknown from the controller", mutate: func(s *corev1.NodeStatus) {
			s.Conditions[1].Status, s.Conditions[1].Reason = corev1.ConditionUnknown, "NodeStatusUnknown"
		}, want: true},
		{name: "a condition more", mutate: func(s *corev1.NodeStatus) {
			s.Conditions = append(s.Conditions, corev1.NodeCondition{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse})
		}, want: true},
		{name: "a volume in use more", mutate: func(s *corev1.NodeStatus) {
			s.VolumesInUse = append(s.VolumesInUse, "kubernetes.io/csi/csi.sandbox.sparkha.io^vol-2")
		}, want: true},
		{name: "a volume no longer in use", mutate: func(s *corev1.NodeStatus) { s.VolumesInUse = nil }, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := base()
			tc.mutate(now)
			if got := nodeStatusHasChanged(base(), now); got != tc.want {
				t.Errorf("nodeStatusHasChanged = %t, want %t", got, tc.want)
			}
		})
	}
	if !nodeStatusHasChanged(nil, base()) || nodeStatusHasChanged(nil, nil) {
		t.Error("nil statuses")
	}
}

func TestStatusReport(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	r := statusReport{frequency: 5 * time.Minute}
	if !r.due(false, t0) {
		t.Fatal("the first status is not posted")
	}
	// After a change the next unchanged report comes frequency + (rnd-0.5)×frequency later.
	r.posted(true, t0, 0.75)
	if r.delay != 75*time.Second {
		t.Fatalf("delay after a change %s, want 1m15s", r.delay)
	}
	for _, tc := range []struct {
		after   time.Duration
		changed bool
		want    bool
	}{
		{after: 10 * time.Second, want: false},
		{after: 10 * time.Second, changed: true, want: true},
		{after: 5*time.Minute + 74*time.Second, want: false},
		{after: 5*time.Minute + 75*time.Second, want: true},
	} {
		if got := r.due(tc.changed, t0.Add(tc.after)); got != tc.want {
			t.Errorf("due(changed=%t) %s after the post = %t, want %t", tc.changed, tc.after, got, tc.want)
		}
	}
	// A post because the period expired resets the delay: from then on every frequency.
	t1 := t0.Add(6*time.Minute + 15*time.Second)
	r.posted(false, t1, 0.9)
	if r.delay != 0 || r.due(false, t1.Add(5*time.Minute-time.Millisecond)) || !r.due(false, t1.Add(5*time.Minute)) {
		t.Errorf("after an expiry post: delay %s", r.delay)
	}
	// A change with a low draw reports the next unchanged status early.
	r.posted(true, t1, 0.1)
	if r.delay != -2*time.Minute || !r.due(false, t1.Add(3*time.Minute)) {
		t.Errorf("delay %s, want -2m", r.delay)
	}
}
