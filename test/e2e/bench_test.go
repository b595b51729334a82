package e2e

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"

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

// BenchmarkFenceToRunning measures failover at the controller's limit: on one sandbox, in the
// same minute, two apps whose drivers ran on two machines that were powered off (killed), once
// both drivers are evicted (StuckTerminating), are recovered side by side
//
//	plugin: kubectl sparkha failover APP --node-down --yes --wait (fence, then collect the old
//	        driver as the pod garbage collector would, then wait)
//	raw:    kubectl taint node NODE node.kubernetes.io/out-of-service=nodeshutdown:NoExecute,
//	        then Kubernetes alone (PodGC's pass every 20 s removes the old driver)
//
// each timed from its command to the new driver Running. SPARKHA_RECOVERY_RUNS runs (10 by
// default, each on a new sandbox); prints the median, minimum and maximum of each and the ratio
// of the medians. Run with: make bench-failover.
func BenchmarkFenceToRunning(b *testing.B) {
	runs := 10
	if s := os.Getenv("SPARKHA_RECOVERY_RUNS"); s != "" {
		if _, err := fmt.Sscan(s, &runs); err != nil || runs < 1 {
			b.Fatalf("SPARKHA_RECOVERY_RUNS=%q: want a positive number", s)
		}
	}
	var plugin, raw []float64
	for i := 0; i < runs; i++ {
		p, r := fenceToRunning(b)
		plugin, raw = append(plugin, p.Seconds()), append(raw, r.Seconds())
		b.Logf("run %d: failover --node-down %.1f s, raw taint %.1f s", i+1, p.Seconds(), r.Seconds())
	}
	mp, mr := median(plugin), median(raw)
	b.ReportMetric(mp, "s-failover-median")
	b.ReportMetric(mr, "s-raw-taint-median")
	table := fmt.Sprintf("| from the command to the new driver Running | median | min | max |\n|---|---|---|---|\n"+
		"| `failover APP --node-down --yes --wait` | %.1f s | %.1f s | %.1f s |\n"+
		"| `kubectl taint node NODE node.kubernetes.io/out-of-service=nodeshutdown:NoExecute` | %.1f s | %.1f s | %.1f s |\n\n"+
		"%d runs, each on a new sandbox, both paths in the same minute; median ratio raw/failover %.1f.",
		mp, slices.Min(plugin), slices.Max(plugin), mr, slices.Min(raw), slices.Max(raw), runs, mr/mp)
	fmt.Fprintf(os.Stdout, "\nFence to new driver Running (sandbox):\n%s\n", table)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// fenceToRunning runs one side-by-side recovery and returns the time of each path.
func fenceToRunning(b *testing.B) (plugin, raw time.Duration) {
	e := start(b, sandbox.Options{Nodes: []string{"node-a", "node-b", "node-c"}})
	// One driver on node-a, the other on node-b; node-c is left for both replacements.
	place := func(ns, node string) corev1.Pod {
		for _, n := range []string{"node-a", "node-b", "node-c"} {
			if n != node {
				e.kubectl("cordon", n)
			}
		}
		e.namespace(ns)
		e.submitStreaming(ns, "app")
		pod := e.runningDriver(ns, "app")
		for _, n := range []string{"node-a", "node-b", "node-c"} {
			e.kubectl("uncordon", n)
		}
		return pod
	}
	oldPlugin, oldRaw := place("plugin", "node-a"), place("raw", "node-b")
	for _, n := range []string{"node-a", "node-b"} {
		if err := e.sb.Kill(n); err != nil {
			b.Fatal(err)
		}
	}
	for _, ns := range []string{"plugin", "raw"} {
		e.eventually(90*time.Second, ns+": driver evicted", func() (bool, string) {
			a, _ := e.inspectCLI(ns, "app")
			return a.Verdict == analysis.StuckTerminating, string(a.Verdict)
		})
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		t0 := time.Now()
		if out, stderr, code := e.cli("failover", "app", "-n", "plugin", "--node-down", "--yes", "--wait", "--timeout", "120s"); code != 0 {
			b.Errorf("failover: exit %d\n%s\n%s", code, out, stderr)
		}
		plugin = time.Since(t0)
	}()
	go func() {
		defer wg.Done()
		t0 := time.Now()
		if _, err := e.run(bins.Kubectl, "taint", "node", "node-b", corev1.TaintNodeOutOfService+"=nodeshutdown:NoExecute"); err != nil {
			b.Error(err)
			return
		}
		for deadline := t0.Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if repl, _ := e.replacement("raw", "app", oldRaw.Name); repl != nil && repl.Status.Phase == corev1.PodRunning {
				raw = time.Since(t0)
				return
			}
		}
		b.Error("raw taint: no new driver Running after 120 s")
	}()
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	e.noOverlap("plugin")
	e.noOverlap("raw")
	_ = oldPlugin
	return plugin, raw
}
