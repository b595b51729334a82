package plugin

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/failover"
)

// kubeflowApp is the Kubeflow SparkApplication of pkg/migrate's fixture, live (with a UID), and
// its running driver pod on node-b.
func kubeflowApp(t *testing.T) (*unstructured.Unstructured, *corev1.Pod, *corev1.PersistentVolumeClaim) {
	t.Helper()
	b, err := os.ReadFile("../migrate/testdata/kubeflow-clicks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	app := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(b, &app.Object); err != nil {
		t.Fatal(err)
	}
	// Only fields migrate carries, so that --apply may go on.
	spec := app.Object["spec"].(map[string]any)
	delete(spec, "sparkConfigMap")
	spec["volumes"] = spec["volumes"].([]any)[:1]
	driver := spec["driver"].(map[string]any)
	driver["volumeMounts"] = driver["volumeMounts"].([]any)[:1]
	driver["env"] = driver["env"].([]any)[:1]
	driver["secrets"] = driver["secrets"].([]any)[:1]
	app.SetUID("app-uid")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "clicks-driver", Namespace: "streaming", UID: "driver-uid",
		Labels:          map[string]string{"spark-role": "driver", "sparkoperator.k8s.io/app-name": "clicks"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "sparkoperator.k8s.io/v1beta2", Kind: "SparkApplication", Name: "clicks", UID: "app-uid"}}},
		Spec:   corev1.PodSpec{NodeName: "node-b"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "clicks-checkpoint", Namespace: "streaming"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod}}}
	return app, pod, pvc
}

func readyNode(name string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
}

// A live SparkApplication and its manifest print the same Job; nothing is written.
func TestMigrateSparkApplicationPrints(t *testing.T) {
	app, pod, pvc := kubeflowApp(t)
	file := t.TempDir() + "/clicks.yaml"
	b, _ := yaml.Marshal(app.Object)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var printed []string
	for _, args := range [][]string{{"sparkapplication/clicks", "-n", "streaming"}, {"sparkapp.sparkoperator.k8s.io/clicks", "-n", "streaming"}, {"-f", file}} {
		client := fake.NewClientset(pod, pvc)
		stdout, stderr, err := runMigrateDynamic(t, client, []runtime.Object{app}, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr)
		}
		for _, want := range []string{"    name: clicks\n", "claimName: clicks-checkpoint\n", "mountPath: /checkpoint\n", "backoffLimit: 3\n",
			"spark.jars.packages=org.apache.spark:spark-sql-kafka-0-10_2.12:3.5.3\n", "spark.kubernetes.driverEnv.TZ=UTC\n"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%v: stdout lacks %q", args, want)
			}
		}
		// The toleration goes in the driver pod template, beside kubectl sparkha's of node loss.
		if !strings.Contains(stdout, "        tolerations:\n        - effect: NoSchedule\n          key: dedicated\n          operator: Equal\n          value: spark\n        - effect: NoExecute\n          key: node.kubernetes.io/unreachable\n          operator: Exists\n          tolerationSeconds: 60\n") {
			t.Errorf("%v: the Job's pod lacks the toleration:\n%s", args, stdout)
		}
		if strings.Contains(stderr, "tolerations") {
			t.Errorf("%v: stderr reports the tolerations, which are carried:\n%s", args, stderr)
		}
		if w := writes(client); len(w) != 0 {
			t.Errorf("%v: printing wrote %v", args, w)
		}
		if args[0] == "-f" && len(client.Actions()) != 0 {
			t.Errorf("-f without --apply asked the cluster: %v", client.Actions())
		}
		printed = append(printed, stdout)
	}
	if printed[0] != printed[1] || printed[0] != printed[2] {
		t.Errorf("the live object, its group-qualified name and its manifest print different objects")
	}
}

// --apply: the Job is created suspended, the SparkApplication and then its driver deleted (UID
// preconditions), and the Job resumed once both are gone and the node is Ready; the Job keeps
// the SparkApplication's spec. A rerun once the SparkApplication is gone finds the Job.
func TestMigrateSparkApplicationApply(t *testing.T) {
	app, pod, pvc := kubeflowApp(t)
	client, dyn := fake.NewClientset(pod, pvc, readyNode("node-b")), fakeDynamic(app)
	stdout, stderr, err := runMigrateWith(t, client, dyn, "sparkapplication/clicks", "-n", "streaming", "--apply", "--yes")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "job.batch/clicks resumed: it replaces sparkapplication/clicks (driver pod/clicks-driver)") {
		t.Errorf("stdout: %s", stdout)
	}
	// The Job first (suspended), then the SparkApplication (in the dynamic client) and its
	// driver deleted, each with an Event, then the Job resumed.
	want := []string{"create jobs", "create configmaps", "create services", "create networkpolicies", "create selfsubjectreviews", "create events", "delete pods", "create events", "patch jobs", "create events"}
	if w := writes(client); !reflect.DeepEqual(w, want) {
		t.Errorf("writes %v, want %v", w, want)
	}
	var dynWrites []string
	for _, a := range dyn.Actions() {
		if v := a.GetVerb(); v != "get" && v != "list" && v != "watch" {
			dynWrites = append(dynWrites, v+" "+a.GetResource().Resource)
		}
	}
	if !reflect.DeepEqual(dynWrites, []string{"delete sparkapplications"}) {
		t.Errorf("dynamic writes %v, want the SparkApplication deleted", dynWrites)
	}
	job, err := client.BatchV1().Jobs("streaming").Get(context.Background(), "clicks", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	from, ok := failover.MigratedFromOf(job)
	if !ok || from.SparkApplication == nil || from.SparkApplication.UID != "app-uid" || from.Pod != "clicks-driver" || from.Node != "node-b" {
		t.Fatalf("migrated-from %+v", from)
	}
	var spec map[string]any
	if err := json.Unmarshal(from.SparkApplication.Spec, &spec); err != nil || spec["mainClass"] != "com.example.Clicks" {
		t.Errorf("the Job does not keep the SparkApplication's spec: %v %v", spec, err)
	}
	if job.Spec.Suspend == nil || *job.Spec.Suspend {
		t.Errorf("the Job is still suspended")
	}
	// The SparkApplication is gone: a rerun finds the Job and has nothing to do.
	stdout, _, err = runMigrateWith(t, client, dyn, "sparkapplication/clicks", "-n", "streaming", "--apply", "--yes")
	if err != nil || strings.TrimSpace(stdout) != "job.batch/clicks already replaces sparkapplication/clicks (driver pod/clicks-driver): nothing to do" {
		t.Errorf("rerun: %v %q", err, stdout)
	}
}

// --apply is refused while the driver's node is lost and not fenced: nothing is written.
func TestMigrateSparkApplicationRefusedOnLostNode(t *testing.T) {
	app, pod, pvc := kubeflowApp(t)
	lost := readyNode("node-b")
	lost.Status.Conditions[0].Status = corev1.ConditionUnknown
	lost.Spec.Taints = []corev1.Taint{{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}}
	client := fake.NewClientset(pod, pvc, lost)
	_, _, err := runMigrateDynamic(t, client, []runtime.Object{app}, "sparkapplication/clicks", "-n", "streaming", "--apply", "--yes")
	if err == nil || !strings.Contains(err.Error(), "refusing to migrate sparkapplication/clicks: the node node-b of its driver clicks-driver is lost and not fenced") {
		t.Fatalf("got %v", err)
	}
	if w := writes(client); len(w) != 0 {
		t.Errorf("a refused migrate wrote %v", w)
	}
}
