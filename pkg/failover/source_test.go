package failover

import (
	"bytes"
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/migrate"
)

const sourceAppID = "spark-0123456789abcdef0123456789abcdef"

// kubeflowSource is a Kubeflow SparkApplication whose driver mounts the claim etl-ckpt.
func kubeflowSource(extra map[string]any) *unstructured.Unstructured {
	spec := map[string]any{"type": "Scala", "mode": "cluster", "image": "spark:4.0.0", "mainClass": "org.example.Etl",
		"mainApplicationFile": "local:///opt/etl.jar",
		"volumes":             []any{map[string]any{"name": "ckpt", "persistentVolumeClaim": map[string]any{"claimName": "etl-ckpt"}}},
		"driver":              map[string]any{"volumeMounts": []any{map[string]any{"name": "ckpt", "mountPath": "/checkpoint"}}}}
	for k, v := range extra {
		spec[k] = v
	}
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
		"metadata": map[string]any{"name": "etl", "namespace": "etl", "uid": "app-1"}, "spec": spec}}
	return u
}

// driverOnly says the app mounts its checkpoint claim on the driver only (Resolve warns so).
func driverOnly(src *Source) bool {
	return strings.Contains(strings.Join(src.App.Warnings, "\n"), "only the driver mounts it")
}

// ReadSparkApplication: the claim's access modes from the cluster (status first, else spec),
// unknown without a cluster; the source records the app, its spec and its driver.
func TestReadSparkApplication(t *testing.T) {
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "etl-ckpt", Namespace: "etl"},
		Spec:   corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}},
		Status: corev1.PersistentVolumeClaimStatus{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}}}
	driver := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "etl-driver", UID: "driver-1"}, Spec: corev1.PodSpec{NodeName: "node-a"}}
	src, err := ReadSparkApplication(context.Background(), fake.NewClientset(pvc), kubeflowSource(nil), driver, "", sourceAppID)
	if err != nil {
		t.Fatal(err)
	}
	if src.What != "sparkapplication/etl" || src.App.Checkpoint == nil || src.App.Checkpoint.ClaimName != "etl-ckpt" || driverOnly(src) {
		t.Errorf("source %s, checkpoint %+v: a ReadWriteMany claim (by its status) is mounted on the executors too", src.What, src.App.Checkpoint)
	}
	if f := src.From; f.Pod != "etl-driver" || f.UID != "driver-1" || f.Node != "node-a" || f.SparkApplication == nil || f.SparkApplication.UID != "app-1" ||
		!strings.Contains(string(f.SparkApplication.Spec), `"mainClass":"org.example.Etl"`) {
		t.Errorf("from %+v", f)
	}
	pvc.Status.AccessModes = nil
	src, err = ReadSparkApplication(context.Background(), fake.NewClientset(pvc), kubeflowSource(nil), nil, "", sourceAppID)
	if err != nil || !driverOnly(src) || src.From.Pod != "" {
		t.Errorf("ReadWriteOnce by its spec, no driver: %v %+v %+v", err, src.App.Checkpoint, src.From)
	}
	var out bytes.Buffer
	src, err = ReadSparkApplication(context.Background(), nil, kubeflowSource(nil), nil, "", sourceAppID)
	if err != nil {
		t.Fatal(err)
	}
	src.Report(&out)
	if !strings.Contains(out.String(), "Warning: the access modes of claim etl-ckpt could not be read (no cluster was asked)") {
		t.Errorf("without a cluster: %q", out.String())
	}
	if _, err := ReadSparkApplication(context.Background(), fake.NewClientset(), kubeflowSource(nil), nil, "", sourceAppID); err == nil ||
		!strings.HasPrefix(err.Error(), "reading the checkpoint claim etl-ckpt of sparkapplication/etl: ") {
		t.Errorf("a missing claim: %v", err)
	}
	if _, err := ReadSparkApplication(context.Background(), nil, kubeflowSource(nil), nil, "other", sourceAppID); err == nil {
		t.Errorf("a --checkpoint-claim the app does not mount was taken")
	}
	if _, err := ReadSparkApplication(context.Background(), nil, kubeflowSource(map[string]any{"image": ""}), nil, "", sourceAppID); err == nil ||
		!strings.HasPrefix(err.Error(), "the application of sparkapplication/etl cannot run as a sparkha Job: ") {
		t.Errorf("no image: %v", err)
	}
}

// Fatal names every field not carried, in the order reported; none is no error.
func TestSourceFatal(t *testing.T) {
	src, err := ReadSparkApplication(context.Background(), nil, kubeflowSource(map[string]any{"monitoring": map[string]any{"exposeDriverMetrics": true},
		"sparkConfigMap": "conf", "timeToLiveSeconds": int64(60)}), nil, "", sourceAppID)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Fatal("migrate"); err == nil || err.Error() != "cannot migrate sparkapplication/etl: 2 field(s) of it have no equivalent in a sparkha Job (listed above): spec.monitoring, spec.sparkConfigMap; nothing was changed" {
		t.Errorf("fatal: %v", err)
	}
	var out bytes.Buffer
	src.Report(&out)
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "not carried: spec.monitoring: ") || !strings.HasPrefix(lines[2], "warning: spec.timeToLiveSeconds: ") {
		t.Errorf("report:\n%s", out.String())
	}
	src.Dropped = []migrate.Dropped{{Field: "spec.timeToLiveSeconds", Why: "x"}}
	if err := src.Fatal("migrate"); err != nil {
		t.Errorf("warnings only: %v", err)
	}
}

// The driver's ConfigMaps: a missing one is nil (FromDriverPod says what it loses), an error
// reading one is an error.
func TestPodConfigMap(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "etl-driver", Namespace: "etl"}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "conf", Namespace: "etl"}}
	client := fake.NewClientset(cm)
	if got, err := podConfigMap(context.Background(), client, pod, "conf", "x"); err != nil || got == nil || got.Name != "conf" {
		t.Errorf("present: %v %v", got, err)
	}
	for _, name := range []string{"", "gone"} {
		if got, err := podConfigMap(context.Background(), client, pod, name, "x"); err != nil || got != nil {
			t.Errorf("%q: %v %v", name, got, err)
		}
	}
	client.PrependReactor("get", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewServiceUnavailable("etcd")
	})
	if _, err := podConfigMap(context.Background(), client, pod, "conf", "the spark.properties"); err == nil || !strings.HasPrefix(err.Error(), "reading the spark.properties of pod/etl-driver: ") {
		t.Errorf("failing: %v", err)
	}
	_, err := ReadDriverPod(context.Background(), client, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "etl-driver", Namespace: "etl"},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "spark-conf-volume-driver", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "conf"}}}}}}}, "", sourceAppID)
	if err == nil || !strings.HasPrefix(err.Error(), "reading the spark.properties of pod/etl-driver: ") {
		t.Errorf("ReadDriverPod: %v", err)
	}
}

// ReadDriverPod reads a spark-submit driver (pkg/migrate's fixture) and its spark.properties.
func TestReadDriverPod(t *testing.T) {
	pod, cm := fixture.SparkSubmitDriver(t, "spark-4.0")
	src, err := ReadDriverPod(context.Background(), fake.NewClientset(cm), pod, "", sourceAppID)
	if err != nil {
		t.Fatal(err)
	}
	if src.What != "pod/"+pod.Name || src.App.Name != "clicks" || src.From.Pod != pod.Name || src.From.UID != string(pod.UID) ||
		src.From.Node != pod.Spec.NodeName || src.From.SparkApplication != nil {
		t.Errorf("source %s, app %s, from %+v", src.What, src.App.Name, src.From)
	}
	if _, err := ReadDriverPod(context.Background(), fake.NewClientset(), pod, "", sourceAppID); err == nil || !strings.Contains(err.Error(), "is gone, and with it the application's spark.properties") {
		t.Errorf("without its ConfigMap: %v", err)
	}
}
