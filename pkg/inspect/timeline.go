package inspect

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Moment is one dated step of an incident.
type Moment struct {
	Time time.Time `json:"time"`
	// Object the step is about, e.g. node/node-1 or pod/clicks-zgdtd.
	Object string `json:"object"`
	What   string `json:"what"`
}

// Timeline reconstructs the incident of one app from the snapshot's
// timestamps, conditions, taints and events, oldest first. Gather with
// Scope.AllEvents for the Normal events (creations, evictions) too.
func Timeline(s *Snapshot, app App) []Moment {
	var out []Moment
	add := func(t time.Time, obj, what string) {
		if !t.IsZero() {
			out = append(out, Moment{Time: t, Object: obj, What: what})
		}
	}
	pods := map[string]*corev1.Pod{}
	for i := range s.DriverPods {
		p := &s.DriverPods[i]
		if p.Namespace == app.Namespace {
			pods[p.Name] = p
		}
	}
	nodes := map[string]bool{}
	var firstDeletion time.Time
	for _, d := range app.Drivers {
		obj := "pod/" + d.Pod
		add(d.Created, obj, "driver pod created")
		p := pods[d.Pod]
		if p == nil {
			continue
		}
		if d.Node != "" {
			nodes[d.Node] = true
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Running != nil {
				add(cs.State.Running.StartedAt.Time, obj, "driver running on "+d.Node)
			}
			if t := cs.State.Terminated; t != nil {
				add(t.StartedAt.Time, obj, "driver running on "+d.Node)
				add(t.FinishedAt.Time, obj, fmt.Sprintf("driver containers stopped (%s, exit %d)", t.Reason, t.ExitCode))
			}
		}
		if c := podCondition(p, corev1.DisruptionTarget); c != nil && c.Status == corev1.ConditionTrue {
			add(c.LastTransitionTime.Time, obj, fmt.Sprintf("evicted: DisruptionTarget %s", c.Reason))
		}
		if d.Deleted != nil && (firstDeletion.IsZero() || d.Deleted.Before(firstDeletion)) {
			firstDeletion = *d.Deleted
		}
	}
	// Events outlive pods: a Job's earlier driver pods are named JOB-xxxxx.
	ours := func(io corev1.ObjectReference) bool {
		if io.Namespace != app.Namespace {
			return false
		}
		switch io.Kind {
		case "Pod":
			// The Job controller names pods JOB-xxxxx: five random characters.
			return pods[io.Name] != nil || (app.Job != "" && len(io.Name) == len(app.Job)+6 && strings.HasPrefix(io.Name, app.Job+"-"))
		case "Job":
			return io.Name == app.Job
		}
		return false
	}
	var lossSeen time.Time // the first sign of a lost node in our events
	for _, ev := range s.Events {
		if !ours(ev.InvolvedObject) {
			continue
		}
		switch ev.Reason {
		case "Scheduled":
			if _, node, ok := strings.Cut(ev.Message, " to "); ok {
				nodes[node] = true
			}
		case "NodeNotReady", "TaintManagerEviction":
			if t := ev.FirstTimestamp.Time; lossSeen.IsZero() || t.Before(lossSeen) {
				lossSeen = t
			}
		}
	}
	if lossSeen.IsZero() || (!firstDeletion.IsZero() && firstDeletion.Before(lossSeen)) {
		lossSeen = firstDeletion
	}
	for i := range s.Nodes {
		n := &s.Nodes[i]
		if !nodes[n.Name] {
			continue
		}
		obj := "node/" + n.Name
		if c := nodeCondition(n, corev1.NodeReady); c != nil {
			switch {
			case c.Status != corev1.ConditionTrue:
				add(c.LastTransitionTime.Time, obj, fmt.Sprintf("node Ready=%s (%s)", c.Status, c.Reason))
			case !lossSeen.IsZero() && c.LastTransitionTime.After(lossSeen):
				add(c.LastTransitionTime.Time, obj, "node Ready again (rejoined)")
			}
		}
		for _, t := range n.Spec.Taints {
			if t.TimeAdded != nil {
				add(t.TimeAdded.Time, obj, fmt.Sprintf("node tainted %s:%s", t.Key, t.Effect))
			}
		}
	}
	for _, ev := range s.Events {
		io := ev.InvolvedObject
		if !ours(io) {
			continue
		}
		t := ev.FirstTimestamp.Time
		if t.IsZero() {
			t = eventTime(ev)
		}
		what := ev.Reason + ": " + ev.Message
		if ev.Count > 1 {
			what += fmt.Sprintf(" (x%d)", ev.Count)
		}
		add(t, strings.ToLower(io.Kind)+"/"+io.Name, what)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}
