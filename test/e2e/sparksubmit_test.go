package e2e

import (
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestSubmitSparkSubmitLine: a spark-submit line for this cluster, with only the program name
// replaced, runs its driver as a sparkha Job; the same line for another API server is refused
// before anything is created.
func TestSubmitSparkSubmitLine(t *testing.T) {
	e := start(t, twoNodes)
	const ns = "line"
	e.namespace(ns)
	master := fmt.Sprintf("k8s://https://127.0.0.1:%d", e.sb.State.APIPort)
	line := func(master string) []string {
		return []string{"--master", master, "--deploy-mode", "cluster", "--name", "Nightly ETL",
			"--conf", "spark.kubernetes.container.image=spark:3.5.3", "--conf", "spark.kubernetes.namespace=" + ns,
			"--packages", "org.postgresql:postgresql:42.7.4", "--num-executors", "1", "--driver-memory", "2g",
			"--class", "org.example.Etl", "local:///opt/app/etl.jar", "2026-11-29"}
	}

	_, stderr, code := e.cli(append([]string{"submit", "--spark-submit", "--"}, line("k8s://https://10.0.0.1:6443")...)...)
	if code != 1 || !strings.Contains(stderr, "error: --master k8s://https://10.0.0.1:6443 names another API server than the kubeconfig's, https://127.0.0.1:") {
		t.Fatalf("another cluster's line: exit %d\n%s", code, stderr)
	}
	if _, err := e.client().BatchV1().Jobs(ns).Get(ctx, "nightly-etl", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a refused line created the Job (%v)", err)
	}

	out, stderr, code := e.cli(append([]string{"submit", "--spark-submit", "--checkpoint-size", "1Gi", "--wait", "--timeout", "60s", "--"}, line(master)...)...)
	if code != 0 || !strings.Contains(out, "job.batch/nightly-etl created") {
		t.Fatalf("submit --spark-submit: exit %d\n%s\n%s", code, out, stderr)
	}
	driver := e.runningDriver(ns, "nightly-etl")
	args := strings.Join(driver.Spec.Containers[0].Args, " ")
	if !strings.HasSuffix(args, "--class org.example.Etl local:///opt/app/etl.jar 2026-11-29") || driver.Spec.Containers[0].Image != "spark:3.5.3" {
		t.Errorf("driver: image %s, args %s", driver.Spec.Containers[0].Image, args)
	}
	cm, err := e.client().CoreV1().ConfigMaps(ns).Get(ctx, "nightly-etl-spark-conf", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	props := cm.Data["spark.properties"]
	for _, want := range []string{"spark.app.name=Nightly ETL", "spark.jars.packages=org.postgresql:postgresql:42.7.4",
		"spark.executor.instances=1", "spark.driver.memory=2048m", "spark.kubernetes.namespace=line"} {
		if !strings.Contains(props, want) {
			t.Errorf("spark.properties lacks %q:\n%s", want, props)
		}
	}
}
