// Package render prints what pkg/analysis decides, for people: a report as a compact table or
// a wide tree, an incident as a timeline, a failover plan as text. Relative times ("3m ago")
// are made here, from the report's timestamps and Options.Now, so that the report itself stays
// the same from one second to the next. It never talks to the API server; the machine formats
// (-o json, yaml, jsonpath) are cli-runtime's printers, in pkg/plugin.
package render

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
)

// Options control the human formats.
type Options struct {
	AllNamespaces bool // add a NAMESPACE column
	NoHeaders     bool
	Color         bool // ANSI colour for verdicts (only on a terminal, never with NO_COLOR)
	Now           time.Time
}

// Table prints one line per app, the verdict first, then the next action of
// each app that needs attention.
func Table(w io.Writer, r *analysis.Report, o Options) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 8, 3, ' ', 0)
	// The SPARKAPP column only when an operator app is shown.
	operators := slices.ContainsFunc(r.Apps, func(a analysis.App) bool { return a.SparkApplication != nil })
	if !o.NoHeaders {
		cols := []string{"VERDICT", "APP", "DRIVER", "NODE", "STATUS", "EXEC", "AGE", "REASON"}
		if operators {
			cols = slices.Insert(cols, 6, "SPARKAPP")
		}
		if o.AllNamespaces {
			cols = append([]string{cols[0], "NAMESPACE"}, cols[1:]...)
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	for _, a := range r.Apps {
		d := current(a)
		cols := []string{string(a.Verdict), a.Name, "<none>", "<none>", "<none>", "<none>", "<none>", a.Reason}
		if d != nil {
			cols[2], cols[3], cols[4], cols[5], cols[6] = d.Pod, orDash(d.Node), d.Status, execCount(d), age(o.Now, d.Created)
		}
		if operators {
			cols = slices.Insert(cols, 6, sparkAppCell(a.SparkApplication))
		}
		if o.AllNamespaces {
			cols = append([]string{cols[0], a.Namespace}, cols[1:]...)
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Colour after alignment: escape codes would count as width in tabwriter.
	lines := strings.SplitAfter(buf.String(), "\n")
	for i, line := range lines {
		if i == 0 && !o.NoHeaders {
			continue
		}
		if v, rest, ok := strings.Cut(line, " "); ok {
			lines[i] = o.verdict(analysis.Verdict(v)) + " " + rest
		}
	}
	if _, err := io.WriteString(w, strings.Join(lines, "")); err != nil {
		return err
	}
	if o.NoHeaders {
		// Only table rows, for scripts.
		return nil
	}
	return nextActions(w, r)
}

func nextActions(w io.Writer, r *analysis.Report) error {
	first := true
	for _, a := range r.Apps {
		if !a.Verdict.NeedsAttention() {
			continue
		}
		if first {
			fmt.Fprintln(w, "\nNext actions:")
			first = false
		}
		if _, err := fmt.Fprintf(w, "  %s/%s: %s\n", a.Namespace, a.Name, a.NextAction); err != nil {
			return err
		}
		if a.Verdict == analysis.StrayExecutors {
			continue
		}
		for _, warning := range a.Warnings {
			if _, err := fmt.Fprintf(w, "  %s/%s: also: %s\n", a.Namespace, a.Name, warning); err != nil {
				return err
			}
		}
	}
	return nil
}

// current is the driver the table shows: the oldest live generation that is
// in trouble, else the newest.
func current(a analysis.App) *analysis.Driver {
	if len(a.Drivers) == 0 {
		return nil
	}
	for i := range a.Drivers {
		d := &a.Drivers[i]
		if a.LostNode != "" && d.Node == a.LostNode && !d.Ended {
			return d
		}
	}
	return &a.Drivers[len(a.Drivers)-1]
}

// jobLag notes when the Job's counters, as of its last status update, do not count yet a
// driver pod the pods show terminating: the Job controller counts as terminating a pod with a
// deletionTimestamp that has not reached Failed or Succeeded, and updates the Job's status a
// moment after the pod changes.
func jobLag(a analysis.App) string {
	var n int32
	for _, d := range a.Drivers {
		if d.Deleted != nil && !d.Ended {
			n++
		}
	}
	if n == a.JobStatus.Terminating {
		return ""
	}
	return fmt.Sprintf(" (the Job's last status; its pods show %d terminating: the Job controller has not caught up yet)", n)
}

// Tree prints each app with its driver generations, their nodes and their
// volume chains (the wide format).
func Tree(w io.Writer, r *analysis.Report, o Options) error {
	for i, a := range r.Apps {
		if i > 0 {
			fmt.Fprintln(w)
		}
		ctrl := string(a.Kind)
		if a.Job != "" {
			ctrl += " job/" + a.Job
		}
		fmt.Fprintf(w, "%s  %s/%s  (%s)\n", o.verdict(a.Verdict), a.Namespace, a.Name, ctrl)
		fmt.Fprintf(w, "  reason: %s\n", a.Reason)
		fmt.Fprintf(w, "  next:   %s\n", a.NextAction)
		if a.Verdict != analysis.StrayExecutors {
			for _, warning := range a.Warnings {
				fmt.Fprintf(w, "  also:   %s\n", warning)
			}
		}
		if js := a.JobStatus; js != nil {
			fmt.Fprintf(w, "  job:    active=%d terminating=%d failed=%d/%d podReplacementPolicy=%s%s\n",
				js.Active, js.Terminating, js.Failed, js.BackoffLimit, orDash(js.ReplacementPolicy), jobLag(a))
		}
		if sa := a.SparkApplication; sa != nil {
			fmt.Fprintf(w, "  operator: %s\n", sparkAppLine(sa))
		}
		for j, d := range a.Drivers {
			last := j == len(a.Drivers)-1
			branch, indent := "├─", "│  "
			if last {
				branch, indent = "└─", "   "
			}
			fmt.Fprintf(w, "  %s gen %d  pod/%s  %s  age %s\n", branch, d.Generation, d.Pod, d.Status, age(o.Now, d.Created))
			fmt.Fprintf(w, "  %s  node %s  %s\n", indent, orDash(d.Node), nodeLine(d, o.Now))
			if d.Deleted != nil {
				cause := ""
				if d.DisruptionTarget != nil {
					cause = fmt.Sprintf(" (DisruptionTarget: %s)", d.DisruptionTarget.Reason)
				}
				fmt.Fprintf(w, "  %s  deleted %s ago%s, containers stopped: %t\n", indent, age(o.Now, *d.Deleted), cause, d.ContainersStopped)
			}
			for _, v := range d.Volumes {
				fmt.Fprintf(w, "  %s  volume %s → pvc/%s → %s → %s\n", indent, v.Name, v.Claim, pvLine(v), attachLine(v))
				if v.NodeAffinity != "" {
					state := "a Ready node qualifies"
					if v.NoReadyNode {
						state = "NO Ready node qualifies"
					}
					fmt.Fprintf(w, "  %s    only on nodes matching %s: %s\n", indent, v.NodeAffinity, state)
				}
				if v.LastEvent != nil {
					fmt.Fprintf(w, "  %s    %s: %s\n", indent, v.LastEvent.Reason, v.LastEvent.Message)
				}
			}
			if c := d.ExecutorCounts; c != nil {
				fmt.Fprintf(w, "  %s  executors %s running (%s) on %s\n", indent, execCount(&d), phases(c), orDash(strings.Join(c.Nodes, ", ")))
				executorLines(w, indent+"    ", d.Executors, o.Now)
			}
		}
		if len(a.OrphanExecutors) > 0 {
			fmt.Fprintf(w, "  executors whose driver pod is gone:\n")
			executorLines(w, "    ", a.OrphanExecutors, o.Now)
		}
	}
	if len(r.Unavailable) > 0 {
		fmt.Fprintf(w, "\nnot visible with your permissions: %s\n", strings.Join(r.Unavailable, "; "))
	}
	return nil
}

// sparkAppCell is the table's SPARKAPP column: the SparkApplication's state, its restart policy
// and the retries left.
func sparkAppCell(sa *analysis.OperatorApp) string {
	switch {
	case sa == nil:
		return "<none>"
	case sa.APIVersion == "":
		return "<not found>"
	case sa.RetriesLeft != nil:
		return fmt.Sprintf("%s (%s, %d left)", orDash(sa.State), sa.RestartPolicy, *sa.RetriesLeft)
	}
	return fmt.Sprintf("%s (%s)", orDash(sa.State), sa.RestartPolicy)
}

// sparkAppLine says what the wide format says of an app's SparkApplication.
func sparkAppLine(sa *analysis.OperatorApp) string {
	if sa.APIVersion == "" {
		return sa.Why
	}
	next := "starts no new driver after this one"
	if sa.Resubmits {
		next = "starts the next driver"
	}
	return fmt.Sprintf("sparkapplication/%s (%s) %s, restart policy %s: its operator %s (%s)", sa.Name, sa.APIVersion, orDash(sa.State), sa.RestartPolicy, next, sa.Why)
}

// execCount is "running/total" executors of a driver generation.
func execCount(d *analysis.Driver) string {
	if d.ExecutorCounts == nil {
		return "0/0"
	}
	return fmt.Sprintf("%d/%d", d.ExecutorCounts.Running, d.ExecutorCounts.Total)
}

func phases(c *analysis.ExecutorCounts) string {
	var parts []string
	for _, p := range []string{"Running", "Pending", "Terminating", "Succeeded", "Failed", "Unknown"} {
		if n := c.ByPhase[p]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", p, n))
		}
	}
	return strings.Join(parts, " ")
}

func executorLines(w io.Writer, indent string, xs []analysis.Executor, now time.Time) {
	for _, x := range xs {
		line := fmt.Sprintf("%sexec %s  pod/%s  %s  node %s", indent, orDash(x.ID), x.Pod, x.Status, orDash(x.Node))
		if x.NodeReady != "" {
			line += " (Ready=" + x.NodeReady + ")"
		}
		if x.Deleted != nil {
			line += ", deleted " + age(now, *x.Deleted) + " ago"
		}
		if x.Stray {
			line += "  STRAY: its driver is gone, deleted or fenced"
		}
		fmt.Fprintln(w, line)
	}
}

func nodeLine(d analysis.Driver, now time.Time) string {
	var parts []string
	if d.NodeReady != "" {
		parts = append(parts, "Ready="+d.NodeReady)
	}
	if d.NodeHeartbeat != nil {
		parts = append(parts, "heartbeat "+age(now, *d.NodeHeartbeat)+" ago")
	}
	if len(d.NodeTaints) > 0 {
		parts = append(parts, "taints "+strings.Join(d.NodeTaints, ","))
	}
	return strings.Join(parts, ", ")
}

func pvLine(v analysis.Volume) string {
	if v.PV == "" {
		return "(unbound)"
	}
	s := "pv/" + v.PV
	if len(v.AccessModes) > 0 {
		s += " (" + strings.Join(v.AccessModes, ",") + ")"
	}
	return s
}

func attachLine(v analysis.Volume) string {
	if v.NoAttach && len(v.Attachments) == 0 {
		return "no attach needed"
	}
	if len(v.Attachments) == 0 {
		return "not attached"
	}
	var parts []string
	for _, a := range v.Attachments {
		s := "attached to " + a.Node
		if !a.Attached {
			s = "attaching to " + a.Node
		}
		if a.Deleting {
			s += " (detaching)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func orDash(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// age prints how long ago t was, as kubectl's AGE column does.
func age(now, t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t))
}

func (o Options) verdict(v analysis.Verdict) string {
	if !o.Color {
		return string(v)
	}
	code := "32" // green
	switch {
	case v == analysis.SplitBrainRisk || v == analysis.RetriesExhausted:
		code = "1;31"
	case v.NeedsAttention():
		code = "33"
	case v == analysis.Starting:
		code = "36"
	}
	return "\x1b[" + code + "m" + string(v) + "\x1b[0m"
}

// Timeline prints the moments of an incident, with the time since the first.
func Timeline(w io.Writer, moments []analysis.Moment) error {
	if len(moments) == 0 {
		_, err := fmt.Fprintln(w, "no dated evidence for this app")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSINCE\tOBJECT\tWHAT")
	// Whole seconds, as TIME shows them: most timestamps have no finer precision, and
	// moments of one second are in causal order, not by their sub-second clocks.
	start := moments[0].Time.Truncate(time.Second)
	for _, m := range moments {
		fmt.Fprintf(tw, "%s\t+%s\t%s\t%s\n", m.Time.Local().Format("15:04:05"), m.Time.Truncate(time.Second).Sub(start), m.Object, m.What)
	}
	return tw.Flush()
}
