package truth

import (
	"testing"
	"time"
)

func TestOverlapsByAppIgnoresDifferentApps(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 15, 43, 0, 0, time.UTC)
	iv := func(pod string, from, to int) Interval {
		return Interval{Namespace: "demo", Pod: pod, Node: "n", Start: t0.Add(time.Duration(from) * time.Second), End: t0.Add(time.Duration(to) * time.Second)}
	}
	got := OverlapsByApp([]Interval{
		iv("clicks-klw9v", 0, 23), iv("clicks-kck6b", 33, 35), // one app, one after the other
		iv("seed-rwx-7zpd5", 1, 23), iv("seed-rwx-xlbbh", 20, 34), // two at once
		iv("seed-rwo-zm256", 1, 23), // with the others, but alone in its app
	})
	if len(got) != 1 || len(got["demo/seed-rwx"]) != 1 {
		t.Fatalf("overlaps %v, want one, of demo/seed-rwx", got)
	}
	for pod, app := range map[string]string{"clicks-klw9v": "clicks", "seed-rwx-xlbbh": "seed-rwx", "spark-pi-driver": "spark-pi-driver", "a-b": "a-b"} {
		if App(pod) != app {
			t.Errorf("App(%q) = %q, want %q", pod, App(pod), app)
		}
	}
}
