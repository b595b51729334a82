package e2e

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/internal/harness"
)

// TestInspectRequestCount: inspect -A makes the same, fixed number of
// requests on a small and on a larger cluster: one LIST per kind, the two medik8s remediation
// kinds and the two operators' SparkApplication kinds included (their resources do not exist
// here: the LIST answers 404 and counts).
func TestInspectRequestCount(t *testing.T) {
	e := start(t, twoNodes)
	proxy, kc := harness.NewCountingProxy(t, e.sb)
	inspectAll := func() []string {
		out, err := e.run(bins.Plugin, "inspect", "-A", "-o", "json", "--kubeconfig", kc)
		if err != nil && !strings.Contains(err.Error(), "exit status 3") {
			t.Fatal(err)
		}
		if !strings.Contains(out, `"apps"`) {
			t.Fatalf("inspect printed %q", out)
		}
		return proxy.Take()
	}

	e.namespace("small")
	e.submit("app-0", "-n", "small", "--image", "spark:3.5.3", "--class", "A", "local:///a.jar", "--checkpoint-size", "1Gi", "--wait", "--timeout", "60s")
	small := inspectAll()

	for _, n := range []string{"node-c", "node-d", "node-e"} {
		if err := e.sb.AddNode(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 4; i++ {
		ns := fmt.Sprintf("big-%d", i)
		e.namespace(ns)
		e.submit(fmt.Sprintf("app-%d", i), "-n", ns, "--image", "spark:3.5.3", "--class", "A", "local:///a.jar", "--checkpoint-size", "1Gi")
	}
	e.seedJob("big-1", "seed", corev1.ReadWriteOnce)
	for i := range 150 {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", i), Namespace: "big-2", Labels: map[string]string{"app": "web"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
		}
		if _, err := e.client().CoreV1().Pods("big-2").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	big := inspectAll()

	t.Logf("inspect -A requests, small cluster (2 nodes, 1 app): %d", len(small))
	t.Logf("inspect -A requests, larger cluster (5 nodes, 6 apps, 150 other pods): %d", len(big))
	for _, r := range big {
		t.Logf("  %s", r)
	}
	if len(small) != len(big) || len(small) != 14 {
		t.Fatalf("request count must be one LIST per kind (14) at any size: small %d %v, big %d %v", len(small), small, len(big), big)
	}
	for _, r := range big {
		if !strings.HasPrefix(r, "GET ") || !strings.Contains(r, "limit=500") {
			t.Errorf("not a paginated LIST: %s", r)
		}
	}
}
