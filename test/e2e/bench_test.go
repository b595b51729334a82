package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"

	corev1 "k8s.io/api/core/v1"
)

// BenchmarkRecovery measures, on the sandbox and in one run, how long a
// streaming app's driver takes to run again after its node is lost:
//
//	plugin:  the machine dies; the responder runs failover --node-down as
//	         soon as inspect reports the driver stuck
//	rejoin:  no plugin; the node was partitioned and comes back after 30s
//	never:   no plugin; the machine never comes back
//
// Run with: make bench-failover (go test ./e2e -run '^$' -bench Recovery -benchtime 1x).
func BenchmarkRecovery(b *testing.B) {
	const rejoinAfter, never = 30 * time.Second, 60 * time.Second
	var rows []string
	for i := 0; i < b.N; i++ {
		// With the plugin.
		e, ns, old := benchApp(b, "plugin")
		lost := old.Spec.NodeName
		lossAt := time.Now()
		if err := e.sb.Kill(lost); err != nil {
			b.Fatal(err)
		}
		e.eventually(60*time.Second, "inspect reports the driver stuck", func() (bool, string) {
			a, _ := e.inspectCLI(ns, "app")
			return a.Verdict == analysis.StuckTerminating, string(a.Verdict)
		})
		seenAt := time.Now()
		if out, stderr, code := e.cli("failover", "app", "-n", ns, "--node-down", "--yes", "--timeout", "120s"); code != 0 {
			b.Fatalf("failover: exit %d\n%s\n%s", code, out, stderr)
		}
		doneAt := time.Now()
		e.noOverlap(ns)
		b.ReportMetric(doneAt.Sub(seenAt).Seconds(), "s-failover-to-running")
		b.ReportMetric(doneAt.Sub(lossAt).Seconds(), "s-loss-to-running")
		rows = append(rows, fmt.Sprintf("| with plugin: failover --node-down | %.1f s from the command | %.1f s from the node loss (%.1f s of it: detection and eviction) |",
			doneAt.Sub(seenAt).Seconds(), doneAt.Sub(lossAt).Seconds(), seenAt.Sub(lossAt).Seconds()))

		// Without the plugin, the node rejoins.
		e, ns, old = benchApp(b, "rejoin")
		lost = old.Spec.NodeName
		lossAt = time.Now()
		if err := e.sb.Partition(lost); err != nil {
			b.Fatal(err)
		}
		time.Sleep(rejoinAfter)
		if err := e.sb.Rejoin(lost); err != nil {
			b.Fatal(err)
		}
		rejoinAt := time.Now()
		e.eventually(120*time.Second, "new driver Running", func() (bool, string) {
			repl, pods := e.replacement(ns, "app", old.Name)
			return repl != nil && repl.Status.Phase == "Running", describePods(pods)
		})
		doneAt = time.Now()
		e.noOverlap(ns)
		b.ReportMetric(doneAt.Sub(lossAt).Seconds(), "s-rejoin-loss-to-running")
		rows = append(rows, fmt.Sprintf("| without plugin: node rejoins after %s | %.1f s from the rejoin | %.1f s from the node loss |",
			rejoinAfter, doneAt.Sub(rejoinAt).Seconds(), doneAt.Sub(lossAt).Seconds()))

		// Without the plugin, the node never returns.
		e, ns, old = benchApp(b, "never")
		if err := e.sb.Kill(old.Spec.NodeName); err != nil {
			b.Fatal(err)
		}
		e.holds(never, "no new driver", func() (bool, string) {
			repl, pods := e.replacement(ns, "app", old.Name)
			return repl == nil || repl.Status.Phase != "Running", describePods(pods)
		})
		rows = append(rows, fmt.Sprintf("| without plugin: node never returns | never | not running %s after the node loss |", never))
	}
	table := "| recovery | time | |\n|---|---|---|\n" + strings.Join(rows, "\n")
	b.Logf("\n%s", table)
	fmt.Fprintf(os.Stdout, "\nRecovery after a lost node (sandbox, one run):\n%s\n", table)
}

// benchApp starts a sandbox with one sparkha app whose driver runs.
func benchApp(b *testing.B, name string) (*env, string, corev1.Pod) {
	b.Helper()
	e := start(b, twoNodes)
	ns := "bench-" + name
	e.namespace(ns)
	e.submitStreaming(ns, "app")
	return e, ns, e.runningDriver(ns, "app")
}
