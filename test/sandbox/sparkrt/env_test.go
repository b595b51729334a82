package sparkrt

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// A driver pod as kubectl sparkha submit builds it, trimmed to what the kubelet resolves.
func driverPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "clicks-x1", Namespace: "stream", UID: "u-1"},
		Spec: corev1.PodSpec{
			NodeName: "node-a", ServiceAccountName: "spark",
			Containers: []corev1.Container{{
				Name: "spark-kubernetes-driver", Image: "sparkha.test/apps:3.5.9",
				Env: []corev1.EnvVar{
					{Name: "SPARK_DRIVER_POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
					{Name: "SPARK_DRIVER_POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
					{Name: "HOSTPORT", Value: "$(SPARK_DRIVER_POD_IP):7078"},
					{Name: "LATER", Value: "$(UNDEFINED_YET)"},
					{Name: "UNDEFINED_YET", Value: "set after"},
				},
				Args: []string{"driver", "--conf", "spark.driver.host=$(SPARK_DRIVER_POD_IP)", "--conf", "spark.app.id=spark-$(SPARK_DRIVER_POD_NAME)", "$$(NOT_EXPANDED)"},
			}},
		},
	}
}

func TestEnvironmentFollowsTheKubelet(t *testing.T) {
	pod := driverPod()
	env, args, err := environment(pod, &pod.Spec.Containers[0], "10.244.1.2", "10.0.0.10")
	if err != nil {
		t.Fatal(err)
	}
	// The master Service's variables come first, then the pod's in order; a value is expanded
	// against the variables before it only.
	if env[0] != "KUBERNETES_SERVICE_HOST=10.96.0.1" {
		t.Errorf("first variable %q", env[0])
	}
	tail := env[len(env)-5:]
	want := []string{"SPARK_DRIVER_POD_IP=10.244.1.2", "SPARK_DRIVER_POD_NAME=clicks-x1", "HOSTPORT=10.244.1.2:7078", "LATER=$(UNDEFINED_YET)", "UNDEFINED_YET=set after"}
	if !slices.Equal(tail, want) {
		t.Errorf("env %q, want %q", tail, want)
	}
	wantArgs := []string{"driver", "--conf", "spark.driver.host=10.244.1.2", "--conf", "spark.app.id=spark-clicks-x1", "$(NOT_EXPANDED)"}
	if !slices.Equal(args, wantArgs) {
		t.Errorf("args %q, want %q", args, wantArgs)
	}
}

func TestEnvironmentRefusesWhatItCannotResolve(t *testing.T) {
	for name, mutate := range map[string]func(*corev1.Container){
		"secretKeyRef": func(c *corev1.Container) {
			c.Env = append(c.Env, corev1.EnvVar{Name: "S", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "k"}}})
		},
		"fieldRef": func(c *corev1.Container) {
			c.Env = append(c.Env, corev1.EnvVar{Name: "L", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['x']"}}})
		},
		"command": func(c *corev1.Container) { c.Command = []string{"/bin/sh"} },
	} {
		pod := driverPod()
		mutate(&pod.Spec.Containers[0])
		if _, _, err := environment(pod, &pod.Spec.Containers[0], "10.244.1.2", "10.0.0.10"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// stage lays the volumes out as the kubelet's plugins do: ConfigMap items as files with the
// default mode, emptyDir 0777, the projected service-account volume with a token bound to the
// pod, a claim as the storage's shared directory; and the hosts file names the pod and the API.
func TestStageVolumes(t *testing.T) {
	pod := driverPod()
	pod.Spec.Volumes = []corev1.Volume{
		{Name: "spark-conf-volume-driver", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "clicks-spark-conf"},
			Items:                []corev1.KeyToPath{{Key: "spark.properties", Path: "spark.properties"}}}}},
		{Name: "spark-local-dir-1", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "checkpoint", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "clicks-checkpoint"}}},
		{Name: "kube-api-access", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3607)}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}},
		}}}},
	}
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{
		{Name: "spark-conf-volume-driver", MountPath: "/opt/spark/conf"},
		{Name: "spark-local-dir-1", MountPath: "/var/data/spark-1"},
		{Name: "checkpoint", MountPath: "/checkpoint"},
		{Name: "kube-api-access", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true},
	}
	client := fake.NewSimpleClientset()
	var bound *authenticationv1.BoundObjectReference
	client.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		tr := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenRequest)
		bound = tr.Spec.BoundObjectRef
		return true, &authenticationv1.TokenRequest{Status: authenticationv1.TokenRequestStatus{Token: "tok-" + a.GetNamespace()}}, nil
	})
	cms := map[string]*corev1.ConfigMap{
		"clicks-spark-conf": {Data: map[string]string{"spark.properties": "spark.app.name=clicks\n"}},
		"kube-root-ca.crt":  {Data: map[string]string{"ca.crt": "CA"}},
	}
	claimDir := filepath.Join(t.TempDir(), "volumes", "key", "fs")
	dir := t.TempDir()
	r := &Runtime{Client: client}
	err := r.stage(context.Background(), dir, PodSpec{Pod: pod, IP: "10.244.1.2", HostIP: "10.0.0.10",
		Claims:    map[string]Volume{"checkpoint": {Dir: claimDir}},
		ConfigMap: func(_, name string) (*corev1.ConfigMap, error) { return cms[name], nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	sa := "volumes/kube-api-access/"
	for p, want := range map[string]string{
		"volumes/spark-conf-volume-driver/spark.properties": "spark.app.name=clicks\n",
		sa + "token": "tok-stream", sa + "ca.crt": "CA", sa + "namespace": "stream",
	} {
		if got := read(p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	if bound == nil || bound.Kind != "Pod" || bound.Name != "clicks-x1" || bound.UID != "u-1" {
		t.Errorf("token bound to %+v, want the pod", bound)
	}
	if st, err := os.Stat(filepath.Join(dir, "volumes/spark-local-dir-1")); err != nil || st.Mode().Perm() != 0o777 {
		t.Errorf("emptyDir: %v %v", st, err)
	}
	if st, err := os.Stat(filepath.Join(dir, "volumes/spark-conf-volume-driver/spark.properties")); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("configMap file mode: %v %v", st, err)
	}
	wantMounts := strings.Join([]string{
		filepath.Join(dir, "volumes/spark-conf-volume-driver") + "\t/opt/spark/conf\trw",
		filepath.Join(dir, "volumes/spark-local-dir-1") + "\t/var/data/spark-1\trw",
		claimDir + "\t/checkpoint\trw",
		filepath.Join(dir, "volumes/kube-api-access") + "\t/var/run/secrets/kubernetes.io/serviceaccount\tro",
	}, "\n") + "\n"
	if got := read("mounts"); got != wantMounts {
		t.Errorf("mounts:\n%s\nwant:\n%s", got, wantMounts)
	}
	if got := read("hosts"); !strings.Contains(got, "10.244.1.2\tclicks-x1\n") || !strings.Contains(got, "10.96.0.1\tkubernetes.default.svc.cluster.local kubernetes.default.svc") {
		t.Errorf("hosts:\n%s", got)
	}
	if got := read("args"); got != "driver\x00--conf\x00spark.driver.host=10.244.1.2\x00--conf\x00spark.app.id=spark-clicks-x1\x00$(NOT_EXPANDED)\x00" {
		t.Errorf("args %q", got)
	}

	// A volume kind the sandbox does not set up stops the container from starting.
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "nfs", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "s", Path: "/"}}})
	if err := r.stage(context.Background(), t.TempDir(), PodSpec{Pod: pod, Claims: map[string]Volume{"checkpoint": {Dir: claimDir}},
		ConfigMap: func(_, name string) (*corev1.ConfigMap, error) { return cms[name], nil }}); err == nil || !strings.Contains(err.Error(), "volume nfs") {
		t.Errorf("nfs volume: %v", err)
	}
}
