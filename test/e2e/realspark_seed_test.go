package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/sparkrt"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

// The real-Spark scenarios beyond the one per Spark line `make test` runs: `make e2e-spark`
// sets this and runs them all.
const sparkAllEnv = "SPARKHA_E2E_SPARK_ALL"

func requireSparkAll(t *testing.T) {
	t.Helper()
	if os.Getenv(sparkAllEnv) == "" {
		t.Skipf("a real-Spark scenario of make e2e-spark (%s=1); make test runs TestRealSparkStreamingFailover only", sparkAllEnv)
	}
}

// concurrentUpdate is how Spark reports a second writer of a checkpoint's metadata logs: the
// offsets or commits file of a batch already written by another query run (HDFSMetadataLog's
// add, through CheckpointFileManager's rename that never overwrites).
var concurrentUpdate = regexp.MustCompile(`[^\n]*(?i:concurrent update to the log|multiple streaming (?:jobs|queries) (?:detected|are concurrently)|FileAlreadyExistsException[^\n]*/checkpoint/query)[^\n]*`)

// TestRealSparkPartition is the seed's incident with Spark itself, both ways, on the newest
// Spark line: the driver's machine is partitioned (its processes run on, and reach the
// checkpoint's storage, which a network partition of the API server's path does not cut) for
// long enough that the node is lost and the driver evicted.
//   - seed: the 2018 design, a plain Job on a ReadWriteMany checkpoint, starts a second driver at
//     once; two real drivers run the query on one checkpoint, and what Spark does then is the
//     evidence, logged by the test: the processes' overlap in the ground truth, the drivers'
//     errors, the checkpoint's logs and the sink.
//   - sparkha: the Job sparkha submit creates starts none while the old driver may run; on
//     rejoin the old driver is stopped and the new one resumes the query from its checkpoint with
//     nothing lost and nothing counted twice.
func TestRealSparkPartition(t *testing.T) {
	requireSparkAll(t)
	version := sparkLines[len(sparkLines)-1]
	for _, seed := range []bool{true, false} {
		name := map[bool]string{true: "seed", false: "sparkha"}[seed]
		t.Run(name, func(t *testing.T) {
			const ns = "partition"
			e, image := startRealSpark(t, twoNodes, version, ns)
			volume := e.submitStream(ns, "clicks", image, seed)
			e.eventually(3*time.Minute, "three batches committed", func() (bool, string) {
				q := e.streamQuery(volume)
				return q.LastCommit() >= 2, fmt.Sprintf("commits %v", q.Commits)
			})
			first := e.runningDriver(ns, "clicks")
			node := first.Spec.NodeName
			if err := e.sb.Partition(node); err != nil {
				t.Fatal(err)
			}
			e.waitNodeLost(node)
			e.waitEvicted(ns, first.Name)
			before := e.streamQuery(volume).LastCommit()

			drivers := func() []truth.Interval {
				return truth.Filter(e.truth(ns), func(i truth.Interval) bool { return i.Role == "driver" })
			}
			if seed {
				second := e.eventually(2*time.Minute, "a second driver process while the first runs", func() (bool, string) {
					d := drivers()
					return len(truth.Overlaps(d)) > 0, fmt.Sprint(d)
				})
				t.Logf("the seed's Job started a second driver %.1fs after the eviction", second.Seconds())
				// Spark itself notices, or leaves a broken checkpoint or sink behind. (Whether the
				// second driver writes the checkpoint before Spark's check of its offsets log stops
				// it depends on which of the two gets to the next batch first: when it does, the
				// storage's record shows two writers at once, and the evidence includes it.)
				var evidence []string
				e.eventually(3*time.Minute, "Spark's own evidence of a second query run on its checkpoint", func() (bool, string) {
					evidence = evidence[:0]
					pods, err := e.client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "spark-role=driver"})
					if err != nil {
						return false, err.Error()
					}
					for i := range pods.Items {
						p := &pods.Items[i]
						b, _ := os.ReadFile(sparkrt.LogPath(e.sb.Dir, p))
						if m := concurrentUpdate.Find(b); m != nil {
							evidence = append(evidence, fmt.Sprintf("driver %s on %s: %s", p.Name, p.Spec.NodeName, strings.TrimSpace(string(m))))
						}
					}
					if err := e.streamQuery(volume).Check(); err != nil {
						evidence = append(evidence, "checkpoint: "+err.Error())
					}
					windows, err := truth.ReadWindows(filepath.Join(volume, "sink"))
					if err == nil {
						_, err = truth.CheckWindows(windows)
					}
					if err != nil {
						evidence = append(evidence, "sink: "+err.Error())
					}
					return len(evidence) > 0, fmt.Sprintf("commits %v", e.streamQuery(volume).Commits)
				})
				for _, p := range e.concurrentGenerations(volume) {
					evidence = append(evidence, fmt.Sprintf("storage: two writers of the checkpoint: %s | %s", p[0], p[1]))
				}
				job, err := e.client().BatchV1().Jobs(ns).Get(ctx, "clicks", metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("two drivers on one checkpoint: %v; the Job: active=%d failed=%d; commits %v; the evidence:\n  %s",
					drivers(), job.Status.Active, job.Status.Failed, e.streamQuery(volume).Commits, strings.Join(evidence, "\n  "))
				return
			}
			e.holds(45*time.Second, "one driver process", func() (bool, string) {
				d := drivers()
				return len(d) == 1 && len(truth.Overlaps(d)) == 0, fmt.Sprint(d)
			})
			// The partitioned driver ran the query on all along.
			before = e.streamQuery(volume).LastCommit()
			if err := e.sb.Rejoin(node); err != nil {
				t.Fatal(err)
			}
			e.eventually(3*time.Minute, "the new driver commits three more batches", func() (bool, string) {
				q := e.streamQuery(volume)
				return q.LastCommit() >= before+3 && len(drivers()) == 2, fmt.Sprintf("commits %v, drivers %v", q.Commits, drivers())
			})
			if o := truth.Overlaps(drivers()); len(o) > 0 {
				t.Errorf("two drivers ran at once: %v", o)
			}
			if c := e.concurrentGenerations(volume); len(c) > 0 {
				t.Errorf("two generations wrote the checkpoint at once: %v", c)
			}
			if err := e.streamQuery(volume).Check(); err != nil {
				t.Error(err)
			}
			windows, err := truth.ReadWindows(filepath.Join(volume, "sink"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := truth.CheckWindows(windows); err != nil {
				t.Errorf("sink: %v", err)
			}
		})
	}
}

var piResult = regexp.MustCompile(`sparkha-pi: pi is about (3\.1[0-9]*) after 4 tasks\nsparkha-pi: tasks ran in executor pods \[([^\]]+)\]`)

// TestRealSparkBatch: a batch app (SparkhaPi) submitted with kubectl sparkha submit on each
// Spark line runs to completion: its driver asks for two executors, its tasks run in them (the
// app prints their pod names, from the SPARK_EXECUTOR_POD_NAME Spark gives each), the driver
// exits 0, so its pod is Succeeded and the Job Complete, and the executors stop when it does.
func TestRealSparkBatch(t *testing.T) {
	requireSparkAll(t)
	for _, version := range sparkLines {
		t.Run(version, func(t *testing.T) {
			const ns = "batch"
			e, image := startRealSpark(t, twoNodes, version, ns)
			if out, stderr, code := e.cli("submit", "pi", "-n", ns, "--image", image, "--class", "SparkhaPi",
				"--executor-instances", "2", "--driver-memory", "512m", "--executor-memory", "512m",
				"--conf", "spark.kubernetes.authenticate.driver.serviceAccountName=spark",
				"local:///opt/app/sparkha-apps.jar", "--", "4"); code != 0 {
				t.Fatalf("submit: exit %d\n%s\n%s", code, out, stderr)
			}
			e.eventually(3*time.Minute, "job pi Complete", func() (bool, string) {
				job, err := e.client().BatchV1().Jobs(ns).Get(ctx, "pi", metav1.GetOptions{})
				if err != nil {
					return false, err.Error()
				}
				for _, c := range job.Status.Conditions {
					if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
						return true, ""
					}
				}
				return false, fmt.Sprintf("active=%d failed=%d", job.Status.Active, job.Status.Failed)
			})
			pods := e.jobPods(ns, "pi")
			if len(pods) != 1 || pods[0].Status.Phase != corev1.PodSucceeded {
				t.Fatalf("driver pods: %s", describePods(pods))
			}
			driver := pods[0]
			if term := driver.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 0 || term.Reason != "Completed" {
				t.Errorf("driver container: %+v", driver.Status.ContainerStatuses[0].State)
			}
			m := piResult.FindStringSubmatch(e.podLog(&driver))
			if m == nil {
				t.Fatalf("the driver's output has no %q", piResult)
			}
			execs := truth.Filter(e.executorTruth(ns), func(i truth.Interval) bool { return i.Driver == string(driver.UID) })
			if len(execs) != 2 {
				t.Fatalf("executor processes of the driver: %v", execs)
			}
			for _, name := range strings.Split(m[2], ", ") {
				if !slices.ContainsFunc(execs, func(i truth.Interval) bool { return i.Pod == name }) {
					t.Errorf("tasks ran in %s, which is not one of the driver's executor processes %v", name, execs)
				}
			}
			for _, x := range execs {
				if x.Running() {
					t.Errorf("executor %s still runs after its driver finished", x.Pod)
				}
			}
			t.Logf("Spark %s: pi about %s; tasks ran in %s", version, m[1], m[2])
		})
	}
}

var readOnly = regexp.MustCompile(`[^\n]*Read-only file system[^\n]*`)

// TestRealSparkIsolatedFence is the case the words of --node-down warn about, with Spark itself
// and block storage: the driver's machine is cut off from the API server but runs on, and its
// driver keeps committing batches to its checkpoint on a ReadWriteOncePod volume (which only the
// driver mounts, so the app is SparkhaDriverSink, stateless). failover --node-down on the
// operator's word force-detaches the volume from the machine; from then on the old driver's
// writes fail (Spark's query stops on "Read-only file system", as it would on a detached disk's
// ext4), so the new driver is the only writer: it resumes at the batch after the last one
// committed, and the batches' value ranges tile the source's with none lost or counted twice.
func TestRealSparkIsolatedFence(t *testing.T) {
	requireSparkAll(t)
	version := sparkLines[len(sparkLines)-1]
	const ns, app = "isolated", "blocks"
	e, image := startRealSpark(t, twoNodes, version, ns)
	e.kubectl("cordon", "node-b")
	k := storageKinds[0]
	if k.name != "csi-rwop" {
		t.Fatalf("storage kinds moved: %+v", k)
	}
	flags, claim := e.checkpointStorage(ns, app, k)
	if out, stderr, code := e.cli(streamArgs(ns, app, image, driverSink.class, append(flags, "--node-lost-timeout", "5s")...)...); code != 0 {
		t.Fatalf("submit: exit %d\n%s\n%s", code, out, stderr)
	}
	volume := e.volumeContent(ns, claim)
	e.eventually(3*time.Minute, "two batches committed", func() (bool, string) {
		q := e.streamQuery(volume)
		return q.LastCommit() >= 1, fmt.Sprint(q.Commits)
	})
	old := e.runningDriver(ns, app)
	if old.Spec.NodeName != "node-a" {
		t.Fatalf("driver on %s, want node-a", old.Spec.NodeName)
	}
	e.kubectl("uncordon", "node-b")

	must(t, e.sb.Isolate("node-a"))
	e.waitNodeLost("node-a")
	e.waitEvicted(ns, old.Name)
	evicted := time.Now()
	e.eventually(30*time.Second, "the isolated driver still writing its checkpoint after its eviction", func() (bool, string) {
		w, ok := writerOf(e.volumeWrites(volume), string(old.UID))
		return ok && w.Last.After(evicted), fmt.Sprint(truth.Writers(e.volumeWrites(volume)))
	})

	out, stderr, code := e.cli("failover", app, "-n", ns, "--node-down", "--yes", "--wait", "--timeout", "3m")
	if code != 0 || !strings.Contains(out, "failover of "+ns+"/"+app+" complete: a new driver runs") {
		t.Fatalf("failover --node-down: exit %d\n%s\n%s", code, out, stderr)
	}
	before := e.streamQuery(volume).LastCommit()
	next := e.runningDriver(ns, app)
	e.eventually(3*time.Minute, "three more batches committed by the new driver", func() (bool, string) {
		q := e.streamQuery(volume)
		return q.LastCommit() >= before+3, fmt.Sprintf("commits %v (at the failover: up to %d)", q.Commits, before)
	})
	// Spark's own word on both sides: the old driver's query failed on the detached volume, the
	// new one resumed after the last commit.
	var refused []byte
	e.eventually(30*time.Second, "the old driver's query failing on the detached volume", func() (bool, string) {
		b, _ := os.ReadFile(sparkrt.LogPath(e.sb.Dir, &old))
		refused = readOnly.Find(b)
		return refused != nil, "no " + readOnly.String()
	})
	t.Logf("the old driver, on the isolated machine: %s", strings.TrimSpace(string(refused)))
	m := resuming.FindStringSubmatch(e.podLog(&next))
	if m == nil {
		t.Fatalf("new driver's log has no %q", resuming)
	}
	if at, _ := strconv.Atoi(m[1]); at != before+1 {
		t.Errorf("the new driver resumed at batch %d; the last batch committed before it was %d", at, before)
	}
	q := e.streamQuery(volume)
	if err := q.Check(); err != nil {
		t.Error(err)
	}
	batches, err := driverSink.output(volume)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := truth.CheckWindows(batches); err != nil {
		t.Errorf("batches: %v", err)
	}
	// The storage's truth: the old driver wrote until the detach, the new one after it.
	ws := e.volumeWrites(volume)
	o, _ := writerOf(ws, string(old.UID))
	n, ok := writerOf(ws, string(next.UID))
	if !ok || !o.Last.Before(n.First) {
		t.Errorf("writers of the checkpoint: old %v, new %v; want the old one's last write before the new one's first", o, n)
	}
	if c := e.concurrentGenerations(volume); len(c) > 0 {
		t.Errorf("two generations wrote the checkpoint at once: %v", c)
	}
	t.Logf("Spark %s: old driver %s wrote until %s, new driver %s from %s; batches 0..%d committed, %d before the new driver",
		version, old.Name, o.Last.Format("15:04:05.000"), next.Name, n.First.Format("15:04:05.000"), q.LastCommit(), before)

	// Its query failed, so Spark's old driver ends, on a machine that cannot tell anyone yet.
	e.eventually(60*time.Second, "the old driver's process ending on the isolated machine", func() (bool, string) {
		iv, _ := truth.Process(e.truth(ns), string(old.UID))
		return !iv.Running(), iv.String()
	})
	must(t, e.sb.Rejoin("node-a"))
}
