package analysis

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
	// The same event (object, reason, message) recorded more than once, as separate Event
	// objects or as one with a count, is one moment: the first time, with the total count.
	// A series (events.k8s.io) counts every occurrence, the first one too, which is recorded
	// as an Event of its own: its count is a total, not an addition.
	type eventKey struct{ obj, reason, msg string }
	merged := map[eventKey]int{} // index in events
	var events []Moment
	var counts, series []int32
	for _, ev := range s.Events {
		io := ev.InvolvedObject
		if !ours(io) {
			continue
		}
		t := ev.FirstTimestamp.Time
		if t.IsZero() {
			t = eventTime(ev)
		}
		if t.IsZero() {
			continue
		}
		k := eventKey{strings.ToLower(io.Kind) + "/" + io.Name, ev.Reason, strings.TrimSpace(ev.Message)}
		i, ok := merged[k]
		if !ok {
			i = len(events)
			merged[k] = i
			events = append(events, Moment{Time: t, Object: k.obj, What: k.reason + ": " + k.msg})
			counts, series = append(counts, 0), append(series, 0)
		}
		if t.Before(events[i].Time) {
			events[i].Time = t
		}
		if ev.Series != nil {
			series[i] = max(series[i], ev.Series.Count)
		} else {
			counts[i] += max(ev.Count, 1)
		}
	}
	for i, m := range events {
		if n := max(counts[i], series[i]); n > 1 {
			m.What += fmt.Sprintf(" (x%d)", n)
		}
		out = append(out, m)
	}
	sortMoments(out)
	return out
}

// sortMoments orders moments by time. Timestamps come from different clocks and most have
// whole seconds only (event timestamps, pod creation), so moments of the same second are
// ordered by cause and effect instead: a node lost before the taint, the eviction, the old
// driver stopping; then the Job creating the pod, its scheduling, volume attachment and
// mount, the container starting, the driver running.
func sortMoments(out []Moment) {
	sort.SliceStable(out, func(i, j int) bool {
		si, sj := out[i].Time.Truncate(time.Second), out[j].Time.Truncate(time.Second)
		if !si.Equal(sj) {
			return si.Before(sj)
		}
		if ri, rj := causalRank(out[i].What), causalRank(out[j].What); ri != rj {
			return ri < rj
		}
		return out[i].Time.Before(out[j].Time)
	})
}

// causalOrder lists, by the start of their text, the moments in the order one causes the
// next; a moment matching none comes after those of its second.
var causalOrder = []string{
	"node Ready again", // a node rejoins, then its kubelet finishes what was decided meanwhile
	"node Ready=", "NodeNotReady:",
	"node tainted",
	"TaintManagerEviction:", "evicted:",
	"Killing:",
	"driver containers stopped",
	"SuccessfulDelete:",
	"SuccessfulCreate:", // the Job controller creates the pod,
	"driver pod created",
	"FailedScheduling:", "Scheduled:", // the scheduler places it,
	"FailedAttachVolume:", "SuccessfulAttachVolume:", // its volumes attach,
	"FailedMount:",
	"Pulling:", "Pulled:", "Created:", "Started:", // the kubelet starts it
	"driver running",
	"Completed:",
}

func causalRank(what string) int {
	for i, prefix := range causalOrder {
		if strings.HasPrefix(what, prefix) {
			return i
		}
	}
	return len(causalOrder)
}
