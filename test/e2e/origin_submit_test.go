package e2e

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/failover"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/sparksubmit"
)

var threeNodes = sandbox.Options{Nodes: []string{"node-a", "node-b", "node-c"}}

// originLine is a spark-submit line for this sandbox, without its checkpoint volume keys.
func (e *env) originLine(ns string) []string {
	return []string{"--master", fmt.Sprintf("k8s://https://127.0.0.1:%d", e.sb.State.APIPort), "--deploy-mode", "cluster",
		"--name", "Nightly ETL", "--conf", "spark.kubernetes.container.image=spark:3.5.3", "--conf", "spark.kubernetes.namespace=" + ns,
		"--num-executors", "1", "--driver-memory", "2g", "--class", "org.example.Etl", "local:///opt/app/etl.jar", "2026-11-29"}
}

// checkpointVolume are the keys that mount the claim ckpt at /checkpoint on the driver.
var checkpointVolume = []string{
	"--conf", "spark.kubernetes.driver.volumes.persistentVolumeClaim.ckpt.options.claimName=ckpt",
	"--conf", "spark.kubernetes.driver.volumes.persistentVolumeClaim.ckpt.mount.path=/checkpoint",
}

// sparkSubmit runs a spark-submit line as spark-submit would (the sandbox's stand-in), with
// a 1Gi claim ckpt for its checkpoint, and waits until its driver runs.
func (e *env) sparkSubmit(ns string) *corev1.Pod {
	e.t.Helper()
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "ckpt", Namespace: ns}, Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	if _, err := e.client().CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	line := e.originLine(ns)
	line = append(line[:4:4], append(checkpointVolume, line[4:]...)...)
	objs, err := sparksubmit.Submit(ctx, e.client(), line, sparksubmit.Options{SparkVersion: "3.5.3", User: "alice", Now: time.Now()})
	if err != nil {
		e.t.Fatal(err)
	}
	var pod *corev1.Pod
	e.eventually(60*time.Second, "spark-submit's driver "+objs.Pod.Name+" Running", func() (bool, string) {
		if pod, err = e.pod(ns, objs.Pod.Name); err != nil {
			return false, err.Error()
		}
		return pod.Status.Phase == corev1.PodRunning, string(pod.Status.Phase)
	})
	return pod
}

// listed decodes a v1 List printed with -o yaml into its Job and ConfigMap.
func listed(t *testing.T, out string) (*batchv1.Job, *corev1.ConfigMap) {
	t.Helper()
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := yaml.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var job batchv1.Job
	var cm corev1.ConfigMap
	for _, item := range list.Items {
		var meta metav1.TypeMeta
		err := json.Unmarshal(item, &meta)
		switch meta.Kind {
		case "Job":
			err = json.Unmarshal(item, &job)
		case "ConfigMap":
			err = json.Unmarshal(item, &cm)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if job.Name == "" || cm.Name == "" {
		t.Fatalf("no Job or ConfigMap in:\n%s", out)
	}
	return &job, &cm
}

func (e *env) switchEvents(ns string) []string {
	var out []string
	for _, ev := range e.failoverEvents(ns) {
		out = append(out, ev.InvolvedObject.Kind+"/"+ev.InvolvedObject.Name+" "+ev.Reason)
	}
	return out
}

// TestMigrateSparkSubmitDriver: a driver that spark-submit created runs; migrate prints the
// Job that submit --spark-submit makes of the same line (on the driver's claim), then
// --apply switches it over: the old driver stops before the Job's starts, on the same claim.
func TestMigrateSparkSubmitDriver(t *testing.T) {
	e := start(t, twoNodes)
	const ns = "mig"
	e.namespace(ns)
	old := e.sparkSubmit(ns)

	out, stderr, code := e.cli("migrate", "pod/"+old.Name, "-n", ns, "-o", "yaml")
	if code != 0 {
		t.Fatalf("migrate -o yaml: exit %d\n%s", code, stderr)
	}
	// The user who ran spark-submit and the driver's privileges are carried, not warned about.
	if strings.Contains(stderr, "SPARK_USER") || strings.Contains(stderr, "securityContext") {
		t.Errorf("migrate's stderr: %s", stderr)
	}
	job, cm := listed(t, out)
	// The same line submitted by the same user; spark-submit 3.5 left allowPrivilegeEscalation unset.
	t.Setenv("SPARK_USER", "alice")
	want, stderr, code := e.cli(append([]string{"submit", "--spark-submit", "--checkpoint-claim", "ckpt", "--checkpoint-mount", "/checkpoint",
		"--dry-run=client", "-o", "yaml", "--"}, append(e.originLine(ns)[:4:4], append([]string{"--conf", "spark.kubernetes.driver.securityContext.allowPrivilegeEscalation=true"}, e.originLine(ns)[4:]...)...)...)...)
	if code != 0 {
		t.Fatalf("submit --spark-submit: exit %d\n%s", code, stderr)
	}
	// The app ID is drawn per submit (the selector label, the local dir); all else must match.
	job, cm = listed(t, strings.ReplaceAll(out, job.Labels[sparkapp.LabelAppID], "spark-APPID"))
	wantJob, _ := listed(t, want)
	wantJob, wantCM := listed(t, strings.ReplaceAll(want, wantJob.Labels[sparkapp.LabelAppID], "spark-APPID"))
	if job.Name != "nightly-etl" || job.Namespace != ns || !reflect.DeepEqual(job.Spec, wantJob.Spec) || !reflect.DeepEqual(job.Labels, wantJob.Labels) {
		t.Errorf("migrate's Job differs from submit --spark-submit's:\n%s\nwant\n%s", out, want)
	}
	if cm.Data["spark.properties"] != wantCM.Data["spark.properties"] {
		t.Errorf("spark.properties:\n%s\nwant\n%s", cm.Data["spark.properties"], wantCM.Data["spark.properties"])
	}
	c := job.Spec.Template.Spec.Containers[0]
	if args := strings.Join(c.Args, " "); c.Image != "spark:3.5.3" || !strings.HasSuffix(args, "--class org.example.Etl local:///opt/app/etl.jar 2026-11-29") {
		t.Errorf("driver: image %s, args %s", c.Image, args)
	}
	if len(e.switchEvents(ns)) != 0 {
		t.Fatal("printing changed something")
	}

	out, stderr, code = e.cli("migrate", "pod/"+old.Name, "-n", ns, "--apply", "--yes", "--wait", "--timeout", "90s")
	if code != 0 || !strings.Contains(out, "job.batch/nightly-etl created") || !strings.Contains(out, "job.batch/nightly-etl resumed: it replaces pod/"+old.Name) {
		t.Fatalf("migrate --apply: exit %d\n%s\n%s", code, out, stderr)
	}
	if _, err := e.pod(ns, old.Name); !isNotFound(err) {
		t.Fatalf("old driver still there: %v", err)
	}
	driver := e.runningDriver(ns, "nightly-etl")
	claim := ""
	for _, v := range driver.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			claim = v.PersistentVolumeClaim.ClaimName
		}
	}
	if claim != "ckpt" {
		t.Errorf("the Job's driver mounts claim %q, want the old driver's ckpt", claim)
	}
	ivs := e.noOverlap(ns)
	if len(ivs) != 2 || ivs[0].UID != string(old.UID) && ivs[1].UID != string(old.UID) {
		t.Errorf("ground truth: want the old driver, then the Job's: %v", ivs)
	}
	if got := strings.Join(e.switchEvents(ns), ","); got != "Pod/"+old.Name+" MigrateStoppedDriver,Job/nightly-etl ResubmittedAsJob" {
		t.Errorf("events %s", got)
	}
	if a, ok := e.jobAudit(ns, "nightly-etl"); !ok || a.Action != failover.ResubmitAsJob || a.Pod != old.Name {
		t.Errorf("audit %+v", a)
	}
	out, _, code = e.cli("migrate", "pod/"+old.Name, "-n", ns, "--apply", "--yes")
	if code != 0 || strings.TrimSpace(out) != "job.batch/nightly-etl already replaces pod/"+old.Name+": nothing to do" {
		t.Errorf("rerun: exit %d %q", code, out)
	}
}

// TestFailoverResubmitSparkSubmitDriver: the machine of a spark-submit driver dies. failover
// refuses, naming --resubmit; with it, it fences, the old driver goes, and the app runs again
// as a sparkha Job, never beside the old driver. The next node loss is the Job's.
func TestFailoverResubmitSparkSubmitDriver(t *testing.T) {
	e := start(t, threeNodes)
	const ns, app = "resub", "nightly-etl"
	e.namespace(ns)
	old := e.sparkSubmit(ns)
	lost := old.Spec.NodeName
	e.killNode(lost)
	e.waitEvicted(ns, old.Name)

	_, stderr, code := e.cli("failover", app, "-n", ns, "--node-down", "--yes")
	if code != 4 || !strings.Contains(stderr, "is a bare spark-submit driver pod") || !strings.Contains(stderr, "--node-down --resubmit") {
		t.Fatalf("without --resubmit: exit %d\n%s", code, stderr)
	}
	if e.nodeHasFence(lost) || len(e.switchEvents(ns)) != 0 {
		t.Fatal("a refused failover changed something")
	}

	out, stderr, code := e.cli("failover", app, "-n", ns, "--node-down", "--resubmit", "--yes", "--wait", "--timeout", "120s")
	if code != 0 || !strings.Contains(out, "failover of resub/nightly-etl complete: resubmitted as job.batch/nightly-etl, a new driver runs") {
		t.Fatalf("--resubmit: exit %d\n%s\n%s", code, out, stderr)
	}
	if !e.nodeHasFence(lost) {
		t.Fatal("node not fenced")
	}
	driver := e.runningDriver(ns, app)
	if driver.Spec.NodeName == lost {
		t.Fatalf("new driver on the dead node %s", lost)
	}
	e.noOverlap(ns)
	events := strings.Join(e.switchEvents(ns), ",")
	if !strings.Contains(events, "FailoverFencedNode") || !strings.HasSuffix(events, "Job/nightly-etl ResubmittedAsJob") {
		t.Errorf("events %s", events)
	}
	if a, ok := e.jobAudit(ns, app); !ok || a.Action != failover.ResubmitAsJob || a.Node != lost || !strings.Contains(a.Why, "--resubmit") {
		t.Errorf("audit %+v", a)
	}

	// The Job's driver rides out --node-lost-timeout (60 s) on the lost node; the operator,
	// who knows the machine is down, does not wait for its eviction.
	second := driver.Spec.NodeName
	e.killNode(second)
	out, stderr, code = e.cli("failover", app, "-n", ns, "--node-down", "--yes", "--timeout", "120s")
	if code != 0 || !strings.Contains(out, "failover of resub/nightly-etl complete: a new driver runs") {
		t.Fatalf("second loss, as for any sparkha app: exit %d\n%s\n%s", code, out, stderr)
	}
	third := e.runningDriver(ns, app)
	if third.Spec.NodeName == lost || third.Spec.NodeName == second {
		t.Fatalf("third driver on %s", third.Spec.NodeName)
	}
	if ivs := e.noOverlap(ns); len(ivs) != 3 {
		t.Errorf("want three drivers one after the other: %v", ivs)
	}
}

// TestMigrateRefusedWhilePartitioned: the driver's node is partitioned and nobody fenced it:
// the driver may still run there, so migrate --apply refuses and changes nothing.
func TestMigrateRefusedWhilePartitioned(t *testing.T) {
	e := start(t, twoNodes)
	const ns = "migp"
	e.namespace(ns)
	old := e.sparkSubmit(ns)
	if err := e.sb.Partition(old.Spec.NodeName); err != nil {
		t.Fatal(err)
	}
	e.waitNodeLost(old.Spec.NodeName)

	out, stderr, code := e.cli("migrate", "pod/"+old.Name, "-n", ns, "--apply", "--yes")
	want := fmt.Sprintf("\nerror: refusing to migrate pod/%s: the node %s of its driver %s is lost and not fenced", old.Name, old.Spec.NodeName, old.Name)
	if code != 4 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "--node-down --resubmit") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s\nwant %s...", code, out, stderr, want)
	}
	if _, err := e.client().BatchV1().Jobs(ns).Get(ctx, "nightly-etl", metav1.GetOptions{}); !isNotFound(err) {
		t.Errorf("a refused migrate created the Job (%v)", err)
	}
	if len(e.switchEvents(ns)) != 0 {
		t.Errorf("a refused migrate left events: %v", e.switchEvents(ns))
	}
	if p, err := e.pod(ns, old.Name); err != nil || p.UID != old.UID {
		t.Errorf("the old driver pod: %v", err)
	}
	if ivs := e.truth(ns); len(ivs) != 1 || !ivs[0].Running() {
		t.Errorf("ground truth: want the old driver alone, still running: %v", ivs)
	}
}
