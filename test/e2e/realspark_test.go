package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/sparkrt"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/storage"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

// sparkLines are the Spark versions the real-Spark scenarios run, one per line: the newest 3.5
// and the newest 4.x on PyPI (test/hack/fetch-spark.sh pins their sha256).
var sparkLines = []string{"3.5.9", "4.3.0"}

// newestSparkLine is the newest Spark line the real-Spark scenarios run.
var newestSparkLine = sparkLines[len(sparkLines)-1]

// sparkApps is the jar of the sandbox's Spark apps per version, built once per run.
var sparkApps sync.Map // version → *sparkBuild

type sparkBuild struct {
	once             sync.Once
	home, appDir     string
	err              error
	fetched, compile time.Duration
}

// realSpark returns the Spark distribution of version (from the cache `make spark-dist` fills;
// fetched now if absent) and a directory holding sparkha-apps.jar, the apps of
// testdata/spark compiled against that distribution's jars. It skips t where real Spark cannot
// run (not root, no JDK).
func realSpark(t *testing.T, version string) (home, appDir string) {
	t.Helper()
	if why := sparkrt.Supported(); why != "" {
		t.Skip(why)
	}
	if _, err := exec.LookPath("javac"); err != nil {
		t.Skip("real Spark in the sandbox needs javac to build its apps (a JDK 17)")
	}
	v, _ := sparkApps.LoadOrStore(version, &sparkBuild{})
	b := v.(*sparkBuild)
	b.once.Do(func() {
		began := time.Now()
		out, err := exec.Command("../hack/fetch-spark.sh", version).Output()
		if err != nil {
			b.err = fmt.Errorf("fetch-spark.sh %s: %w", version, err)
			return
		}
		b.home = strings.TrimSpace(string(out))
		b.fetched = time.Since(began)
		began = time.Now()
		dir, err := os.MkdirTemp("", "sparkha-apps-"+version+"-")
		if err != nil {
			b.err = err
			return
		}
		b.appDir = filepath.Join(dir, "app")
		srcs, _ := filepath.Glob("testdata/spark/*.java") // go test runs in the package's directory
		classes := filepath.Join(dir, "classes")
		if err := os.MkdirAll(b.appDir, 0o755); err != nil {
			b.err = err
			return
		}
		for _, c := range []*exec.Cmd{
			exec.Command("javac", append([]string{"--release", "17", "-cp", filepath.Join(b.home, "jars", "*"), "-d", classes}, srcs...)...),
			exec.Command("jar", "cf", filepath.Join(b.appDir, "sparkha-apps.jar"), "-C", classes, "."),
		} {
			if out, err := c.CombinedOutput(); err != nil {
				b.err = fmt.Errorf("%s: %v\n%s", strings.Join(c.Args, " "), err, out)
				return
			}
		}
		b.compile = time.Since(began)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	t.Logf("Spark %s at %s (%.1fs), apps built in %.1fs", version, b.home, b.fetched.Seconds(), b.compile.Seconds())
	return b.home, b.appDir
}

// startRealSpark starts a sandbox of opts's nodes that runs Spark version for real, with the
// image sparkha.test/apps:VERSION (Spark and the apps of testdata/spark) and the namespace ns
// ready for a driver (sparkNamespace). It skips t where real Spark cannot run.
func startRealSpark(t *testing.T, opts sandbox.Options, version, ns string) (*env, string) {
	t.Helper()
	home, appDir := realSpark(t, version)
	opts.Spark = true
	e := start(t, opts)
	image := "sparkha.test/apps:" + version
	if err := e.sb.AddSparkImage(image, sparkrt.Image{SparkHome: home, AppDir: appDir}); err != nil {
		t.Fatal(err)
	}
	e.sparkNamespace(ns)
	return e, image
}

// sparkNamespace creates ns with the service account Spark's driver uses, bound to the edit
// ClusterRole as Spark's documentation has it (running-on-kubernetes.md, RBAC): the driver
// creates its executors' pods, ConfigMap and Service.
func (e *env) sparkNamespace(ns string) {
	e.t.Helper()
	e.namespace(ns)
	c := e.client()
	if _, err := c.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "spark"}}, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "spark-edit"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "edit"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "spark", Namespace: ns}},
	}
	if _, err := c.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

// podLog is what a real container printed (sparkrt keeps it as the kubelet keeps /var/log/pods).
func (e *env) podLog(pod *corev1.Pod) string {
	e.t.Helper()
	b, err := os.ReadFile(sparkrt.LogPath(e.sb.Dir, pod))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// streamArgs are kubectl sparkha submit's arguments for a streaming app of testdata/spark (class
// SparkhaStream or SparkhaDriverSink, one executor), with extra (its checkpoint's flags) before
// the jar.
func streamArgs(ns, name, image, class string, extra ...string) []string {
	args := []string{"submit", name, "-n", ns, "--image", image, "--class", class,
		"--executor-instances", "1", "--driver-memory", "512m", "--executor-memory", "512m",
		"--conf", "spark.kubernetes.authenticate.driver.serviceAccountName=spark",
		"--conf", "spark.sql.shuffle.partitions=2"}
	return append(append(args, extra...), "local:///opt/app/sparkha-apps.jar")
}

// submitStream creates the streaming app of the real-Spark scenarios in ns, with its
// checkpoint and sink on a ReadWriteMany volume. seed=true creates it as the seed ran its
// drivers: the same objects, but a plain Job (no podFailurePolicy, Kubernetes' default
// podReplacementPolicy, backoffLimit 1), as the 2018 fork did. It returns the volume's
// directory on the storage's data side.
func (e *env) submitStream(ns, name, image string, seed bool, extra ...string) string {
	e.t.Helper()
	args := streamArgs(ns, name, image, "SparkhaStream", append([]string{"--checkpoint-size", "1Gi", "--checkpoint-storage-class", storage.NoAttachStorageClassName,
		"--checkpoint-access-mode", "ReadWriteMany", "--node-lost-timeout", "10s"}, extra...)...)
	if !seed {
		if out, stderr, code := e.cli(args...); code != 0 {
			e.t.Fatalf("submit: exit %d\n%s\n%s", code, out, stderr)
		}
	} else {
		out, stderr, code := e.cli(append(args, "--dry-run=client", "-o", "json")...)
		if code != 0 {
			e.t.Fatalf("submit --dry-run=client: exit %d\n%s\n%s", code, out, stderr)
		}
		var list struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			e.t.Fatal(err)
		}
		c := e.client()
		for _, raw := range list.Items {
			var meta struct{ Kind string }
			_ = json.Unmarshal(raw, &meta)
			var err error
			switch meta.Kind {
			case "Job":
				var job batchv1.Job
				_ = json.Unmarshal(raw, &job)
				job.Spec.PodFailurePolicy, job.Spec.PodReplacementPolicy = nil, nil
				job.Spec.BackoffLimit = ptr.To[int32](1)
				_, err = c.BatchV1().Jobs(ns).Create(ctx, &job, metav1.CreateOptions{})
			case "ConfigMap":
				var cm corev1.ConfigMap
				_ = json.Unmarshal(raw, &cm)
				cm.OwnerReferences = nil
				_, err = c.CoreV1().ConfigMaps(ns).Create(ctx, &cm, metav1.CreateOptions{})
			case "PersistentVolumeClaim":
				var pvc corev1.PersistentVolumeClaim
				_ = json.Unmarshal(raw, &pvc)
				_, err = c.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &pvc, metav1.CreateOptions{})
			}
			if err != nil {
				e.t.Fatalf("create %s: %v", meta.Kind, err)
			}
		}
	}
	return e.volumeContent(ns, submit.CheckpointName(name))
}

// volumeContent is the directory holding what is stored on the volume bound to ns/claim, as the
// storage keeps it (storage.ContentDir).
func (e *env) volumeContent(ns, claim string) string {
	e.t.Helper()
	pv, err := e.client().CoreV1().PersistentVolumes().Get(ctx, e.boundPV(ns, claim), metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return storage.ContentDir(e.sb.VolumesDir(), storage.DataKey(pv))
}

// streamQuery reads the app's checkpoint.
func (e *env) streamQuery(volume string) truth.Query {
	e.t.Helper()
	q, err := truth.ReadQuery(filepath.Join(volume, "query"))
	if err != nil {
		e.t.Fatal(err)
	}
	return q
}

// checkpointWriters are the driver generations that wrote the volume whose content is in
// volume (storage.DataDir(...)/fs), as the storage saw them (sparkrt.WatchWrites).
func (e *env) checkpointWriters(volume string) map[string][]string {
	e.t.Helper()
	gens := map[string][]string{}
	for _, w := range e.volumeWrites(volume) {
		gen := w.UID
		if w.Driver != "" {
			gen = w.Driver
		}
		if !slices.Contains(gens[gen], w.Pod) {
			gens[gen] = append(gens[gen], w.Pod)
		}
	}
	return gens
}

func (e *env) volumeWrites(volume string) []truth.Write {
	e.t.Helper()
	all, err := e.sb.Writes()
	if err != nil {
		e.t.Fatal(err)
	}
	key := filepath.Base(filepath.Dir(volume))
	var ws []truth.Write
	for _, w := range all {
		if w.Volume == key {
			ws = append(ws, w)
		}
	}
	return ws
}

func (e *env) concurrentGenerations(volume string) [][2]truth.Writer {
	e.t.Helper()
	return truth.ConcurrentGenerations(e.volumeWrites(volume))
}

var resuming = regexp.MustCompile(`MicroBatchExecution: Resuming at batch (\d+)`)

// TestRealSparkStreamingFailover is the seed's incident with Spark itself, once per Spark line:
// a Structured Streaming query (rate source, a stateful windowed count, a file sink, checkpoint
// and sink on a ReadWriteMany volume) submitted with kubectl sparkha submit runs its driver and
// executor as real JVMs on two machines; the driver's machine is powered off; once the node is
// lost, failover --node-down completes the failover, and the new driver resumes the query from
// its checkpoint: the batch after the last committed one, no batch missing from the commits log,
// and the sink's windows tiling the source's values with none lost and none counted twice.
func TestRealSparkStreamingFailover(t *testing.T) {
	for _, version := range sparkLines {
		t.Run(version, func(t *testing.T) {
			const ns = "stream"
			e, image := startRealSpark(t, twoNodes, version, ns)
			volume := e.submitStream(ns, "clicks", image, false)
			query := func() truth.Query { return e.streamQuery(volume) }
			e.eventually(3*time.Minute, "three batches committed", func() (bool, string) {
				q := query()
				return q.LastCommit() >= 2, fmt.Sprintf("commits %v", q.Commits)
			})
			first := e.runningDriver(ns, "clicks")
			execs, err := e.client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "spark-role=executor"})
			if err != nil || len(execs.Items) != 1 {
				t.Fatalf("executors of the first driver: %v %v", describePods(execs.Items), err)
			}
			// The executor pod is Spark's own, from its driver's ExecutorPodsAllocator.
			ex := execs.Items[0]
			// Its generation's spark.app.id, and the app's ID (from spark.kubernetes.executor.label.*),
			// which every generation's driver and executors carry.
			for k, want := range map[string]string{"spark-version": version, "spark-app-selector": "spark-" + string(first.UID), "spark-exec-id": "1", "spark-exec-resourceprofile-id": "0",
				sparkapp.LabelAppID: first.Labels[sparkapp.LabelAppID]} {
				if ex.Labels[k] != want {
					t.Errorf("executor %s label %s=%q, want %q", ex.Name, k, ex.Labels[k], want)
				}
			}

			before := query().LastCommit()
			e.killNode(first.Spec.NodeName)
			e.waitEvicted(ns, first.Name)
			if q := query(); q.LastCommit() != before {
				t.Logf("committed until the machine died: %d, then %d", before, q.LastCommit())
				before = q.LastCommit()
			}
			out, stderr, code := e.cli("failover", "clicks", "-n", ns, "--node-down", "--yes", "--timeout", "3m")
			if code != 0 || !strings.Contains(out, "failover of stream/clicks complete: a new driver runs") {
				t.Fatalf("failover --node-down: exit %d\n%s\n%s", code, out, stderr)
			}
			second := e.runningDriver(ns, "clicks")
			if second.UID == first.UID || second.Spec.NodeName == first.Spec.NodeName {
				t.Fatalf("new driver %s on %s, old %s on %s", second.Name, second.Spec.NodeName, first.Name, first.Spec.NodeName)
			}
			e.eventually(3*time.Minute, "three more batches committed by the new driver", func() (bool, string) {
				q := query()
				return q.LastCommit() >= before+3, fmt.Sprintf("commits %v (before the failover: up to %d)", q.Commits, before)
			})

			// Spark's own word: the new driver resumed at the batch after the last committed one.
			m := resuming.FindStringSubmatch(e.podLog(&second))
			if m == nil {
				t.Fatalf("new driver's log has no %q", resuming)
			}
			if at, _ := strconv.Atoi(m[1]); at != before+1 {
				t.Errorf("the new driver resumed at batch %d; the last batch committed before the failover was %d", at, before)
			}
			q := query()
			if err := q.Check(); err != nil {
				t.Error(err)
			}
			windows, err := truth.ReadWindows(filepath.Join(volume, "sink"))
			if err != nil {
				t.Fatal(err)
			}
			last, err := truth.CheckWindows(windows)
			if err != nil {
				t.Errorf("sink: %v", err)
			}
			t.Logf("Spark %s: batches 0..%d committed, %d before the failover; the sink holds values 0..%d in %d windows", version, q.LastCommit(), before, last, len(windows))

			// The storage's truth: the two generations (a driver and its executor each) wrote the
			// checkpoint one after the other, never both at once.
			gens := e.checkpointWriters(volume)
			if len(gens) < 2 {
				t.Errorf("writers of the checkpoint: %v; want both generations", gens)
			}
			if c := e.concurrentGenerations(volume); len(c) > 0 {
				t.Errorf("two generations wrote the checkpoint at once: %v", c)
			}

			// The ground truth: the two drivers' processes never ran at once.
			drivers := truth.Filter(e.truth(ns), func(i truth.Interval) bool { return i.Role == "driver" })
			if len(drivers) != 2 {
				t.Errorf("driver processes: %v", drivers)
			}
			if o := truth.Overlaps(drivers); len(o) > 0 {
				t.Errorf("two drivers ran at once: %v", o)
			}
		})
	}
}
