package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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
			home, appDir := realSpark(t, version)
			opts := twoNodes
			opts.Spark = true
			e := start(t, opts)
			image := "sparkha.test/apps:" + version
			if err := e.sb.AddSparkImage(image, sparkrt.Image{SparkHome: home, AppDir: appDir}); err != nil {
				t.Fatal(err)
			}
			const ns = "partition"
			e.sparkNamespace(ns)
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
				// Let the two run the query side by side, as they would until someone notices.
				time.Sleep(45 * time.Second)
				q := e.streamQuery(volume)
				var evidence []string
				pods, err := e.client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "spark-role=driver"})
				if err != nil {
					t.Fatal(err)
				}
				for i := range pods.Items {
					p := &pods.Items[i]
					if m := concurrentUpdate.FindString(e.podLog(p)); m != "" {
						evidence = append(evidence, fmt.Sprintf("driver %s on %s: %s", p.Name, p.Spec.NodeName, m))
					}
				}
				if err := q.Check(); err != nil {
					evidence = append(evidence, "checkpoint: "+err.Error())
				}
				windows, err := truth.ReadWindows(filepath.Join(volume, "sink"))
				if err == nil {
					_, err = truth.CheckWindows(windows)
				}
				if err != nil {
					evidence = append(evidence, "sink: "+err.Error())
				}
				job, err := e.client().BatchV1().Jobs(ns).Get(ctx, "clicks", metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("two drivers on one checkpoint: %v; the Job: active=%d failed=%d; commits %v; Spark's evidence:\n  %s",
					drivers(), job.Status.Active, job.Status.Failed, q.Commits, strings.Join(evidence, "\n  "))
				if len(evidence) == 0 {
					t.Errorf("two drivers ran on one checkpoint and left no trace in logs, checkpoint or sink: commits %v", q.Commits)
				}
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
