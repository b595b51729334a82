package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

const fidelityDriverTemplate = `apiVersion: v1
kind: Pod
metadata:
  labels:
    tier: driver
spec:
  containers:
  - name: spark
    env:
    - name: FROM_DRIVER_TEMPLATE
      value: "1"
`

const fidelityExecutorTemplate = `apiVersion: v1
kind: Pod
metadata:
  labels:
    tier: executor
spec:
  tolerations:
  - key: example.com/spot
    operator: Exists
    effect: NoSchedule
  containers:
  - name: spark-kubernetes-executor
    env:
    - name: FROM_EXECUTOR_TEMPLATE
      value: "1"
`

// TestSubmitSparkFidelity submits the way a real Spark app is configured (driver and executor
// pod templates, a driver secret mounted and read into env, a pull secret, a ReadWriteMany
// checkpoint, '$' in the arguments) and checks the pods the API server and the kubelet end up
// with: the driver's as submit builds it, and the executors' as Spark's allocator creates them.
func TestSubmitSparkFidelity(t *testing.T) {
	e := start(t, twoNodes)
	const ns, app = "fid", "fid"
	e.namespace(ns)
	c := e.client()
	if _, err := c.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "regcred"}, Type: corev1.SecretTypeDockerConfigJson,
		StringData: map[string]string{corev1.DockerConfigJsonKey: `{"auths":{}}`}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	driverTmpl, execTmpl := filepath.Join(dir, "driver.yaml"), filepath.Join(dir, "executor.yaml")
	if err := os.WriteFile(driverTmpl, []byte(fidelityDriverTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(execTmpl, []byte(fidelityExecutorTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := e.runAll(bins.Plugin, "submit", app, "-n", ns, "--image", "spark:3.5.3", "--class", "org.example.Stream",
		"local:///opt/app/stream.jar", "--checkpoint-size", "1Gi", "--checkpoint-access-mode", "ReadWriteMany",
		"--executor-instances", "2", "--node-lost-timeout", "5s",
		"--conf", "spark.kubernetes.driver.podTemplateFile="+driverTmpl,
		"--conf", "spark.kubernetes.driver.podTemplateContainerName=spark",
		"--conf", "spark.kubernetes.executor.podTemplateFile="+execTmpl,
		"--conf", "spark.kubernetes.driver.secrets.db-creds=/etc/db",
		"--conf", "spark.kubernetes.driver.secretKeyRef.DB_PASSWORD=db-creds:password",
		"--conf", "spark.kubernetes.container.image.pullSecrets=regcred",
		"--", "a$$b", "$(HOME)")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stderr, "Warning:") {
		t.Errorf("a ReadWriteMany checkpoint needs no warning: %s", stderr)
	}
	// The driver's secret does not exist yet: the kubelet holds the pod, as a real one does.
	e.eventually(40*time.Second, "driver held by its missing secret", func() (bool, string) {
		pods := e.jobPods(ns, app)
		if len(pods) != 1 {
			return false, describePods(pods)
		}
		evs := e.events(ns, "Pod", pods[0].Name)
		return waitingReason(&pods[0]) == "ContainerCreating" &&
			hasEvent(evs, `FailedMount: MountVolume.SetUp failed for volume "db-creds-volume" : secret "db-creds" not found`), fmt.Sprintf("%s %q", describePods(pods), evs)
	})
	if _, err := c.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db-creds"},
		StringData: map[string]string{"password": "s3cr$t"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The driver pod, as the API server has it.
	driver := e.runningDriver(ns, app)
	dc := driver.Spec.Containers[0]
	if driver.Labels["tier"] != "driver" || driver.Labels[sparkapp.LabelSparkRole] != sparkapp.RoleDriver {
		t.Errorf("driver labels %v: the template's and Spark's", driver.Labels)
	}
	if dc.Name != "spark" || dc.Image != "spark:3.5.3" || !hasEnv(dc, "FROM_DRIVER_TEMPLATE") {
		t.Errorf("driver container %s image %s env %v: the template's container with Spark's settings", dc.Name, dc.Image, dc.Env)
	}
	if !slices.Equal(driver.Spec.ImagePullSecrets, []corev1.LocalObjectReference{{Name: "regcred"}}) {
		t.Errorf("driver imagePullSecrets %v", driver.Spec.ImagePullSecrets)
	}
	if v := podVolume(driver.Spec, "db-creds-volume"); v == nil || v.Secret == nil || v.Secret.SecretName != "db-creds" || !mountedAt(dc, "db-creds-volume", "/etc/db") {
		t.Errorf("driver secret volume %+v, mounts %v", v, dc.VolumeMounts)
	}
	if e := envVar(dc, "DB_PASSWORD"); e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != "db-creds" {
		t.Errorf("driver env DB_PASSWORD %+v", e)
	}
	if !mountedAt(dc, submit.PodTemplateVolume, submit.ExecutorTemplateDir) || !mountedAt(dc, submit.CheckpointVolume, "/checkpoint") {
		t.Errorf("driver mounts %v: the executor template and the checkpoint", dc.VolumeMounts)
	}
	// Kubernetes hands the process a$$b and $(HOME): the spec holds them escaped.
	if n := len(dc.Args); n < 2 || dc.Args[n-2] != "a$$$$b" || dc.Args[n-1] != "$$(HOME)" {
		t.Errorf("driver args %q: the user's '$' must be escaped", dc.Args)
	}
	cm, err := c.CoreV1().ConfigMaps(ns).Get(ctx, submit.ConfigMapName(app), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	props := cm.Data[submit.SparkConfFile]
	for _, line := range []string{
		"spark.jars=local:///opt/app/stream.jar\n",
		"spark.kubernetes.executor.podTemplateFile=/opt/spark/pod-template/pod-spec-template.yml\n",
		"spark.kubernetes.executor.volumes.persistentVolumeClaim.checkpoint.options.claimName=fid-checkpoint\n",
	} {
		if !strings.Contains(props, line) {
			t.Errorf("spark.properties lacks %q:\n%s", line, props)
		}
	}
	if cm.Data[submit.ExecutorTemplateFile] != fidelityExecutorTemplate {
		t.Errorf("ConfigMap's executor template %q", cm.Data[submit.ExecutorTemplateFile])
	}

	// The executors, as Spark's allocator (the sandbox's stand-in) builds them from this conf:
	// this generation's, on the executor template, with the pull secret and the checkpoint.
	execs := e.runningExecutors(ns, "spark-"+string(driver.UID), 2)
	for _, p := range execs {
		ec := p.Spec.Containers[0]
		if len(p.OwnerReferences) != 1 || p.OwnerReferences[0].UID != driver.UID || p.Labels["tier"] != "executor" {
			t.Errorf("%s: owners %+v labels %v", p.Name, p.OwnerReferences, p.Labels)
		}
		if !slices.ContainsFunc(p.Spec.Tolerations, func(tl corev1.Toleration) bool { return tl.Key == "example.com/spot" }) || !hasEnv(ec, "FROM_EXECUTOR_TEMPLATE") {
			t.Errorf("%s: the executor template's toleration and env are missing: %v %v", p.Name, p.Spec.Tolerations, ec.Env)
		}
		if !slices.Equal(p.Spec.ImagePullSecrets, []corev1.LocalObjectReference{{Name: "regcred"}}) {
			t.Errorf("%s: imagePullSecrets %v", p.Name, p.Spec.ImagePullSecrets)
		}
		v := podVolume(p.Spec, submit.ExecutorCheckpointVolume)
		if v == nil || v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "fid-checkpoint" || !mountedAt(ec, submit.ExecutorCheckpointVolume, "/checkpoint") {
			t.Errorf("%s: checkpoint volume %+v mounts %v: a stateful query's executors write its state there", p.Name, v, ec.VolumeMounts)
		}
	}
}

func hasEnv(c corev1.Container, name string) bool { return envVar(c, name) != nil }

func envVar(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func podVolume(s corev1.PodSpec, name string) *corev1.Volume {
	for i := range s.Volumes {
		if s.Volumes[i].Name == name {
			return &s.Volumes[i]
		}
	}
	return nil
}

func mountedAt(c corev1.Container, volume, path string) bool {
	for _, m := range c.VolumeMounts {
		if m.Name == volume && m.MountPath == path {
			return true
		}
	}
	return false
}
