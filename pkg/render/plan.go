package render

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
)

// Plan prints a failover plan as text: what will be done and why, the pods a fence
// force-deletes, and the phases waited for. note qualifies the heading, e.g. " (dry run)".
func Plan(w io.Writer, p analysis.Plan, note string) error {
	var b strings.Builder
	switch p.Outcome {
	case analysis.NothingToDo:
		fmt.Fprintf(&b, "%s/%s: %s\n", p.Namespace, p.App, p.Message)
	case analysis.Refuse:
		fmt.Fprintf(&b, "%s/%s (%s): refused, nothing was done\n", p.Namespace, p.App, p.Verdict)
	default:
		fmt.Fprintf(&b, "Failover plan for %s/%s (%s)%s:\n", p.Namespace, p.App, p.Verdict, note)
		// The evidence of the node a step fences, or collects from after someone else fenced it.
		if e := p.NodeEvidence; e != nil && slices.ContainsFunc(p.Steps, func(s analysis.Step) bool {
			return s.Node == e.Node && (s.Action == analysis.FenceNode || s.Action == analysis.CollectOldDriver)
		}) {
			fmt.Fprintf(&b, "  What the cluster says of node %s: %s\n", e.Node, Evidence(e))
		}
		if len(p.Steps) == 0 && p.Message != "" {
			fmt.Fprintf(&b, "  %s\n", p.Message)
		}
		for i, s := range p.Steps {
			fmt.Fprintf(&b, "  %d. %s\n     why: %s\n", i+1, analysis.Describe(s), s.Why)
		}
		if len(p.BlastRadius) > 0 {
			fmt.Fprintf(&b, "  The fence is node-wide: these pods are force-deleted and their volumes detached:\n")
			for _, r := range p.BlastRadius {
				fmt.Fprintf(&b, "     - %s\n", r)
			}
		}
		if len(p.Waits) > 0 {
			fmt.Fprintf(&b, "  Then wait for: %s\n", strings.Join(p.Waits, " → "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Evidence says what the cluster knows of a node's machine, on one line.
func Evidence(e *analysis.NodeEvidence) string {
	parts := []string{"Ready=" + e.Ready}
	if e.ReadyReason != "" {
		parts[0] += " (" + e.ReadyReason + ")"
	}
	at := func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.UTC().Format("15:04:05Z")
	}
	if e.Ready != "Missing" {
		parts = append(parts, "since "+at(e.ReadySince), "Lease last renewed "+at(e.LeaseRenewed), "status last posted "+at(e.StatusHeartbeat))
	}
	shutdown := "no cloud shutdown taint"
	if e.CloudShutdown {
		shutdown = "cloud shutdown taint set"
	}
	parts = append(parts, shutdown)
	// A remediation that fenced the machine is in Down; one that has not is named here.
	for _, r := range e.Remediations {
		if !r.Fenced {
			parts = append(parts, fmt.Sprintf("%s %s/%s: %s", r.Kind, r.Namespace, r.Name, r.State))
		}
	}
	if len(e.RemediationsUnseen) > 0 {
		parts = append(parts, "remediations not visible ("+strings.Join(e.RemediationsUnseen, ", ")+")")
	}
	switch {
	case e.Alive != "":
		parts = append(parts, "EVIDENCE OF LIFE: "+e.Alive)
	case e.Down != "":
		parts = append(parts, "evidence it is down: "+e.Down)
	default:
		parts = append(parts, "no evidence either way: the fence rests on your word")
	}
	return strings.Join(parts, "; ")
}
