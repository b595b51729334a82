package render

import (
	"fmt"
	"io"
	"strings"

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
