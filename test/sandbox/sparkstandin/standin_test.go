package sparkstandin

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// driverPod is a driver pod as the Job of `kubectl sparkha submit` makes it
// (go run ./cmd/kubectl-sparkha submit ... --dry-run=client -o yaml), with
// the executor pod template mounted as submit ships it.
func driverPod() *corev1.Pod {
	field := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "etl-x7k2p", Namespace: "ns", UID: "1f0e2d3c-aaaa-bbbb-cccc-000000000001",
			Labels: map[string]string{"spark-role": "driver", "spark-app-name": "etl", "spark-app-selector": "spark-jobwide"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "spark-kubernetes-driver", Image: "spark:3.5.3",
				Args: []string{"driver", "--properties-file", "/opt/spark/conf/spark.properties",
					"--conf", "spark.kubernetes.driver.pod.name=$(SPARK_DRIVER_POD_NAME)",
					"--conf", "spark.app.id=spark-$(SPARK_DRIVER_POD_UID)", "--class", "c", "local:///x.jar"},
				Env: []corev1.EnvVar{
					{Name: "SPARK_DRIVER_POD_NAME", ValueFrom: field("metadata.name")},
					{Name: "SPARK_DRIVER_POD_UID", ValueFrom: field("metadata.uid")},
				},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "spark-conf-volume-driver", MountPath: "/opt/spark/conf"},
					{Name: "pod-template", MountPath: "/opt/spark/pod-template"},
				},
			}},
			Volumes: []corev1.Volume{
				{Name: "spark-conf-volume-driver", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "etl-spark-conf"},
					Items:                []corev1.KeyToPath{{Key: "spark.properties", Path: "spark.properties"}}}}},
				{Name: "pod-template", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "etl-spark-conf"},
					Items:                []corev1.KeyToPath{{Key: "pod-spec-template.yml", Path: "pod-spec-template.yml"}}}}},
			},
		},
	}
}

const template = `apiVersion: v1
kind: Pod
metadata:
  labels:
    team: data
    spark-role: not-spark
  annotations:
    owner: alice
spec:
  nodeSelector:
    disk: ssd
  containers:
  - name: sidecar
    image: busybox
  - name: main
    image: ignored
    env:
    - name: FROM_TEMPLATE
      value: "1"
    ports:
    - containerPort: 9999
`

func configMaps(props string) ConfigMapGetter {
	return func(name string) (*corev1.ConfigMap, error) {
		if name != "etl-spark-conf" {
			return nil, fmt.Errorf("configmap %q not found", name)
		}
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name},
			Data: map[string]string{"spark.properties": props, "pod-spec-template.yml": template}}, nil
	}
}

const props = `# Spark properties of etl
spark.app.name=etl
spark.driver.host=etl-driver-svc.ns.svc
spark.driver.port=7078
spark.executor.cores=2
spark.executor.memory=2g
spark.executor.instances=3
spark.kubernetes.container.image=spark:3.5.3
spark.kubernetes.container.image.pullSecrets=regcred
spark.kubernetes.executor.podTemplateFile=/opt/spark/pod-template/pod-spec-template.yml
spark.kubernetes.executor.podTemplateContainerName=main
spark.kubernetes.executor.label.tier=batch
spark.kubernetes.executor.secrets.creds=/etc/creds
spark.kubernetes.executor.volumes.persistentVolumeClaim.checkpoint.mount.path=/checkpoint
spark.kubernetes.executor.volumes.persistentVolumeClaim.checkpoint.options.claimName=etl-checkpoint
`

func TestExecutorPodFollowsSpark(t *testing.T) {
	d, err := NewDriver(driverPod(), "10.244.1.5", configMaps(props), time.UnixMilli(0x1234567890))
	if err != nil {
		t.Fatal(err)
	}
	if d.AppID != "spark-1f0e2d3c-aaaa-bbbb-cccc-000000000001" {
		t.Errorf("app id %q: want spark-<driver pod uid> from the expanded --conf", d.AppID)
	}
	if !regexp.MustCompile(`^etl-[0-9a-f]{6}1234567890$`).MatchString(d.Prefix) {
		t.Errorf("prefix %q: want etl-<6 random hex><time hex>", d.Prefix)
	}
	if d.Instances() != 3 {
		t.Errorf("instances %d, want 3", d.Instances())
	}
	p := d.Executor(2)
	if p.Name != d.Prefix+"-exec-2" || p.Namespace != "ns" {
		t.Errorf("name %s/%s", p.Namespace, p.Name)
	}
	want := map[string]string{"spark-role": "executor", "spark-app-selector": d.AppID, "spark-exec-id": "2",
		"spark-exec-resourceprofile-id": "0", "spark-app-name": "etl", "team": "data", "tier": "batch"}
	for k, v := range want {
		if p.Labels[k] != v {
			t.Errorf("label %s=%q, want %q", k, p.Labels[k], v)
		}
	}
	if p.Annotations["owner"] != "alice" {
		t.Errorf("template annotation lost: %v", p.Annotations)
	}
	if len(p.OwnerReferences) != 1 || p.OwnerReferences[0].UID != "1f0e2d3c-aaaa-bbbb-cccc-000000000001" ||
		p.OwnerReferences[0].Kind != "Pod" || !*p.OwnerReferences[0].Controller {
		t.Errorf("owner references %+v", p.OwnerReferences)
	}
	if p.Spec.RestartPolicy != corev1.RestartPolicyNever || p.Spec.NodeSelector["disk"] != "ssd" {
		t.Errorf("restartPolicy %s nodeSelector %v", p.Spec.RestartPolicy, p.Spec.NodeSelector)
	}
	if len(p.Spec.ImagePullSecrets) != 1 || p.Spec.ImagePullSecrets[0].Name != "regcred" {
		t.Errorf("pull secrets %v", p.Spec.ImagePullSecrets)
	}
	if len(p.Spec.Containers) != 2 || p.Spec.Containers[0].Name != "sidecar" || p.Spec.Containers[1].Name != "main" {
		t.Fatalf("containers: want the template's sidecar, then the Spark container named main; got %+v", p.Spec.Containers)
	}
	c := p.Spec.Containers[1]
	if c.Image != "spark:3.5.3" || c.Args[len(c.Args)-1] != "executor" {
		t.Errorf("image %s args %v", c.Image, c.Args)
	}
	if got := c.Resources.Requests.Memory().String(); got != "2432Mi" { // 2048 + max(384, 204)
		t.Errorf("memory %s, want 2432Mi", got)
	}
	if got := c.Resources.Requests.Cpu().String(); got != "2" {
		t.Errorf("cpu %s, want 2", got)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	for k, v := range map[string]string{"FROM_TEMPLATE": "1", "SPARK_EXECUTOR_ID": "2", "SPARK_APPLICATION_ID": d.AppID,
		"SPARK_DRIVER_URL": "spark://CoarseGrainedScheduler@etl-driver-svc.ns.svc:7078"} {
		if env[k] != v {
			t.Errorf("env %s=%q, want %q", k, env[k], v)
		}
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 7079 {
		t.Errorf("ports %v: Spark replaces the template's with the blockmanager port", c.Ports)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	if mounts["creds-volume"] != "/etc/creds" || mounts["checkpoint"] != "/checkpoint" {
		t.Errorf("mounts %v", mounts)
	}
	claim := ""
	for _, v := range p.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			claim = v.PersistentVolumeClaim.ClaimName
		}
	}
	if claim != "etl-checkpoint" {
		t.Errorf("claim %q", claim)
	}
}

func TestDriverWithoutSparkhaAppID(t *testing.T) {
	pod := driverPod()
	pod.Spec.Containers[0].Args = []string{"driver", "--properties-file", "/opt/spark/conf/spark.properties", "--class", "c", "x.jar"}
	d, err := NewDriver(pod, "", configMaps(strings.ReplaceAll(props, "spark.kubernetes.executor.podTemplateFile", "x")), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d.AppID != "spark-jobwide" {
		t.Errorf("app id %q: without spark.app.id the driver's own spark-app-selector", d.AppID)
	}
	p := d.Executor(1)
	if len(p.Spec.Containers) != 1 || p.Spec.Containers[0].Name != "spark-kubernetes-executor" {
		t.Errorf("without a template: one container spark-kubernetes-executor, got %+v", p.Spec.Containers)
	}
}

func TestAllocatorRounds(t *testing.T) {
	d, err := NewDriver(driverPod(), "", configMaps(props), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a := NewAllocator(d)
	t0 := time.Now()
	ids := a.Round(nil, t0)
	if fmt.Sprint(ids) != "[1 2 3]" {
		t.Fatalf("first round %v, want [1 2 3]", ids)
	}
	for _, id := range ids {
		a.Created(id, t0)
	}
	if ids := a.Round(nil, t0.Add(2*time.Second)); len(ids) != 0 {
		t.Fatalf("requested %v while 3 created executors are unseen", ids)
	}
	var pods []*corev1.Pod
	for _, id := range []int{1, 2, 3} {
		p := d.Executor(id)
		p.Status.Phase = corev1.PodRunning
		pods = append(pods, p)
	}
	now := metav1.Now()
	pods[1].Status.Phase = corev1.PodFailed
	pods[2].DeletionTimestamp = &now // deleted but still reported running: counts as running
	if ids := a.Round(pods, t0.Add(4*time.Second)); fmt.Sprint(ids) != "[4]" {
		t.Fatalf("after one executor failed: %v, want [4]", ids)
	}
}
