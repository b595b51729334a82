package kubelet

import (
	"io"
	"log"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

func TestEffectiveGrace(t *testing.T) {
	pod := func(spec, deletion *int64) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{TerminationGracePeriodSeconds: spec}, ObjectMeta: metav1.ObjectMeta{DeletionGracePeriodSeconds: deletion}}
	}
	for _, tc := range []struct {
		name    string
		current int64
		pod     *corev1.Pod
		want    int64
	}{
		{name: "deletion grace period", pod: pod(ptr.To[int64](30), ptr.To[int64](20)), want: 20},
		{name: "spec when the deletion names none", pod: pod(ptr.To[int64](45), nil), want: 45},
		{name: "only shortened", current: 10, pod: pod(ptr.To[int64](30), ptr.To[int64](30)), want: 10},
		{name: "shortened by a second delete", current: 30, pod: pod(ptr.To[int64](30), ptr.To[int64](5)), want: 5},
		// Deleted with grace period 0 while finalizers hold it: the override is 0, raised to 1 by
		// the pod workers and to minimumGracePeriodInSeconds by killContainer.
		{name: "zero", pod: pod(ptr.To[int64](30), ptr.To[int64](0)), want: 2},
		{name: "nothing at all", pod: pod(nil, nil), want: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := effectiveGrace(tc.current, tc.pod); got != tc.want {
				t.Errorf("effectiveGrace = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestStopContainers: SIGTERM on the first sync that sees the deletion, however long ago the
// deletion was; exit 143 when the container exits on SIGTERM, 137 at the end of the grace
// period; the stop time is when the container really ended, not when the kubelet looked.
func TestStopContainers(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	deleted := func(grace int64, exit string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "driver", Namespace: "ns", UID: types.UID("u-" + exit),
			// Deleted during a partition, ten minutes before this kubelet hears of it.
			DeletionTimestamp: ptr.To(metav1.NewTime(t0.Add(-10 * time.Minute))), DeletionGracePeriodSeconds: ptr.To(grace)},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "spark-kubernetes-driver"}}}}
		if exit != "" {
			p.Annotations = map[string]string{SIGTERMExitAnnotation: exit}
		}
		return p
	}
	type step struct {
		at   time.Duration // since t0
		done bool
		stop time.Duration
		code int32
	}
	for _, tc := range []struct {
		name  string
		pod   *corev1.Pod
		steps []step
	}{
		{name: "exits at once", pod: deleted(30, ""), steps: []step{{at: 0, done: true, stop: 0, code: 143}}},
		{name: "exits 5 s after SIGTERM", pod: deleted(30, "5"), steps: []step{
			{at: 0}, {at: 4900 * time.Millisecond}, {at: 7 * time.Second, done: true, stop: 5 * time.Second, code: 143}}},
		{name: "ignores SIGTERM", pod: deleted(30, "600"), steps: []step{
			{at: 0}, {at: 29 * time.Second}, {at: 31 * time.Second, done: true, stop: 30 * time.Second, code: 137}}},
		{name: "exits just as the grace period ends", pod: deleted(10, "10"), steps: []step{
			{at: 0}, {at: 10 * time.Second, done: true, stop: 10 * time.Second, code: 137}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := &Kubelet{killing: map[types.UID]*killing{}, recorder: record.NewFakeRecorder(10), Log: log.New(io.Discard, "", 0)}
			for _, s := range tc.steps {
				at, code, done := k.stopContainers(tc.pod, &container{}, t0.Add(s.at))
				if done != s.done || (done && (!at.Equal(t0.Add(s.stop)) || code != s.code)) {
					t.Fatalf("at +%s: done %t, stopped %s with %d; want done %t, +%s, %d", s.at, done, at.Sub(t0), code, s.done, s.stop, s.code)
				}
			}
			if ev := <-k.recorder.(*record.FakeRecorder).Events; ev != "Normal Killing Stopping container spark-kubernetes-driver" {
				t.Errorf("event %q", ev)
			}
		})
	}
	t.Run("a second delete shortens the grace period", func(t *testing.T) {
		k := &Kubelet{killing: map[types.UID]*killing{}, recorder: record.NewFakeRecorder(10), Log: log.New(io.Discard, "", 0)}
		pod := deleted(30, "600")
		if _, _, done := k.stopContainers(pod, &container{}, t0); done {
			t.Fatal("stopped at once")
		}
		pod.DeletionGracePeriodSeconds = ptr.To[int64](3)
		if _, _, done := k.stopContainers(pod, &container{}, t0.Add(10*time.Second)); done {
			t.Fatal("stopped at the shortening")
		}
		at, code, done := k.stopContainers(pod, &container{}, t0.Add(14*time.Second))
		if !done || code != 137 || !at.Equal(t0.Add(13*time.Second)) {
			t.Errorf("done %t code %d at +%s, want killed at +13s", done, code, at.Sub(t0))
		}
		if n := len(k.recorder.(*record.FakeRecorder).Events); n != 1 {
			t.Errorf("%d Killing events, want 1", n)
		}
	})
}

// TestUnmount: a stuck pod unmount keeps the volumes (and so the pod); a stuck device
// unmount lets the pod go but keeps the volumes in use.
func TestUnmount(t *testing.T) {
	vol := corev1.UniqueVolumeName("kubernetes.io/csi/csi.sandbox.sparkha.io^vol-1")
	for _, tc := range []struct {
		annotation       string
		unmounted, stuck bool
	}{
		{unmounted: true},
		{annotation: SlowTeardownAnnotation, unmounted: false},
		{annotation: StuckUnmountAnnotation, unmounted: true, stuck: true},
	} {
		t.Run("annotation "+tc.annotation, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "driver", Namespace: "ns", UID: "u"}}
			if tc.annotation != "" {
				pod.Annotations = map[string]string{tc.annotation: "true"}
			}
			k := &Kubelet{mounted: map[types.UID]*mount{"u": {volumes: []corev1.UniqueVolumeName{vol}, pod: pod}},
				stuck: map[corev1.UniqueVolumeName]bool{}, Log: log.New(io.Discard, "", 0)}
			if got := k.unmount(pod); got != tc.unmounted || (k.mounted["u"] == nil) != tc.unmounted || k.stuck[vol] != tc.stuck {
				t.Errorf("unmounted %t, still mounted %v, stuck %v", got, k.mounted["u"], k.stuck)
			}
		})
	}
}

func TestTerminalStatus(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "u"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "spark", Image: "spark:3.5.3"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	k := &Kubelet{exited: map[types.UID]*exited{"u": {code: 143, started: t0, finished: t0.Add(time.Minute)}}}
	s := k.terminalStatus(pod)
	term := s.ContainerStatuses[0].State.Terminated
	if s.Phase != corev1.PodFailed || term == nil || term.ExitCode != 143 || term.Reason != "Error" ||
		!term.StartedAt.Time.Equal(t0) || !term.FinishedAt.Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("status %+v", s)
	}
	delete(k.exited, "u")
	s = k.terminalStatus(pod)
	if term := s.ContainerStatuses[0].State.Terminated; term == nil || term.Reason != "ContainerStatusUnknown" || !strings.Contains(term.Message, "could not be located") {
		t.Errorf("never ran here: %+v", s.ContainerStatuses)
	}
}
