package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

// TestMigrateSparkSubmitPodTemplates: Spark's own spark-submit (the newest line) starts a driver
// with a driver pod template (a sidecar, an init container, a ConfigMap volume, an env var from
// a Secret, security contexts, a toleration) and an executor pod template. migrate carries all
// of it: exit 0, nothing reported as not carried, and after --apply the Job's driver has every
// one of those fields and its ConfigMap ships the executor template spark-submit shipped; the
// old and new drivers never run at once.
func TestMigrateSparkSubmitPodTemplates(t *testing.T) {
	version := sparkReleases[len(sparkReleases)-1]
	home := sparkSubmitHome(t, version)
	e := start(t, twoNodes)
	const ns = "tmpl"
	e.namespace(ns)
	c := e.client()
	if _, err := c.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "spark"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ca-bundle"}, Data: map[string]string{"ca.pem": "x"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db"}, StringData: map[string]string{"password": "p"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	driverTemplate := `apiVersion: v1
kind: Pod
metadata:
  labels: {tier: gold}
spec:
  securityContext: {runAsUser: 185, fsGroup: 185}
  tolerations: [{key: dedicated, operator: Equal, value: spark, effect: NoSchedule}]
  initContainers: [{name: wait-db, image: busybox, command: [sh, -c, "true"]}]
  containers:
  - name: spark-kubernetes-driver
    securityContext: {runAsNonRoot: true, readOnlyRootFilesystem: true}
    env: [{name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}]
    volumeMounts: [{name: certs, mountPath: /etc/ssl/extra}]
  - name: proxy
    image: envoy
  volumes: [{name: certs, configMap: {name: ca-bundle}}]
`
	executorTemplate := "apiVersion: v1\nkind: Pod\nspec:\n  priorityClassName: batch\n"
	for name, text := range map[string]string{"driver.yaml": driverTemplate, "executor.yaml": executorTemplate} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	line := []string{"--master", fmt.Sprintf("k8s://https://127.0.0.1:%d", e.sb.State.APIPort), "--deploy-mode", "cluster",
		"--name", "templated", "--conf", "spark.kubernetes.container.image=apache/spark:" + version, "--conf", "spark.kubernetes.namespace=" + ns,
		"--conf", "spark.kubernetes.submission.waitAppCompletion=false", "--conf", "spark.kubernetes.authenticate.driver.serviceAccountName=spark",
		"--conf", "spark.kubernetes.driver.podTemplateFile=" + filepath.Join(dir, "driver.yaml"),
		"--conf", "spark.kubernetes.executor.podTemplateFile=" + filepath.Join(dir, "executor.yaml"),
		"--class", "org.example.Etl", "local:///opt/app/etl.jar"}
	if _, stderr, err := e.runAll(home+"/bin/spark-submit", line...); err != nil {
		t.Fatalf("spark-submit %s: %v\n%s", version, err, stderr)
	}
	var old corev1.Pod
	e.eventually(60e9, "spark-submit's driver running", func() (bool, string) {
		pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "spark-role=driver"})
		if err != nil || len(pods.Items) != 1 {
			return false, fmt.Sprint(err)
		}
		old = pods.Items[0]
		return old.Status.Phase == corev1.PodRunning, string(old.Status.Phase)
	})

	out, stderr, code := e.cli("migrate", "pod/"+old.Name, "-n", ns, "--apply", "--yes", "--wait", "--timeout", "90s")
	if code != 0 || strings.Contains(stderr, "not carried") {
		t.Fatalf("migrate --apply: exit %d\n%s\n%s", code, out, stderr)
	}
	next := e.runningDriver(ns, "templated")
	spark := next.Spec.Containers[0]
	var names []string
	for _, ctr := range next.Spec.Containers {
		names = append(names, ctr.Name)
	}
	env := map[string]*corev1.EnvVarSource{}
	for _, v := range spark.Env {
		env[v.Name] = v.ValueFrom
	}
	mounted := false
	for _, m := range spark.VolumeMounts {
		mounted = mounted || (m.Name == "certs" && m.MountPath == "/etc/ssl/extra")
	}
	switch {
	case strings.Join(names, ",") != "spark-kubernetes-driver,proxy":
		t.Errorf("containers %v, want the driver and the sidecar", names)
	case len(next.Spec.InitContainers) != 1 || next.Spec.InitContainers[0].Name != "wait-db":
		t.Errorf("init containers %v", next.Spec.InitContainers)
	case env["DB_PASSWORD"] == nil || env["DB_PASSWORD"].SecretKeyRef == nil || env["DB_PASSWORD"].SecretKeyRef.Name != "db":
		t.Errorf("env DB_PASSWORD %+v", env["DB_PASSWORD"])
	case !mounted:
		t.Errorf("the certs volume is not mounted: %v", spark.VolumeMounts)
	case spark.SecurityContext == nil || !ptr.Deref(spark.SecurityContext.ReadOnlyRootFilesystem, false) || !ptr.Deref(spark.SecurityContext.RunAsNonRoot, false):
		t.Errorf("container security context %+v", spark.SecurityContext)
	case next.Spec.SecurityContext == nil || ptr.Deref(next.Spec.SecurityContext.FSGroup, 0) != 185:
		t.Errorf("pod security context %+v", next.Spec.SecurityContext)
	case len(next.Spec.Tolerations) == 0 || next.Spec.Tolerations[0].Key != "dedicated":
		t.Errorf("tolerations %+v", next.Spec.Tolerations)
	case next.Labels["tier"] != "gold":
		t.Errorf("labels %v", next.Labels)
	}
	cm, err := c.CoreV1().ConfigMaps(ns).Get(ctx, "templated-spark-conf", metav1.GetOptions{})
	if err != nil || cm.Data["pod-spec-template.yml"] != executorTemplate {
		t.Errorf("the Job's ConfigMap does not ship spark-submit's executor template (%v): %q", err, cm.Data["pod-spec-template.yml"])
	}
	runs := e.truth(ns)
	if o := truth.Overlaps(runs); len(o) != 0 {
		t.Errorf("two drivers at once: %v", o)
	}
}
