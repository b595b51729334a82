package analysis

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Moments of the same second come in causal order whatever the order of the LIST and the
// sub-second clocks, and an event recorded twice (a second Event object, or a series) is
// one line with its count.
func TestTimelineOrdersSameSecondCausallyAndMergesRepeats(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 14, 29, 14, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	pod := func(name string) corev1.ObjectReference {
		return corev1.ObjectReference{Kind: "Pod", Namespace: "s1", Name: name}
	}
	job := corev1.ObjectReference{Kind: "Job", Namespace: "s1", Name: "spark-pi"}
	legacy := func(obj corev1.ObjectReference, reason, msg string, t time.Time, count int32) corev1.Event {
		return corev1.Event{InvolvedObject: obj, Reason: reason, Message: msg, FirstTimestamp: metav1.NewTime(t), Count: count}
	}
	micro := func(obj corev1.ObjectReference, reason, msg string, t time.Time, series int32) corev1.Event {
		ev := corev1.Event{InvolvedObject: obj, Reason: reason, Message: msg, EventTime: metav1.NewMicroTime(t)}
		if series > 0 {
			ev.Series = &corev1.EventSeries{Count: series, LastObservedTime: metav1.NewMicroTime(t)}
		}
		return ev
	}
	old, repl := "spark-pi-95sbm", "spark-pi-s5d8t"
	s := &Snapshot{
		DriverPods: []corev1.Pod{{
			ObjectMeta: metav1.ObjectMeta{Name: repl, Namespace: "s1", CreationTimestamp: metav1.NewTime(at(20000))},
			Spec:       corev1.PodSpec{NodeName: "node-b"},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(at(20000))}},
			}}},
		}},
		// In the order a LIST returned them, which is not the order they happened.
		Events: []corev1.Event{
			legacy(pod(old), "Started", "Started container spark-kubernetes-driver", at(0), 1),
			micro(pod(old), "FailedScheduling", "0/2 nodes are available", at(-300), 0),
			legacy(pod(old), "SuccessfulAttachVolume", "AttachVolume.Attach succeeded ", at(0), 1),
			micro(pod(old), "Scheduled", "Successfully assigned s1/spark-pi-95sbm to node-a", at(600), 0),
			micro(pod(old), "FailedScheduling", "0/2 nodes are available", at(-250), 2),
			legacy(job, "SuccessfulCreate", "Created pod: spark-pi-95sbm", at(0), 1),
			legacy(pod(old), "TaintManagerEviction", "Marking for deletion Pod s1/spark-pi-95sbm", at(19000), 1),
			legacy(pod(repl), "Started", "Started container spark-kubernetes-driver", at(20000), 1),
			micro(pod(repl), "Scheduled", "Successfully assigned s1/spark-pi-s5d8t to node-b", at(20900), 0),
			legacy(job, "SuccessfulCreate", "Created pod: spark-pi-s5d8t", at(20000), 1),
			legacy(pod(repl), "FailedMount", "Unable to attach or mount volumes", at(20000), 3),
			legacy(pod(repl), "FailedMount", "Unable to attach or mount volumes", at(20000), 2),
		},
	}
	app := App{Namespace: "s1", Name: "spark-pi", Job: "spark-pi", Drivers: []Driver{{Pod: repl, Node: "node-b", Created: at(20000)}}}
	var got []string
	for _, m := range Timeline(s, app) {
		got = append(got, m.Time.Format("15:04:05")+" "+m.Object+" "+m.What)
	}
	want := []string{
		"14:29:13 pod/spark-pi-95sbm FailedScheduling: 0/2 nodes are available (x2)",
		"14:29:14 job/spark-pi SuccessfulCreate: Created pod: spark-pi-95sbm",
		"14:29:14 pod/spark-pi-95sbm Scheduled: Successfully assigned s1/spark-pi-95sbm to node-a",
		"14:29:14 pod/spark-pi-95sbm SuccessfulAttachVolume: AttachVolume.Attach succeeded",
		"14:29:14 pod/spark-pi-95sbm Started: Started container spark-kubernetes-driver",
		"14:29:33 pod/spark-pi-95sbm TaintManagerEviction: Marking for deletion Pod s1/spark-pi-95sbm",
		"14:29:34 job/spark-pi SuccessfulCreate: Created pod: spark-pi-s5d8t",
		"14:29:34 pod/spark-pi-s5d8t driver pod created",
		"14:29:34 pod/spark-pi-s5d8t Scheduled: Successfully assigned s1/spark-pi-s5d8t to node-b",
		"14:29:34 pod/spark-pi-s5d8t FailedMount: Unable to attach or mount volumes (x5)",
		"14:29:34 pod/spark-pi-s5d8t Started: Started container spark-kubernetes-driver",
		"14:29:34 pod/spark-pi-s5d8t driver running on node-b",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
