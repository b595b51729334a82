package e2e

import (
	"flag"
	"fmt"
	"math/rand"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

var (
	chaosRuns = flag.Int("chaos-runs", 1, "randomized chaos schedules to run (make chaos RUNS=N)")
	chaosSeed = flag.Int64("chaos-seed", 0, "seed of the first chaos run; 0 picks one from the clock (make chaos SEED=S)")
	chaosReal = flag.Bool("chaos-real-spark", false, "run each app as Spark's own streaming query on the newest Spark line (make chaos SPARK=real)")
)

// chaosAppsPerRun apps are submitted in each run, each with a storage kind drawn from the
// matrix (storageKinds) and named after it. With real Spark, two: a driver and an executor each,
// four JVMs on the machine's two cores, and as many again while generations change.
func chaosAppsPerRun() int {
	if *chaosReal {
		return 2
	}
	return 3
}

// chaos is one randomized schedule on its own sandbox.
type chaos struct {
	*env
	rng   *rand.Rand
	nodes []string
	// partitioned machines are frozen (sandbox.Partition); isolated ones run on cut off from
	// the API server, their drivers writing (sandbox.Isolate).
	partitioned map[string]bool
	isolated    map[string]bool
	killed      map[string]bool
	log         []string
	began       time.Time
	// executors of a generation that a later one followed, and the most
	// any of them ran past the next driver's start.
	executors  map[string]bool
	maxOverrun time.Duration
	// apps are the apps of the run, kinds their storage.
	apps  []string
	kinds map[string]storageKind
	// verdictsChecked counts inspect verdicts compared with the ground truth.
	verdictsChecked int
	// failedNonZero counts failover --node-down --wait runs of the heal that exited non-zero
	// (not a refusal) for an app that then ran again.
	failedNonZero map[string]int
	// checkpoints is, with real Spark, the content directory of each app's checkpoint volume.
	checkpoints map[string]string
}

func (c *chaos) act(format string, args ...any) {
	line := fmt.Sprintf("%6.1fs  ", time.Since(c.began).Seconds()) + fmt.Sprintf(format, args...)
	c.log = append(c.log, line)
	c.t.Log(line)
}

// alive lists the nodes neither partitioned, isolated nor killed.
func (c *chaos) alive() []string {
	var out []string
	for _, n := range c.nodes {
		if !c.partitioned[n] && !c.isolated[n] && !c.killed[n] {
			out = append(out, n)
		}
	}
	return out
}

func (c *chaos) pick(from []string) string { return from[c.rng.Intn(len(from))] }

// overlaps checks the invariant against the ground truth: never two driver
// generations of one app running at once.
func overlapsByApp(ivs []truth.Interval, apps []string) map[string][][2]truth.Interval {
	out := map[string][][2]truth.Interval{}
	for _, app := range apps {
		mine := truth.Filter(ivs, func(i truth.Interval) bool { return isDriverOf(i, app) })
		if o := truth.Overlaps(mine); len(o) > 0 {
			out[app] = o
		}
	}
	return out
}

// executorBound is how long an executor of driver generation N may still
// run after generation N+1's driver started: what the sandbox measured (see
// test/README.md), with margin. A real executor exits when its driver's
// connection drops; the simulated one when its machine next syncs (every
// 250 ms) after the driver's machine recorded the driver stopped.
const executorBound = 2 * time.Second

// executorOverrun is how long an executor of one generation ran past the
// start of the next generation's driver (negative: it stopped before).
type executorOverrun struct {
	exec, next truth.Interval
	by         time.Duration
}

// executorOverruns lists, per app, each executor of a driver generation that
// a later generation followed, with how far it ran past the next driver's
// start. Executors still open on a stopped (partitioned) machine are left
// out: that machine records their exit, at the time it happened, when it
// runs again.
func executorOverruns(ivs []truth.Interval, apps []string, frozen map[string]bool) map[string][]executorOverrun {
	out := map[string][]executorOverrun{}
	for _, app := range apps {
		drivers := truth.Filter(ivs, func(i truth.Interval) bool { return isDriverOf(i, app) })
		next := map[string]truth.Interval{}
		for i, d := range drivers {
			for _, later := range drivers[i+1:] {
				if later.Start.After(d.Start) {
					next[d.UID] = later
					break
				}
			}
		}
		for _, e := range ivs {
			n, ok := next[e.Driver]
			if e.Role != "executor" || !ok || (e.Running() && frozen[e.Node]) {
				continue
			}
			end := e.End
			if e.Running() {
				end = time.Now()
			}
			out[app] = append(out[app], executorOverrun{e, n, end.Sub(n.Start)})
		}
	}
	return out
}

func (c *chaos) checkInvariant(ns string, apps []string) {
	c.t.Helper()
	if v := c.violations(ns, apps); len(v) > 0 {
		c.t.Fatalf("INVARIANT BROKEN: %s\nschedule:\n%s", strings.Join(v, "\n"), strings.Join(c.log, "\n"))
	}
}

// violations checks the ground truth: never two drivers of one app at once, never two writers
// of one checkpoint, no executor of a generation running past the next driver's start by more
// than executorBound; and what inspect says of each app against it.
func (c *chaos) violations(ns string, apps []string) []string {
	var out []string
	ivs := c.allTruth(ns)
	drivers := truth.Filter(ivs, func(i truth.Interval) bool { return i.Role != "executor" })
	if o := overlapsByApp(drivers, apps); len(o) > 0 {
		out = append(out, fmt.Sprintf("two drivers ran at once: %v", o))
	}
	if w := truth.ConcurrentGenerations(c.writes()); len(w) > 0 {
		out = append(out, fmt.Sprintf("two drivers wrote one checkpoint at once: %v", w))
	}
	for app, os := range executorOverruns(ivs, apps, c.partitioned) {
		for _, o := range os {
			c.executors[o.exec.UID] = true
			if o.by > c.maxOverrun {
				c.maxOverrun = o.by
			}
			if o.by > executorBound {
				out = append(out, fmt.Sprintf("executor %s of %s ran %s after the next driver %s started (bound %s)", o.exec, app, o.by, o.next, executorBound))
			}
		}
	}
	return append(out, c.verdictsAgainstTruth(ns, apps)...)
}

// verdictsAgainstTruth asks inspect for every app between two reads of the ground truth and
// flags a verdict the truth contradicts: Healthy while two of the app's drivers run, or
// SafeToComplete while the driver it would complete still runs. A driver counts as running
// only if it runs in both reads, so it ran while inspect looked.
func (c *chaos) verdictsAgainstTruth(ns string, apps []string) []string {
	before := c.truth(ns)
	verdicts := map[string]analysis.App{}
	for _, app := range apps {
		verdicts[app], _ = c.inspectCLI(ns, app)
	}
	after := c.truth(ns)
	c.verdictsChecked += len(apps)
	runsThroughout := func(uid string) bool {
		b, inBefore := truth.Process(before, uid)
		a, inAfter := truth.Process(after, uid)
		return inBefore && inAfter && b.Running() && a.Running()
	}
	var out []string
	for _, app := range apps {
		a := verdicts[app]
		var running []string
		for _, iv := range before {
			if isDriverOf(iv, app) && runsThroughout(iv.UID) {
				running = append(running, iv.String())
			}
		}
		switch {
		case a.Verdict == analysis.Healthy && len(running) > 1:
			out = append(out, fmt.Sprintf("inspect says %s is Healthy while %d of its drivers run: %s", app, len(running), strings.Join(running, " | ")))
		case a.Verdict == analysis.SafeToComplete:
			for _, d := range a.Drivers {
				if d.Deleted != nil && runsThroughout(d.UID) {
					out = append(out, fmt.Sprintf("inspect says %s is SafeToComplete while its old driver %s still runs", app, d.Pod))
				}
			}
		}
	}
	return out
}

// isDriverOf: iv is a driver pod of app's Job (its pods are named app-XXXXX).
func isDriverOf(iv truth.Interval, app string) bool {
	return iv.Role != "executor" && strings.HasPrefix(iv.Pod, app+"-") && len(iv.Pod) == len(app)+6
}

// inspectAll returns each app's report, by name.
func (c *chaos) inspectAll(ns string) map[string]analysis.App {
	out := map[string]analysis.App{}
	for _, app := range c.apps {
		a, _ := c.inspectCLI(ns, app)
		out[app] = a
	}
	return out
}

// TestChaos runs randomized schedules of partitions, rejoins, flapping nodes,
// a killed node and operator actions (inspect, failover with and without
// --node-down, the latter only for a node the operator knows is dead) over
// three apps whose checkpoint storage is drawn from the storage matrix (CSI that
// attaches, RWOP or RWO; CSI without attach; NFS; a local PV on node-a; a zonal PV
// in zone-1 = node-a, node-b; none; an object store). The invariant, checked
// against the ground truth after every step: never two driver generations of one
// app at once; and in the end every app runs again or is reported as needing a
// decision (its Job failed, or its volume is pinned to a dead node). Each run
// prints its seed; `make chaos RUNS=1 SEED=S` replays it. With -chaos-real-spark
// (`make chaos SPARK=real`) the apps are Spark's own streaming queries on the
// kinds that have a volume, and at the end no checkpoint or output may have lost
// or repeated a batch (checkQueries).
func TestChaos(t *testing.T) {
	seed := *chaosSeed
	if seed == 0 {
		seed = time.Now().UnixNano() % 1_000_000
	}
	type result struct {
		seed                      int64
		steps, recovered, nonZero int
		decisions                 []string
		kinds                     []string
	}
	var results []result
	for i := 0; i < *chaosRuns; i++ {
		s := seed + int64(i)
		t.Run(fmt.Sprintf("seed-%d", s), func(t *testing.T) {
			t.Logf("chaos seed %d: replay with `make chaos RUNS=1 SEED=%d`", s, s)
			steps, recovered, nonZero, decisions, kinds := chaosRun(t, s)
			results = append(results, result{s, steps, recovered, nonZero, decisions, kinds})
			// One line per run, so runs spread over several processes add up.
			t.Logf("CHAOS RUN: seed %d, storage %v, %d actions, %d/%d apps ran again, %d needing a decision %v, %d failovers exited non-zero although the app ran again, 0 invariant violations",
				s, kinds, steps, recovered, chaosAppsPerRun(), len(decisions), decisions, nonZero)
		})
		if t.Failed() {
			break
		}
	}
	total, recovered, steps, nonZero := 0, 0, 0, 0
	var decisions []string
	byKind := map[string]int{}
	for _, r := range results {
		total += chaosAppsPerRun()
		recovered += r.recovered
		steps += r.steps
		nonZero += r.nonZero
		decisions = append(decisions, r.decisions...)
		for _, k := range r.kinds {
			byKind[k]++
		}
	}
	t.Logf("CHAOS TOTALS: %d runs (seeds %d..%d), %d actions, %d app-runs (by storage %v), %d ran again, %d reported as needing a decision %v, %d failovers exited non-zero although the app ran again, 0 invariant violations",
		len(results), seed, seed+int64(len(results))-1, steps, total, byKind, recovered, len(decisions), decisions, nonZero)
}

func chaosRun(t *testing.T, seed int64) (steps, recovered, nonZero int, decisions, kinds []string) {
	const ns = "chaos"
	var e *env
	var image string
	pool := storageKinds
	if *chaosReal {
		// A real query needs its checkpoint on a volume: the kinds without one are left out.
		e, image = startRealSpark(t, matrixNodes, sparkLines[len(sparkLines)-1], ns)
		pool = slices.DeleteFunc(slices.Clone(storageKinds), func(k storageKind) bool { return !k.hasClaim() })
	} else {
		e = start(t, matrixNodes)
		e.namespace(ns)
	}
	e.zoneNodes()
	c := &chaos{env: e, rng: rand.New(rand.NewSource(seed)), nodes: matrixNodes.Nodes,
		partitioned: map[string]bool{}, isolated: map[string]bool{}, killed: map[string]bool{}, began: time.Now(), executors: map[string]bool{}, maxOverrun: -time.Hour,
		kinds: map[string]storageKind{}, failedNonZero: map[string]int{}, checkpoints: map[string]string{}}
	for _, i := range c.rng.Perm(len(pool))[:chaosAppsPerRun()] {
		k := pool[i]
		c.apps = append(c.apps, k.name)
		c.kinds[k.name] = k
	}
	sort.Strings(c.apps)
	apps := c.apps
	for _, app := range apps {
		if *chaosReal {
			flags, claim := e.checkpointStorage(ns, app, c.kinds[app])
			if out, stderr, code := e.cli(streamArgs(ns, app, image, realApp(c.kinds[app]).class, append(flags, "--node-lost-timeout", "3s")...)...); code != 0 {
				t.Fatalf("submit %s: exit %d\n%s\n%s", app, code, out, stderr)
			}
			c.checkpoints[app] = e.volumeContent(ns, claim)
		} else {
			e.submitWithStorage(ns, app, c.kinds[app], "--node-lost-timeout", "3s")
		}
		kinds = append(kinds, app)
	}
	for _, app := range apps {
		if dir, ok := c.checkpoints[app]; ok {
			e.eventually(3*time.Minute, app+"'s query committing its first batch", func() (bool, string) {
				q := e.streamQuery(dir)
				return q.LastCommit() >= 0, fmt.Sprint(q.Commits)
			})
		}
	}
	// Real drivers live longer between actions, so that a cut lasts past the node's eviction and
	// a generation change is the common case rather than the exception (with the stand-in's
	// schedule, 8 of 12 real app-runs kept their first driver).
	actions, pause, spread := 6+c.rng.Intn(5), 1000, 5000
	if *chaosReal {
		actions, pause, spread = 10+c.rng.Intn(6), 2000, 8000
	}
	for step := 0; step < actions; step++ {
		time.Sleep(time.Duration(pause+c.rng.Intn(spread)) * time.Millisecond)
		c.randomAction(ns, apps)
		c.checkInvariant(ns, apps)
	}

	// Heal what can heal; the operator fences what it knows is dead.
	for _, n := range c.nodes {
		if c.partitioned[n] || c.isolated[n] {
			c.act("rejoin %s (heal)", n)
			if err := e.sb.Rejoin(n); err != nil {
				t.Fatal(err)
			}
			delete(c.partitioned, n)
			delete(c.isolated, n)
		}
	}
	// A real driver is a JVM to start on a busy machine, and a query to resume.
	patience := 150 * time.Second
	if *chaosReal {
		patience = 4 * time.Minute
	}
	var ranAgain []string
	for _, app := range apps {
		var last analysis.App
		deadline := time.Now().Add(patience)
		failed := 0
		for time.Now().Before(deadline) {
			last, _ = e.inspectCLI(ns, app)
			if last.Verdict == analysis.Healthy || last.Verdict == analysis.RetriesExhausted || pinnedToDead(last, c.killed) {
				break
			}
			if last.LostNode != "" && c.killed[last.LostNode] {
				c.act("failover %s --node-down (%s is dead)", app, last.LostNode)
				_, stderr, code := e.cli("failover", app, "-n", ns, "--node-down", "--yes", "--timeout", "60s")
				if code != 0 && code != 4 {
					failed++
					c.act("  exit %d: %s", code, firstLine(stderr))
				}
			} else if last.Verdict == analysis.SafeToComplete {
				c.act("failover %s", app)
				e.cli("failover", app, "-n", ns, "--timeout", "60s")
			}
			c.checkInvariant(ns, apps)
			time.Sleep(time.Second)
		}
		switch {
		case last.Verdict == analysis.Healthy:
			ranAgain = append(ranAgain, app)
			recovered++
			nonZero += failed
		case last.Verdict == analysis.RetriesExhausted, pinnedToDead(last, c.killed):
			decisions = append(decisions, fmt.Sprintf("%s@%d: %s", app, seed, last.Reason))
		default:
			t.Fatalf("app %s neither ran again nor asked for a decision: %s (%s)\nschedule:\n%s", app, last.Verdict, last.Reason, strings.Join(c.log, "\n"))
		}
	}
	c.checkInvariant(ns, apps)
	if *chaosReal {
		c.fenceDeadExecutorNodes()
		c.checkQueries(ns, ranAgain)
	}
	ivs := c.allTruth(ns)
	execs := truth.Filter(ivs, func(i truth.Interval) bool { return i.Role == "executor" })
	if len(execs) == 0 {
		t.Fatalf("no executor ran: the Spark stand-in created none")
	}
	overrun := "none followed by a next generation"
	if len(c.executors) > 0 {
		overrun = fmt.Sprintf("at most %s past the next driver's start", c.maxOverrun.Round(time.Millisecond))
	}
	// How long after its driver's process stopped each executor stopped.
	lag, lagged := time.Duration(0), 0
	for _, e := range execs {
		if d, ok := truth.Process(ivs, e.Driver); ok && !d.Running() && !e.Running() && !e.End.Before(d.End) {
			lag, lagged = max(lag, e.End.Sub(d.End)), lagged+1
		}
	}
	t.Logf("CHAOS EXECUTORS: seed %d, %d executor runs, %d of superseded generations, %s (bound %s); %d stopped after their driver, at most %s later",
		seed, len(execs), len(c.executors), overrun, executorBound, lagged, lag.Round(time.Millisecond))
	writers := truth.Writers(c.writes())
	t.Logf("CHAOS TRUTH CHECKS: seed %d, %d inspect verdicts compared with the ground truth, %d checkpoint writers seen, %d writes, %d refused by a detached volume, 0 pairs of concurrent writers",
		seed, c.verdictsChecked, len(writers), sumWrites(writers, false), sumWrites(writers, true))
	return len(c.log), recovered, nonZero, decisions, kinds
}

// sparkApp is a streaming app of testdata/spark, and how its output is read back from its
// volume's content.
type sparkApp struct {
	class  string
	output func(volume string) ([]truth.Window, error)
}

var (
	statefulStream = sparkApp{"SparkhaStream", func(v string) ([]truth.Window, error) { return truth.ReadWindows(filepath.Join(v, "sink")) }}
	driverSink     = sparkApp{"SparkhaDriverSink", func(v string) ([]truth.Window, error) { return truth.ReadBatches(filepath.Join(v, "batches")) }}
)

// realApp is the app a chaos app runs as on storage of kind k. A ReadWriteMany checkpoint,
// mounted on the executors too, holds the stateful query (its executors write the state stores
// and the sink's files); any other is mounted by the driver only, so it holds the stateless
// query whose driver alone writes: what kubectl sparkha submit says each serves.
func realApp(k storageKind) sparkApp {
	if k.manyWriters {
		return statefulStream
	}
	return driverSink
}

// fenceDeadExecutorNodes taints each killed machine that no failover fenced out of service by
// hand, as Kubernetes' non-graceful node shutdown asks of whoever knows a node is down: with real
// Spark, an executor left on a dead machine holds its query. Its evicted pod stays Running with
// a deletion timestamp, which Spark does not count as deleted (ExecutorPodsSnapshot.isDeleted),
// so the driver asks for no other executor; its heartbeat timeout (spark.network.timeout, 120 s)
// removes the executor but its pod still counts, and the query waits until the pod is gone
// (seed 408: no batch for the 7 minutes the run waited). The taint lets the pod garbage collector
// delete the pods there, and the driver replaces its executor.
func (c *chaos) fenceDeadExecutorNodes() {
	c.t.Helper()
	for _, n := range c.nodes {
		if !c.killed[n] {
			continue
		}
		node, err := c.client().CoreV1().Nodes().Get(ctx, n, metav1.GetOptions{})
		if err != nil {
			c.t.Fatal(err)
		}
		if slices.ContainsFunc(node.Spec.Taints, func(t corev1.Taint) bool { return t.Key == corev1.TaintNodeOutOfService }) {
			continue
		}
		c.act("taint %s out-of-service by hand: it is dead, and an executor there holds its query", n)
		c.kubectl("taint", "node", n, corev1.TaintNodeOutOfService+"=nodeshutdown:NoExecute")
	}
}

// checkQueries reads each real app's checkpoint and sink once the run is over: every app that
// ran again commits two more batches, and in every app's checkpoint and sink no batch is missing
// or committed twice and no source value is lost or counted twice, whatever drivers came and went.
func (c *chaos) checkQueries(ns string, ranAgain []string) {
	c.t.Helper()
	for _, app := range c.apps {
		dir := c.checkpoints[app]
		query := func() truth.Query { return c.streamQuery(dir) }
		if slices.Contains(ranAgain, app) {
			// Spark's own pace: a new driver's JVM, a new executor's, and the batch its task
			// lost on a killed machine (fenceDeadExecutorNodes).
			from := query().LastCommit()
			c.eventually(5*time.Minute, app+"'s query committing two more batches", func() (bool, string) {
				q := query()
				return q.LastCommit() >= from+2, fmt.Sprintf("commits %v (%d when it ran again)", q.Commits, from)
			})
		}
		q := query()
		if err := q.Check(); err != nil {
			c.t.Errorf("%s's checkpoint: %v\nschedule:\n%s", app, err, strings.Join(c.log, "\n"))
		}
		windows, err := realApp(c.kinds[app]).output(dir)
		var last int64
		if err == nil {
			last, err = truth.CheckWindows(windows)
		}
		if err != nil {
			c.t.Errorf("%s's output: %v\nschedule:\n%s", app, err, strings.Join(c.log, "\n"))
		}
		drivers := truth.Filter(c.allTruth(ns), func(i truth.Interval) bool { return isDriverOf(i, app) })
		c.t.Logf("CHAOS SPARK: %s (%s): %d driver processes, batches 0..%d committed, the output holds source values 0..%d in %d rows, none lost or counted twice",
			app, realApp(c.kinds[app]).class, len(drivers), q.LastCommit(), last, len(windows))
	}
}

func sumWrites(ws []truth.Writer, refused bool) int {
	n := 0
	for _, w := range ws {
		if refused {
			n += w.Refused
		} else {
			n += w.Writes
		}
	}
	return n
}

// pinnedToDead: once the partitions are healed, the app's volume may only be mounted on
// nodes that are not Ready, so dead (a local PV on the killed node): only bringing the machine
// back, or restoring the data elsewhere, helps.
func pinnedToDead(a analysis.App, killed map[string]bool) bool {
	if a.Verdict != analysis.ReplacementBlocked || len(killed) == 0 {
		return false
	}
	for _, d := range a.Drivers {
		for _, v := range d.Volumes {
			if v.NoReadyNode {
				return true
			}
		}
	}
	return false
}

// randomAction does one thing a bad day might bring.
func (c *chaos) randomAction(ns string, apps []string) {
	alive := c.alive()
	var cut []string // partitioned or isolated
	for _, n := range c.nodes {
		if c.partitioned[n] || c.isolated[n] {
			cut = append(cut, n)
		}
	}
	switch r := c.rng.Intn(100); {
	case r < 25 && len(alive) >= 2:
		n := c.pick(alive)
		if c.rng.Intn(2) == 0 {
			c.act("partition %s (frozen)", n)
			must(c.t, c.sb.Partition(n))
			c.partitioned[n] = true
		} else {
			c.act("isolate %s (cut off from the API server, running and writing)", n)
			must(c.t, c.sb.Isolate(n))
			c.isolated[n] = true
		}
	case r < 45 && len(cut) > 0:
		n := c.pick(cut)
		c.act("rejoin %s", n)
		must(c.t, c.sb.Rejoin(n))
		delete(c.partitioned, n)
		delete(c.isolated, n)
	case r < 55 && len(alive) >= 2:
		n := c.pick(alive)
		d := time.Duration(500+c.rng.Intn(4000)) * time.Millisecond
		c.act("flap %s for %s", n, d)
		must(c.t, c.sb.Partition(n))
		time.Sleep(d)
		must(c.t, c.sb.Rejoin(n))
	case r < 62 && len(c.killed) == 0 && len(alive) >= 2:
		n := c.pick(append(alive, cut...))
		c.act("kill %s", n)
		must(c.t, c.sb.Kill(n))
		c.killed[n] = true
		delete(c.partitioned, n)
		delete(c.isolated, n)
	case r < 75:
		c.act("inspect -A")
		verdicts := c.inspectAll(ns)
		for _, app := range apps {
			c.act("  %s: %s", app, verdicts[app].Verdict)
		}
	case r < 88:
		app := c.pick(apps)
		_, stderr, code := c.cli("failover", app, "-n", ns, "--timeout", "20s")
		c.act("failover %s → exit %d %s", app, code, firstLine(stderr))
	default:
		app := c.pick(apps)
		a, _ := c.inspectCLI(ns, app)
		if a.LostNode == "" {
			c.act("operator would fence for %s, but it has no lost node: no --node-down", app)
			return
		}
		if !c.killed[a.LostNode] {
			c.act("operator would fence %s for %s, but it is not known dead: no --node-down", a.LostNode, app)
			return
		}
		_, stderr, code := c.cli("failover", app, "-n", ns, "--node-down", "--yes", "--timeout", "30s")
		c.act("failover %s --node-down (%s dead) → exit %d %s", app, a.LostNode, code, firstLine(stderr))
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestChaosBaseline runs the seed's plain Job with an RWX checkpoint through
// the same monitor: a partition longer than the eviction must be caught as
// two drivers running at once. It proves the invariant check can fail.
func TestChaosBaseline(t *testing.T) {
	e := start(t, twoNodes)
	const ns, job = "baseline", "seed"
	e.namespace(ns)
	e.seedJob(ns, job, corev1.ReadWriteMany)
	old := e.runningDriver(ns, job)
	must(t, e.sb.Partition(old.Spec.NodeName))
	var caught map[string][][2]truth.Interval
	e.eventually(60*time.Second, "the monitor catching two seed drivers at once", func() (bool, string) {
		caught = overlapsByApp(e.truth(ns), []string{job})
		return len(caught[job]) > 0, fmt.Sprint(e.truth(ns))
	})
	t.Logf("baseline caught: %s | %s", caught[job][0][0], caught[job][0][1])
	must(t, e.sb.Rejoin(old.Spec.NodeName))
}

// TestChaosBaselineFenceIsolated runs the failover the words of --node-down forbid through
// the same monitor: a sparkha app whose checkpoint is on a file system every node mounts, its
// machine isolated (cut off from the API server, running and writing), fenced on the
// operator's word. The cluster holds no evidence either way, so failover acts; the monitor
// must catch all three of its checks failing: two drivers at once, two writers of one
// checkpoint, and inspect calling the app Healthy meanwhile. It proves the node-down checks
// can fail, which a killed machine (every interval closed) never shows.
func TestChaosBaselineFenceIsolated(t *testing.T) {
	e := start(t, twoNodes)
	const ns, app = "baseline-iso", "files"
	e.namespace(ns)
	c := &chaos{env: e, partitioned: map[string]bool{}, executors: map[string]bool{}, apps: []string{app}}
	e.submitWithStorage(ns, app, storageKinds[2], "--node-lost-timeout", "3s", "--executor-instances", "1")
	old := e.runningDriver(ns, app)
	if v := c.violations(ns, c.apps); len(v) > 0 {
		t.Fatalf("violations before anything happened: %v", v)
	}
	must(t, e.sb.Isolate(old.Spec.NodeName))
	e.waitNodeLost(old.Spec.NodeName)
	e.waitEvicted(ns, old.Name)
	if out, stderr, code := e.cli("failover", app, "-n", ns, "--node-down", "--yes", "--wait", "--timeout", "120s"); code != 0 {
		t.Fatalf("failover exit %d\n%s\n%s", code, out, stderr)
	}
	want := []string{"two drivers ran at once", "two drivers wrote one checkpoint at once", "inspect says files is Healthy while 2 of its drivers run"}
	var v []string
	e.eventually(30*time.Second, "the monitor catching the fenced isolated machine", func() (bool, string) {
		v = c.violations(ns, c.apps)
		for _, w := range want {
			if !slices.ContainsFunc(v, func(s string) bool { return strings.HasPrefix(s, w) }) {
				return false, strings.Join(v, "\n")
			}
		}
		return len(v) == len(want), strings.Join(v, "\n")
	})
	for _, s := range v {
		t.Logf("baseline caught: %s", s)
	}
	must(t, e.sb.Rejoin(old.Spec.NodeName))
}
