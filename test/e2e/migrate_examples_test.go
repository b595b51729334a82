package e2e

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
)

// TestMigrateUpstreamExamples: every example of both Spark operators that migrate converts
// (docs/migrate-examples.md, checked offline by pkg/plugin's test of that name) applies to a
// real API server as printed, --dry-run=server first, and its Job's driver pod runs on the
// sandbox with what the generated pod templates carried. The examples' prerequisites are
// created first, as their users do: the spark and spark-operator-spark service accounts, the
// ConfigMaps the spark-pi-configmap examples mount, and the ConfigMaps and Secrets of the pod-template
// example (the documents of its file before the SparkApplication).
func TestMigrateUpstreamExamples(t *testing.T) {
	e := start(t, sandbox.Options{Nodes: []string{"node-a", "node-b"}})
	// The Kubeflow examples name the namespace default; the Apache ones none.
	const ns = "default"
	for _, sa := range []string{"spark", "spark-operator-spark"} {
		if _, err := e.client().CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// spark-pi-configmap.yaml mounts test-configmap (dummy-cm in 1.6.2), which its user
	// creates first; a kubelet holds a pod whose ConfigMap volume is missing, and so does the
	// sandbox's.
	for _, cm := range []string{"test-configmap", "dummy-cm"} {
		if _, err := e.client().CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cm}, Data: map[string]string{"KEY1": "VALUE1"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	const dir = "../testdata/upstream"
	var files []string
	if err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	tmp := t.TempDir()
	migrated, ran := 0, 0
	for _, file := range files {
		name := strings.TrimPrefix(file, dir+"/")
		out, stderr, code := e.cli("migrate", "-f", file, "-n", ns)
		if code != 0 {
			if out != "" {
				t.Errorf("%s: exit %d with objects on stdout", name, code)
			}
			continue
		}
		migrated++
		// The file's other documents (ConfigMaps, Secrets) are what its app refers to.
		if strings.Contains(stderr, "not a SparkApplication, left as it is") {
			applyOthers(e, ns, file, tmp)
		}
		printed := filepath.Join(tmp, filepath.Base(file))
		if err := os.WriteFile(printed, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
		e.kubectl("apply", "--dry-run=server", "-f", printed)
		e.kubectl("apply", "-f", printed)
		job := strings.TrimPrefix(strings.TrimSpace(strings.Split(e.kubectl("get", "-f", printed, "-o", "name"), "\n")[0]), "job.batch/")
		if scheduler := e.driverScheduler(ns, job); scheduler != corev1.DefaultSchedulerName {
			// spark.kubernetes.scheduler.name of the example (volcano, yunikorn): the driver
			// waits for that scheduler, which the sandbox does not run.
			t.Logf("%s: the driver pod waits for scheduler %s", name, scheduler)
		} else {
			driver := e.runningDriver(ns, job)
			checkCarried(t, name, &driver)
			ran++
		}
		// One app at a time: the next example's driver must not share the nodes with this one.
		e.kubectl("delete", "-f", printed, "--wait=true", "--timeout=60s")
		e.eventually(60*time.Second, "the pods of "+job+" gone", func() (bool, string) {
			return len(e.jobPods(ns, job)) == 0, "pods left"
		})
	}
	t.Logf("%d examples migrated, %d drivers ran", migrated, ran)
	if migrated < 39 || ran < migrated-2 {
		t.Errorf("%d examples migrated and %d drivers ran; docs/migrate-examples.md counts 39, two of them for a scheduler the sandbox lacks", migrated, ran)
	}
}

// driverScheduler is the scheduler the Job's driver pod waits for, once the pod exists.
func (e *env) driverScheduler(ns, job string) string {
	e.t.Helper()
	var scheduler string
	e.eventually(30*time.Second, "a driver pod of "+job, func() (bool, string) {
		pods := e.jobPods(ns, job)
		if len(pods) == 0 {
			return false, "none"
		}
		scheduler = pods[0].Spec.SchedulerName
		return true, ""
	})
	return scheduler
}

// applyOthers creates the documents of file that are not SparkApplications, as the example's
// user did before its app.
func applyOthers(e *env, ns, file, tmp string) {
	e.t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		e.t.Fatal(err)
	}
	var keep []string
	for _, doc := range strings.Split(string(b), "\n---") {
		if !strings.Contains(doc, "kind: SparkApplication") {
			keep = append(keep, doc)
		}
	}
	others := filepath.Join(tmp, "others-"+filepath.Base(file))
	if err := os.WriteFile(others, []byte(strings.Join(keep, "\n---")), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.kubectl("apply", "-n", ns, "-f", others)
}

// checkCarried asserts what a driver pod of the examples must have kept from its operator's
// spec: Kubeflow's security contexts and the pod template example's env from references.
func checkCarried(t *testing.T, name string, pod *corev1.Pod) {
	t.Helper()
	ctr := pod.Spec.Containers[0]
	if strings.HasPrefix(name, "kubeflow/current/") && !strings.Contains(name, "pod-template") {
		if sc := pod.Spec.Containers[0].SecurityContext; sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 185 || sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 {
			t.Errorf("%s: the driver's security context %+v is not the example's", name, sc)
		}
	}
	if name == "kubeflow/current/spark-pi-pod-template.yaml" {
		var fromRefs []string
		for _, env := range ctr.Env {
			if env.ValueFrom != nil && (env.ValueFrom.ConfigMapKeyRef != nil || env.ValueFrom.SecretKeyRef != nil) {
				fromRefs = append(fromRefs, env.Name)
			}
		}
		if strings.Join(fromRefs, ",") != "KEY1,KEY2" || len(ctr.EnvFrom) != 2 || pod.Spec.Affinity == nil || pod.Spec.SecurityContext == nil {
			t.Errorf("%s: the driver lacks the template's env %v, envFrom %v, affinity or pod security context", name, fromRefs, ctr.EnvFrom)
		}
	}
	if name == "apache/current/pi-with-template.yaml" && (pod.Spec.PriorityClassName != "system-cluster-critical" || pod.Spec.TerminationGracePeriodSeconds == nil || *pod.Spec.TerminationGracePeriodSeconds != 0) {
		t.Errorf("%s: the driver lacks the podTemplateSpec's priority class or grace period: %q %v", name, pod.Spec.PriorityClassName, pod.Spec.TerminationGracePeriodSeconds)
	}
}
