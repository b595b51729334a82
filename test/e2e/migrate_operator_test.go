package e2e

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

// TestMigrateSparkApplication: a Kubeflow SparkApplication with a checkpoint claim runs; migrate
// prints the sparkha Job that replaces it (nothing written); migrate --apply deletes the
// SparkApplication and its driver, and only once that driver stopped does the Job's driver
// start, on the same claim; the SparkApplication's spec stays on the Job.
func TestMigrateSparkApplication(t *testing.T) {
	e := start(t, sandbox.Options{Nodes: []string{"node-a", "node-b"}, Operators: true})
	const ns, app = "mig", "clicks"
	oc := operatorCases["kubeflow"]
	e.namespace(ns)
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "clicks-ckpt", Namespace: ns}, Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	if _, err := e.client().CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	spec := oc.spec(true)
	spec["volumes"] = []any{map[string]any{"name": "ckpt", "persistentVolumeClaim": map[string]any{"claimName": "clicks-ckpt"}}}
	// Pod fields no Spark key sets, as Kubeflow's own examples have them: they reach the Job's
	// driver through the generated pod template.
	spec["driver"] = map[string]any{"cores": int64(1), "memory": "1g", "volumeMounts": []any{map[string]any{"name": "ckpt", "mountPath": "/checkpoint"}},
		"securityContext": map[string]any{"runAsUser": int64(185), "runAsNonRoot": true, "allowPrivilegeEscalation": false},
		"tolerations":     []any{map[string]any{"key": "dedicated", "operator": "Equal", "value": "spark", "effect": "NoSchedule"}}}
	e.createSparkApplication(oc, ns, app, spec)
	old := e.operatorDriverRunning(oc, ns, app, oc.driverPod(app, 1))

	out, stderr, code := e.cli("migrate", "sparkapplication/"+app, "-n", ns)
	if code != 0 || !strings.Contains(out, "claimName: clicks-ckpt") || !strings.Contains(out, "backoffLimit: 3") {
		t.Fatalf("migrate (print): exit %d\n%s\n%s", code, out, stderr)
	}
	if _, err := e.client().BatchV1().Jobs(ns).Get(ctx, app, metav1.GetOptions{}); !isNotFound(err) {
		t.Fatalf("printing created the Job (%v)", err)
	}

	out, stderr, code = e.cli("migrate", "sparkapplication/"+app, "-n", ns, "--apply", "--yes", "--wait", "--timeout", "90s")
	if code != 0 || !strings.Contains(out, "job.batch/"+app+" resumed: it replaces sparkapplication/"+app+" (driver pod/"+old.Name+")") {
		t.Fatalf("migrate --apply: exit %d\n%s\n%s", code, out, stderr)
	}
	if _, err := e.dynamic().Resource(oc.gvr).Namespace(ns).Get(ctx, app, metav1.GetOptions{}); !isNotFound(err) {
		t.Errorf("the SparkApplication still exists (%v)", err)
	}
	job, err := e.client().BatchV1().Jobs(ns).Get(ctx, app, metav1.GetOptions{})
	if err != nil || ptr.Deref(job.Spec.Suspend, true) || !strings.Contains(job.Annotations["sparkha.io/migrated-from"], `"mainClass":"org.example.Stream"`) {
		t.Fatalf("job: %v, suspend %v, annotations %v", err, job.Spec.Suspend, job.Annotations)
	}
	next := e.runningDriver(ns, app)
	claim := ""
	for _, v := range next.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			claim = v.PersistentVolumeClaim.ClaimName
		}
	}
	if claim != "clicks-ckpt" {
		t.Errorf("the Job's driver mounts claim %q, want clicks-ckpt", claim)
	}
	if sc := next.Spec.Containers[0].SecurityContext; sc == nil || ptr.Deref(sc.RunAsUser, 0) != 185 || !ptr.Deref(sc.RunAsNonRoot, false) || ptr.Deref(sc.AllowPrivilegeEscalation, true) {
		t.Errorf("the Job's driver lacks the SparkApplication's security context: %+v", sc)
	}
	if tl := next.Spec.Tolerations; len(tl) == 0 || tl[0].Key != "dedicated" {
		t.Errorf("the Job's driver lacks the SparkApplication's toleration: %+v", tl)
	}
	e.verdict(ns, app, "mig-migrated", analysis.Healthy)
	runs := e.truth(ns)
	if o := truth.Overlaps(runs); len(o) != 0 || len(runs) != 2 || runs[0].UID != string(old.UID) || runs[1].UID != string(next.UID) || !runs[0].End.Before(runs[1].Start) {
		t.Fatalf("ground truth: %v (overlaps %v)", runs, o)
	}
}
