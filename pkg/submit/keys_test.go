package submit

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// TestKeyRulesCoverSpark: every spark.kubernetes.* key of every Spark line the project names
// (3.5 to 4.3) has a decided disposition, so none is dropped without a decision.
func TestKeyRulesCoverSpark(t *testing.T) {
	for _, v := range sparkVersions {
		ks := loadSparkKeys(t, v)
		all := append(slices.Sorted(func(yield func(string) bool) {
			for k := range ks.exact {
				if !yield(k) {
					return
				}
			}
		}), ks.prefixes...)
		for _, k := range all {
			if !strings.HasPrefix(k, "spark.kubernetes.") {
				continue
			}
			if _, ok := ruleFor(k); !ok {
				t.Errorf("Spark %s key %s has no rule in KeyRules", v, k)
			}
		}
	}
}

// TestKeyRulesAreSparkKeys: every rule names a key (or key family) of a Spark line, the 2018
// fork's backoff key aside, so a typo cannot hide a key.
func TestKeyRulesAreSparkKeys(t *testing.T) {
	var keys []sparkKeys
	for _, v := range sparkVersions {
		keys = append(keys, loadSparkKeys(t, v))
	}
	for _, r := range KeyRules {
		if r.Key == BackoffLimitConfKey {
			continue
		}
		found := false
		for _, ks := range keys {
			if p, ok := strings.CutSuffix(r.Key, "*"); ok {
				found = found || slices.Contains(ks.prefixes, p)
				for k := range ks.exact {
					found = found || strings.HasPrefix(k, p)
				}
			} else {
				found = found || ks.has(r.Key)
			}
		}
		if !found {
			t.Errorf("rule %s names no key of Spark %s", r.Key, strings.Join(sparkVersions, ", "))
		}
	}
}

// keyCase is one row of TestDriverKeys: the conf that sets the key, and either the error
// that must name it or a check of the objects.
type keyCase struct {
	conf    []string
	files   map[string]string
	in      func(*Input)
	wantErr string
	check   func(t *testing.T, objs *Objects, app *App)
}

func podSpec(o *Objects) corev1.PodSpec   { return o.Job.Spec.Template.Spec }
func driverC(o *Objects) corev1.Container { return o.Job.Spec.Template.Spec.Containers[0] }
func job(o *Objects) *batchv1.Job         { return o.Job }
func envOf(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}
func mountAt(c corev1.Container, path string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].MountPath == path {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}
func volume(s corev1.PodSpec, name string) *corev1.Volume {
	for i := range s.Volumes {
		if s.Volumes[i].Name == name {
			return &s.Volumes[i]
		}
	}
	return nil
}

const driverTemplate = `apiVersion: v1
kind: Pod
metadata:
  labels:
    team: data
  annotations:
    prometheus.io/scrape: "true"
spec:
  priorityClassName: streaming
  securityContext:
    runAsUser: 185
  nodeSelector:
    pool: general
  initContainers:
  - name: fetch
    image: busybox
  containers:
  - name: sidecar
    image: fluent-bit:3
  - name: spark
    image: ignored
    env:
    - name: FROM_TEMPLATE
      value: "1"
    resources:
      requests:
        ephemeral-storage: 1Gi
    volumeMounts:
    - name: cache
      mountPath: /cache
  volumes:
  - name: cache
    emptyDir: {}
`

const executorTemplate = `apiVersion: v1
kind: Pod
spec:
  containers:
  - name: spark-kubernetes-executor
  tolerations:
  - key: spot
    operator: Exists
`

// driverKeyCases has a case for every rule that is not Passed: applied keys change the
// objects, refused and reserved keys exit with an error naming them.
var driverKeyCases = map[string][]keyCase{
	"spark.kubernetes.container.image": {
		{check: func(t *testing.T, o *Objects, a *App) {
			if driverC(o).Image != "apache/spark:4.0.0" || a.Properties["spark.kubernetes.container.image"] != "apache/spark:4.0.0" {
				t.Errorf("image %q", driverC(o).Image)
			}
		}},
		// Spark 4.1 substitutes its own version; kubectl sparkha has none to give.
		{in: func(in *Input) { in.Image = "apache/spark:{{SPARK_VERSION}}" }, wantErr: "invalid image \"apache/spark:{{SPARK_VERSION}}\" in --image: spark-submit replaces {{SPARK_VERSION}} with its own Spark version, and kubectl sparkha has none: write the version, e.g. apache/spark:4.3.0"},
	},
	"spark.kubernetes.driver.container.image": {
		{conf: []string{"spark.kubernetes.driver.container.image=registry/driver:1"}, check: func(t *testing.T, o *Objects, a *App) {
			if driverC(o).Image != "registry/driver:1" || a.Properties["spark.kubernetes.container.image"] != "apache/spark:4.0.0" {
				t.Errorf("driver image %q, executors %q", driverC(o).Image, a.Properties["spark.kubernetes.container.image"])
			}
		}},
		{conf: []string{"spark.kubernetes.driver.container.image=apache/spark:{{SPARK_VERSION}}-python3"}, wantErr: "invalid spark.kubernetes.driver.container.image \"apache/spark:{{SPARK_VERSION}}-python3\" in --conf: spark-submit replaces {{SPARK_VERSION}}"},
	},
	"spark.kubernetes.container.image.pullPolicy": {
		{conf: []string{"spark.kubernetes.container.image.pullPolicy=Always"}, check: func(t *testing.T, o *Objects, a *App) {
			if driverC(o).ImagePullPolicy != corev1.PullAlways {
				t.Errorf("pull policy %q", driverC(o).ImagePullPolicy)
			}
		}},
		{conf: []string{"spark.kubernetes.container.image.pullPolicy=Sometimes"}, wantErr: "invalid spark.kubernetes.container.image.pullPolicy \"Sometimes\" in --conf: use Always, Never or IfNotPresent"},
	},
	"spark.kubernetes.container.image.pullSecrets": {
		{conf: []string{"spark.kubernetes.container.image.pullSecrets=regcred, other"}, check: func(t *testing.T, o *Objects, a *App) {
			want := []corev1.LocalObjectReference{{Name: "regcred"}, {Name: "other"}}
			if !slices.Equal(podSpec(o).ImagePullSecrets, want) || a.Properties["spark.kubernetes.container.image.pullSecrets"] != "regcred, other" {
				t.Errorf("pull secrets %v", podSpec(o).ImagePullSecrets)
			}
		}},
		{conf: []string{"spark.kubernetes.container.image.pullSecrets=Bad_Name"}, wantErr: `"Bad_Name" is not a Secret name`},
	},
	"spark.kubernetes.driverEnv.*": {
		{conf: []string{"spark.kubernetes.driverEnv.TZ=UTC", "spark.kubernetes.driverEnv.WHO=$(SPARK_DRIVER_POD_NAME)"}, check: func(t *testing.T, o *Objects, a *App) {
			c := driverC(o)
			if e := envOf(c, "TZ"); e == nil || e.Value != "UTC" {
				t.Errorf("TZ %+v", e)
			}
			// A reference resolves as spark-submit's would: the variable comes earlier.
			env, _ := kubeletRuntime(t, c, podRuntime{name: "clicks-abcde", uid: "u", ip: "10.0.0.1"})
			if env["WHO"] != "clicks-abcde" {
				t.Errorf("WHO=%q", env["WHO"])
			}
		}},
		{conf: []string{"spark.kubernetes.driverEnv.SPARK_DRIVER_POD_NAME=x"}, wantErr: "spark.kubernetes.driverEnv.SPARK_DRIVER_POD_NAME in --conf cannot be set"},
		{conf: []string{"spark.kubernetes.driverEnv.1BAD=x"}, wantErr: "invalid spark.kubernetes.driverEnv.1BAD in --conf"},
	},
	"spark.kubernetes.driver.label.*": {
		{conf: []string{"spark.kubernetes.driver.label.team=data"}, check: func(t *testing.T, o *Objects, a *App) {
			if o.Job.Spec.Template.Labels["team"] != "data" || o.Job.Labels["team"] != "" {
				t.Errorf("pod labels %v, Job labels %v", o.Job.Spec.Template.Labels, o.Job.Labels)
			}
		}},
		{conf: []string{"spark.kubernetes.driver.label.spark-role=x"}, wantErr: "spark.kubernetes.driver.label.spark-role in --conf cannot be set"},
	},
	"spark.kubernetes.driver.annotation.*": {{conf: []string{"spark.kubernetes.driver.annotation.logs={{APP_ID}}/driver"}, check: func(t *testing.T, o *Objects, a *App) {
		if got := o.Job.Spec.Template.Annotations["logs"]; got != testAppID+"/driver" {
			t.Errorf("annotation %q", got)
		}
	}}},
	"spark.kubernetes.node.selector.*": {{conf: []string{"spark.kubernetes.node.selector.pool=spark", "spark.kubernetes.node.selector.disk=ssd"}, check: func(t *testing.T, o *Objects, a *App) {
		if ns := podSpec(o).NodeSelector; ns["pool"] != "spark" || ns["disk"] != "ssd" {
			t.Errorf("nodeSelector %v", ns)
		}
	}}},
	"spark.kubernetes.driver.node.selector.*": {{conf: []string{"spark.kubernetes.node.selector.pool=spark", "spark.kubernetes.driver.node.selector.pool=drivers"}, check: func(t *testing.T, o *Objects, a *App) {
		if ns := podSpec(o).NodeSelector; ns["pool"] != "drivers" {
			t.Errorf("nodeSelector %v: the driver's selector wins", ns)
		}
	}}},
	"spark.kubernetes.driver.request.cores": {
		{conf: []string{"spark.kubernetes.driver.request.cores=500m"}, check: func(t *testing.T, o *Objects, a *App) {
			if q := driverC(o).Resources.Requests[corev1.ResourceCPU]; q.String() != "500m" {
				t.Errorf("cpu request %s", q.String())
			}
		}},
		{conf: []string{"spark.kubernetes.driver.request.cores=lots"}, wantErr: "invalid spark.kubernetes.driver.request.cores \"lots\""},
	},
	"spark.kubernetes.driver.limit.cores": {{conf: []string{"spark.kubernetes.driver.limit.cores=2"}, check: func(t *testing.T, o *Objects, a *App) {
		if q := driverC(o).Resources.Limits[corev1.ResourceCPU]; q.String() != "2" {
			t.Errorf("cpu limit %s", q.String())
		}
	}}},
	"spark.driver.resource.*": {
		{conf: []string{"spark.driver.resource.gpu.amount=1", "spark.driver.resource.gpu.vendor=nvidia.com", "spark.driver.resource.gpu.discoveryScript=/opt/gpu.sh"}, check: func(t *testing.T, o *Objects, a *App) {
			if q := driverC(o).Resources.Limits["nvidia.com/gpu"]; q.String() != "1" {
				t.Errorf("limits %v", driverC(o).Resources.Limits)
			}
		}},
		{conf: []string{"spark.driver.resource.gpu.amount=1"}, wantErr: "spark.driver.resource.gpu.amount in --conf needs spark.driver.resource.gpu.vendor"},
	},
	"spark.kubernetes.scheduler.name": {{conf: []string{"spark.kubernetes.scheduler.name=volcano"}, check: func(t *testing.T, o *Objects, a *App) {
		if podSpec(o).SchedulerName != "volcano" {
			t.Errorf("schedulerName %q", podSpec(o).SchedulerName)
		}
	}}},
	"spark.kubernetes.driver.scheduler.name": {{conf: []string{"spark.kubernetes.scheduler.name=volcano", "spark.kubernetes.driver.scheduler.name=yunikorn"}, check: func(t *testing.T, o *Objects, a *App) {
		if podSpec(o).SchedulerName != "yunikorn" {
			t.Errorf("schedulerName %q", podSpec(o).SchedulerName)
		}
	}}},
	"spark.driver.memory": {{conf: []string{"spark.driver.memory=2g"}, check: func(t *testing.T, o *Objects, a *App) {
		if q := driverC(o).Resources.Requests[corev1.ResourceMemory]; q.String() != "2432Mi" {
			t.Errorf("memory %s, want 2048Mi + 384Mi", q.String())
		}
	}}},
	"spark.driver.cores": {{conf: []string{"spark.driver.cores=3"}, check: func(t *testing.T, o *Objects, a *App) {
		if q := driverC(o).Resources.Requests[corev1.ResourceCPU]; q.String() != "3" {
			t.Errorf("cpu %s", q.String())
		}
	}}},
	"spark.driver.memoryOverhead": {{conf: []string{"spark.driver.memoryOverhead=100m"}, check: func(t *testing.T, o *Objects, a *App) {
		if q := driverC(o).Resources.Limits[corev1.ResourceMemory]; q.String() != "1124Mi" {
			t.Errorf("memory %s", q.String())
		}
	}}},
	"spark.driver.memoryOverheadFactor": {
		{conf: []string{"spark.driver.memory=8g", "spark.driver.memoryOverheadFactor=0.25"}, check: func(t *testing.T, o *Objects, a *App) {
			if q := driverC(o).Resources.Limits[corev1.ResourceMemory]; q.String() != "10Gi" {
				t.Errorf("memory %s", q.String())
			}
		}},
		{conf: []string{"spark.driver.memoryOverheadFactor=0"}, wantErr: "invalid spark.driver.memoryOverheadFactor \"0\" in --conf: use a fraction greater than 0"},
	},
	"spark.driver.minMemoryOverhead": {{conf: []string{"spark.driver.minMemoryOverhead=1g"}, check: func(t *testing.T, o *Objects, a *App) {
		if q := driverC(o).Resources.Limits[corev1.ResourceMemory]; q.String() != "2Gi" {
			t.Errorf("memory %s", q.String())
		}
	}}},
	"spark.kubernetes.memoryOverheadFactor": {
		// 0 is allowed (Config.scala checks >= 0): the overhead is then the minimum.
		{conf: []string{"spark.kubernetes.memoryOverheadFactor=0"}, check: func(t *testing.T, o *Objects, a *App) {
			if q := driverC(o).Resources.Limits[corev1.ResourceMemory]; q.String() != "1408Mi" || a.Properties["spark.kubernetes.memoryOverheadFactor"] != "0" {
				t.Errorf("memory %s, factor %s", q.String(), a.Properties["spark.kubernetes.memoryOverheadFactor"])
			}
		}},
		{conf: []string{"spark.kubernetes.memoryOverheadFactor=-0.1"}, wantErr: "invalid spark.kubernetes.memoryOverheadFactor \"-0.1\""},
	},
	"spark.ui.port": {
		{conf: []string{"spark.ui.port=4050"}, check: func(t *testing.T, o *Objects, a *App) {
			if p := driverC(o).Ports[2]; p.Name != UIPortName || p.ContainerPort != 4050 {
				t.Errorf("container port %+v", p)
			}
			if p := o.Service.Spec.Ports[2]; p.Name != UIPortName || p.Port != 4050 {
				t.Errorf("Service port %+v", p)
			}
		}},
		{conf: []string{"spark.ui.port=0"}, wantErr: "invalid spark.ui.port \"0\""},
	},
	"spark.kubernetes.driver.pod.name":           {{conf: []string{"spark.kubernetes.driver.pod.name=x"}, wantErr: "spark.kubernetes.driver.pod.name in --conf cannot be set"}},
	"spark.app.id":                               {{conf: []string{"spark.app.id=x"}, wantErr: "spark.app.id in --conf cannot be set"}},
	"spark.kubernetes.submitInDriver":            {{conf: []string{"spark.kubernetes.submitInDriver=true"}, wantErr: "spark.kubernetes.submitInDriver in --conf cannot be set"}},
	"spark.driver.host":                          {{conf: []string{"spark.driver.host=x"}, wantErr: "spark.driver.host in --conf cannot be set"}},
	"spark.driver.port":                          {{conf: []string{"spark.driver.port=1"}, wantErr: "spark.driver.port in --conf cannot be set"}},
	"spark.driver.blockManager.port":             {{conf: []string{"spark.driver.blockManager.port=1"}, wantErr: "spark.driver.blockManager.port in --conf cannot be set"}},
	"spark.driver.bindAddress":                   {{conf: []string{"spark.driver.bindAddress=0.0.0.0"}, wantErr: "spark.driver.bindAddress in --conf cannot be set"}},
	"spark.kubernetes.resource.type":             {{conf: []string{"spark.kubernetes.resource.type=python"}, wantErr: "spark.kubernetes.resource.type in --conf cannot be set"}},
	"spark.kubernetes.namespace":                 {{conf: []string{"spark.kubernetes.namespace=x"}, wantErr: "spark.kubernetes.namespace in --conf cannot be set: use -n/--namespace"}},
	"spark.master":                               {{conf: []string{"spark.master=local"}, wantErr: "spark.master in --conf cannot be set"}},
	"spark.submit.deployMode":                    {{conf: []string{"spark.submit.deployMode=client"}, wantErr: "spark.submit.deployMode in --conf cannot be set"}},
	"spark.kubernetes.executor.podNamePrefix":    {{conf: []string{"spark.kubernetes.executor.podNamePrefix=x"}, wantErr: "spark.kubernetes.executor.podNamePrefix in --conf cannot be set"}},
	"spark.kubernetes.driver.resourceNamePrefix": {{conf: []string{"spark.kubernetes.driver.resourceNamePrefix=x"}, wantErr: "spark.kubernetes.driver.resourceNamePrefix in --conf cannot be set"}},
	"spark.kubernetes.driver.service.annotation.*": {{conf: []string{"spark.kubernetes.driver.service.annotation.team=data-{{APP_ID}}"}, check: func(t *testing.T, o *Objects, a *App) {
		if o.Service.Annotations["team"] != "data-{{APP_ID}}" { // not substituted, as upstream
			t.Errorf("Service annotations %v", o.Service.Annotations)
		}
	}}},
	"spark.kubernetes.driver.service.label.*": {
		{conf: []string{"spark.kubernetes.driver.service.label.team=data"}, check: func(t *testing.T, o *Objects, a *App) {
			if o.Service.Labels["team"] != "data" || o.Service.Labels[sparkapp.LabelAppID] != testAppID {
				t.Errorf("Service labels %v", o.Service.Labels)
			}
		}},
		{conf: []string{"spark.kubernetes.driver.service.label.spark-app-selector=x"}, wantErr: "spark.kubernetes.driver.service.label.spark-app-selector in --conf cannot be set"},
		{conf: []string{"spark.kubernetes.driver.service.label.sparkha.io/app-id=x"}, wantErr: "spark.kubernetes.driver.service.label.sparkha.io/app-id in --conf cannot be set"},
	},
	"spark.kubernetes.driver.service.publishNotReadyAddresses": {
		{conf: []string{"spark.kubernetes.driver.service.publishNotReadyAddresses=true"}, check: func(t *testing.T, o *Objects, a *App) {
			if !o.Service.Spec.PublishNotReadyAddresses {
				t.Errorf("Service publishNotReadyAddresses false")
			}
		}},
		// Spark 4.3's default: false, as before the key existed.
		{check: func(t *testing.T, o *Objects, a *App) {
			if o.Service.Spec.PublishNotReadyAddresses {
				t.Errorf("Service publishNotReadyAddresses true by default")
			}
		}},
		{conf: []string{"spark.kubernetes.driver.service.publishNotReadyAddresses=yes"}, wantErr: "invalid spark.kubernetes.driver.service.publishNotReadyAddresses \"yes\""},
	},
	"spark.connect.grpc.binding.port": {
		// Spark 4.1 and later expose Spark Connect's port on the container and the Service
		// (appProtocol grpc since 4.2), whether or not a Connect server runs.
		{check: func(t *testing.T, o *Objects, a *App) {
			if p := driverC(o).Ports[3]; p.Name != ConnectPortName || p.ContainerPort != 15002 || p.Protocol != corev1.ProtocolTCP {
				t.Errorf("container port %+v", p)
			}
			if p := o.Service.Spec.Ports[3]; p.Name != ConnectPortName || p.Port != 15002 || p.TargetPort.IntValue() != 15002 || p.AppProtocol == nil || *p.AppProtocol != "grpc" {
				t.Errorf("Service port %+v", p)
			}
		}},
		{conf: []string{"spark.connect.grpc.binding.port=15010"}, check: func(t *testing.T, o *Objects, a *App) {
			if p := driverC(o).Ports[3]; p.ContainerPort != 15010 || o.Service.Spec.Ports[3].Port != 15010 || a.Properties["spark.connect.grpc.binding.port"] != "15010" {
				t.Errorf("container port %+v, Service port %+v", p, o.Service.Spec.Ports[3])
			}
		}},
		{conf: []string{"spark.connect.grpc.binding.port=7079"}, wantErr: "invalid spark.connect.grpc.binding.port: port 7079 is spark.driver.blockManager.port's, and the driver Service exposes each port once: set another with --conf spark.connect.grpc.binding.port=PORT"},
		{conf: []string{"spark.ui.port=15002"}, wantErr: "invalid spark.connect.grpc.binding.port: port 15002 is spark.ui.port's"},
		{conf: []string{"spark.connect.grpc.binding.port=x"}, wantErr: "invalid spark.connect.grpc.binding.port \"x\""},
	},
	"spark.kubernetes.securityContext.allowPrivilegeEscalation": {
		{conf: []string{"spark.kubernetes.securityContext.allowPrivilegeEscalation=true"}, check: func(t *testing.T, o *Objects, a *App) {
			if sc := driverC(o).SecurityContext; sc == nil || sc.AllowPrivilegeEscalation == nil || !*sc.AllowPrivilegeEscalation {
				t.Errorf("securityContext %+v", sc)
			}
		}},
		// The driver's own key wins over the general one (fallbackConf).
		{conf: []string{"spark.kubernetes.securityContext.allowPrivilegeEscalation=true", "spark.kubernetes.driver.securityContext.allowPrivilegeEscalation=false"}, check: func(t *testing.T, o *Objects, a *App) {
			if sc := driverC(o).SecurityContext; sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("securityContext %+v", sc)
			}
		}},
		{conf: []string{"spark.kubernetes.securityContext.allowPrivilegeEscalation=1x"}, wantErr: "invalid spark.kubernetes.securityContext.allowPrivilegeEscalation \"1x\""},
	},
	"spark.kubernetes.driver.securityContext.allowPrivilegeEscalation": {
		// Spark 4.3's default, false, on every driver.
		{check: func(t *testing.T, o *Objects, a *App) {
			if sc := driverC(o).SecurityContext; sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("securityContext %+v, want allowPrivilegeEscalation false", sc)
			}
		}},
		{conf: []string{"spark.kubernetes.driver.securityContext.allowPrivilegeEscalation=true"}, check: func(t *testing.T, o *Objects, a *App) {
			if sc := driverC(o).SecurityContext; sc == nil || sc.AllowPrivilegeEscalation == nil || !*sc.AllowPrivilegeEscalation {
				t.Errorf("securityContext %+v", sc)
			}
		}},
		// A template container's security context is kept; Spark sets only this field of it.
		{conf: []string{"spark.kubernetes.driver.podTemplateFile=/t.yaml"}, files: map[string]string{"/t.yaml": "spec:\n  containers:\n  - name: spark\n    securityContext:\n      runAsNonRoot: true\n      allowPrivilegeEscalation: true\n"},
			check: func(t *testing.T, o *Objects, a *App) {
				sc := driverC(o).SecurityContext
				if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
					t.Errorf("securityContext %+v, want the template's runAsNonRoot and allowPrivilegeEscalation false", sc)
				}
			}},
	},
	"spark.kubernetes.driver.pod.excludedFeatureSteps": {
		// LocalDirsFeatureStep left out: no SPARK_LOCAL_DIRS, no spark-local-dir-1.
		{conf: []string{"spark.kubernetes.driver.pod.excludedFeatureSteps=org.apache.spark.deploy.k8s.features.LocalDirsFeatureStep", "spark.local.dir=/tmp/a"}, check: func(t *testing.T, o *Objects, a *App) {
			c := driverC(o)
			if e := envOf(c, "SPARK_LOCAL_DIRS"); e != nil {
				t.Errorf("SPARK_LOCAL_DIRS %+v", e)
			}
			if volume(podSpec(o), "spark-local-dir-1") != nil || mountAt(c, "/tmp/a") != nil {
				t.Errorf("volumes %v mounts %v", podSpec(o).Volumes, c.VolumeMounts)
			}
			if a.Properties["spark.local.dir"] != "/tmp/a" {
				t.Errorf("spark.local.dir %q: the driver still reads it", a.Properties["spark.local.dir"])
			}
		}},
		// Several steps, with spaces; secrets, volumes, Hadoop conf and the executor template
		// are then left to the driver's own conf, as Spark leaves them.
		{conf: []string{"spark.kubernetes.driver.pod.excludedFeatureSteps=org.apache.spark.deploy.k8s.features.MountSecretsFeatureStep, org.apache.spark.deploy.k8s.features.EnvSecretsFeatureStep,org.apache.spark.deploy.k8s.features.MountVolumesFeatureStep,org.apache.spark.deploy.k8s.features.HadoopConfDriverFeatureStep,org.apache.spark.deploy.k8s.features.PodTemplateConfigMapStep,org.apache.spark.deploy.k8s.features.NetworkPolicyFeatureStep,org.apache.spark.deploy.k8s.features.KerberosConfDriverFeatureStep",
			"spark.kubernetes.driver.secrets.db=/etc/db", "spark.kubernetes.driver.secretKeyRef.PW=db:pw",
			"spark.kubernetes.driver.volumes.emptyDir.scratch.mount.path=/scratch", "spark.kubernetes.hadoop.configMapName=hadoop",
			"spark.kubernetes.executor.podTemplateFile=/opt/exec.yaml"}, check: func(t *testing.T, o *Objects, a *App) {
			c := driverC(o)
			if volume(podSpec(o), "db-volume") != nil || envOf(c, "PW") != nil || volume(podSpec(o), "scratch") != nil || volume(podSpec(o), HadoopConfVolume) != nil || envOf(c, "HADOOP_CONF_DIR") != nil {
				t.Errorf("volumes %v env %v", podSpec(o).Volumes, c.Env)
			}
			if _, ok := o.ConfigMap.Data[ExecutorTemplateFile]; ok || a.Properties[ExecutorTemplateKey] != "/opt/exec.yaml" || volume(podSpec(o), PodTemplateVolume) != nil {
				t.Errorf("executor template shipped: %q %v", a.Properties[ExecutorTemplateKey], o.ConfigMap.Data)
			}
			if _, ok := a.Properties["spark.kubernetes.executor.hadoopConfigMapName"]; ok {
				t.Errorf("spark.kubernetes.executor.hadoopConfigMapName set by a step left out")
			}
			if volume(podSpec(o), "spark-local-dir-1") == nil {
				t.Errorf("LocalDirsFeatureStep was not excluded, yet no local dir")
			}
			if o.NetworkPolicy != nil || slices.ContainsFunc(o.List(), func(m metav1.Object) bool { return m.GetName() == NetworkPolicyName("clicks") }) {
				t.Errorf("NetworkPolicyFeatureStep left out, yet a NetworkPolicy: %+v", o.NetworkPolicy)
			}
		}},
		{conf: []string{"spark.kubernetes.driver.pod.excludedFeatureSteps=org.apache.spark.deploy.k8s.features.BasicDriverFeatureStep"},
			wantErr: "kubectl sparkha cannot leave out BasicDriverFeatureStep: it builds the driver container"},
		{conf: []string{"spark.kubernetes.driver.pod.excludedFeatureSteps=org.apache.spark.deploy.k8s.features.DriverServiceFeatureStep"},
			wantErr: "kubectl sparkha cannot leave out DriverServiceFeatureStep"},
		{conf: []string{"spark.kubernetes.driver.pod.excludedFeatureSteps=LocalDirsFeatureStep"},
			wantErr: "LocalDirsFeatureStep is not one of Spark's driver feature steps; name steps of org.apache.spark.deploy.k8s.features: NetworkPolicyFeatureStep, MountSecretsFeatureStep,"},
		{conf: []string{"spark.kubernetes.driver.pod.excludedFeatureSteps=com.example.MyStep"},
			wantErr: "com.example.MyStep is not one of Spark's driver feature steps"},
	},
	"spark.kubernetes.executor.label.sparkha.io/app-id": {{conf: []string{"spark.kubernetes.executor.label.sparkha.io/app-id=x"}, wantErr: "spark.kubernetes.executor.label.sparkha.io/app-id in --conf cannot be set: kubectl sparkha labels every generation's executors"}},
	"spark.kubernetes.driver.service.ipFamilyPolicy": {{conf: []string{"spark.kubernetes.driver.service.ipFamilyPolicy=PreferDualStack"}, check: func(t *testing.T, o *Objects, a *App) {
		if p := o.Service.Spec.IPFamilyPolicy; p == nil || *p != corev1.IPFamilyPolicyPreferDualStack {
			t.Errorf("ipFamilyPolicy %v", p)
		}
	}}},
	"spark.kubernetes.driver.service.ipFamilies": {
		{conf: []string{"spark.kubernetes.driver.service.ipFamilies=IPv6,IPv4"}, check: func(t *testing.T, o *Objects, a *App) {
			if f := o.Service.Spec.IPFamilies; !slices.Equal(f, []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol}) {
				t.Errorf("ipFamilies %v", f)
			}
			if v, _ := confArg(driverC(o).Args, "spark.driver.host"); v != "[$(SPARK_DRIVER_POD_IP)]" {
				t.Errorf("spark.driver.host %q: an IPv6 pod IP must be bracketed", v)
			}
		}},
		{conf: []string{"spark.kubernetes.driver.service.ipFamilies=IPv5"}, wantErr: "invalid spark.kubernetes.driver.service.ipFamilies"},
	},
	"spark.pyspark.python": {{in: func(in *Input) { in.AppResource, in.MainClass = "local:///app.py", "" }, conf: []string{"spark.pyspark.python=python3.11"}, check: func(t *testing.T, o *Objects, a *App) {
		c := driverC(o)
		if e := envOf(c, "PYSPARK_PYTHON"); e == nil || e.Value != "python3.11" {
			t.Errorf("PYSPARK_PYTHON %+v", e)
		}
		if e := envOf(c, "PYSPARK_DRIVER_PYTHON"); e == nil || e.Value != "python3.11" {
			t.Errorf("PYSPARK_DRIVER_PYTHON %+v", e)
		}
	}}},
	"spark.pyspark.driver.python": {{in: func(in *Input) { in.AppResource, in.MainClass = "local:///app.py", "" }, conf: []string{"spark.pyspark.python=python3", "spark.pyspark.driver.python=ipython"}, check: func(t *testing.T, o *Objects, a *App) {
		if e := envOf(driverC(o), "PYSPARK_DRIVER_PYTHON"); e == nil || e.Value != "ipython" {
			t.Errorf("PYSPARK_DRIVER_PYTHON %+v", e)
		}
	}}},
	"spark.jars": {
		{conf: []string{"spark.jars=s3a://b/dep.jar,local:///app.jar"}, check: func(t *testing.T, o *Objects, a *App) {
			if got := a.Properties["spark.jars"]; got != "s3a://b/dep.jar,local:///app.jar" {
				t.Errorf("spark.jars %q: the resource once, after the user's", got)
			}
		}},
		{conf: []string{"spark.jars=/home/u/dep.jar"}, wantErr: `spark.jars entry in --conf "/home/u/dep.jar" is a path on this machine`},
		{in: func(in *Input) { in.AppResource = "./app.jar" }, wantErr: `APP_RESOURCE "./app.jar" is a path on this machine`},
		{in: func(in *Input) { in.AppResource = "file:///tmp/app.jar" }, wantErr: `APP_RESOURCE "file:///tmp/app.jar" is a path on this machine`},
	},
	"spark.files": {
		{conf: []string{"spark.files=https://example.com/a.txt,local:///etc/b.txt"}, check: func(t *testing.T, o *Objects, a *App) {
			if a.Properties["spark.files"] != "https://example.com/a.txt,local:///etc/b.txt" {
				t.Errorf("spark.files %q", a.Properties["spark.files"])
			}
		}},
		{conf: []string{"spark.files=data.csv"}, wantErr: `spark.files entry in --conf "data.csv" is a path on this machine`},
	},
	"spark.archives": {
		{conf: []string{"spark.archives=hdfs:///envs/env.tar.gz#env"}, check: func(t *testing.T, o *Objects, a *App) {
			if a.Properties["spark.archives"] != "hdfs:///envs/env.tar.gz#env" {
				t.Errorf("spark.archives %q", a.Properties["spark.archives"])
			}
		}},
		{conf: []string{`spark.archives=C:\envs\env.zip#env`}, wantErr: `spark.archives entry in --conf "C:\\envs\\env.zip#env" is a path on this machine`},
	},
	"spark.submit.pyFiles": {
		{conf: []string{"spark.submit.pyFiles=gs://b/lib.zip"}, check: func(t *testing.T, o *Objects, a *App) {
			if a.Properties["spark.submit.pyFiles"] != "gs://b/lib.zip" {
				t.Errorf("spark.submit.pyFiles %q", a.Properties["spark.submit.pyFiles"])
			}
		}},
		{conf: []string{"spark.submit.pyFiles=lib.zip"}, wantErr: `spark.submit.pyFiles entry in --conf "lib.zip" is a path on this machine`},
	},
	"spark.kubernetes.file.upload.path": {{conf: []string{"spark.kubernetes.file.upload.path=s3a://b/up"}, wantErr: "spark.kubernetes.file.upload.path in --conf is not supported by kubectl sparkha"}},
	"spark.kubernetes.driver.secrets.*": {
		{conf: []string{"spark.kubernetes.driver.secrets.db-creds=/etc/db"}, check: func(t *testing.T, o *Objects, a *App) {
			v := volume(podSpec(o), "db-creds-volume")
			m := mountAt(driverC(o), "/etc/db")
			if v == nil || v.Secret == nil || v.Secret.SecretName != "db-creds" || m == nil || m.Name != "db-creds-volume" {
				t.Errorf("volume %+v, mount %+v", v, m)
			}
		}},
		{conf: []string{"spark.kubernetes.driver.secrets.db=relative"}, wantErr: "invalid spark.kubernetes.driver.secrets.db \"relative\""},
	},
	"spark.kubernetes.driver.secretKeyRef.*": {
		{conf: []string{"spark.kubernetes.driver.secretKeyRef.DB_PASS=db:password"}, check: func(t *testing.T, o *Objects, a *App) {
			e := envOf(driverC(o), "DB_PASS")
			if e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != "db" || e.ValueFrom.SecretKeyRef.Key != "password" {
				t.Errorf("env %+v", e)
			}
		}},
		{conf: []string{"spark.kubernetes.driver.secretKeyRef.DB_PASS=db"}, wantErr: "invalid spark.kubernetes.driver.secretKeyRef.DB_PASS \"db\" in --conf: use SECRET:KEY"},
		{conf: []string{"spark.kubernetes.driver.secretKeyRef.DB_PASS=db:a:b"}, wantErr: "invalid spark.kubernetes.driver.secretKeyRef.DB_PASS \"db:a:b\" in --conf: use SECRET:KEY"},
	},
	"spark.kubernetes.driver.volumes.*": {
		{conf: []string{
			"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.claimName=shared",
			"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.mount.path=/data",
			"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.mount.readOnly=true",
			"spark.kubernetes.driver.volumes.hostPath.logs.options.path=/var/log/spark",
			"spark.kubernetes.driver.volumes.hostPath.logs.mount.path=/logs",
			"spark.kubernetes.driver.volumes.emptyDir.scratch.options.medium=Memory",
			"spark.kubernetes.driver.volumes.emptyDir.scratch.options.sizeLimit=1Gi",
			"spark.kubernetes.driver.volumes.emptyDir.scratch.mount.path=/scratch",
			"spark.kubernetes.driver.volumes.nfs.share.options.server=nfs.example.com",
			"spark.kubernetes.driver.volumes.nfs.share.options.path=/exports",
			"spark.kubernetes.driver.volumes.nfs.share.mount.path=/share",
			"spark.kubernetes.driver.volumes.nfs.share.mount.subPath=app",
		}, check: func(t *testing.T, o *Objects, a *App) {
			s, c := podSpec(o), driverC(o)
			if v := volume(s, "data"); v == nil || v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "shared" || !v.PersistentVolumeClaim.ReadOnly {
				t.Errorf("data %+v", v)
			}
			if m := mountAt(c, "/data"); m == nil || m.Name != "data" || !m.ReadOnly {
				t.Errorf("data mount %+v", m)
			}
			if v := volume(s, "logs"); v == nil || v.HostPath == nil || v.HostPath.Path != "/var/log/spark" {
				t.Errorf("logs %+v", v)
			}
			if v := volume(s, "scratch"); v == nil || v.EmptyDir == nil || v.EmptyDir.Medium != corev1.StorageMediumMemory || v.EmptyDir.SizeLimit.String() != "1Gi" {
				t.Errorf("scratch %+v", v)
			}
			if v := volume(s, "share"); v == nil || v.NFS == nil || v.NFS.Server != "nfs.example.com" || v.NFS.Path != "/exports" {
				t.Errorf("share %+v", v)
			}
			if m := mountAt(c, "/share"); m == nil || m.SubPath != "app" {
				t.Errorf("share mount %+v", m)
			}
		}},
		{conf: []string{"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.claimName=OnDemand", "spark.kubernetes.driver.volumes.persistentVolumeClaim.data.mount.path=/data"}, wantErr: "spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.claimName=OnDemand in --conf is refused"},
		{conf: []string{"spark.kubernetes.driver.volumes.configMap.x.mount.path=/x"}, wantErr: `invalid key spark.kubernetes.driver.volumes.configMap.x.mount.path in --conf: Spark mounts volumes of type hostPath, emptyDir, nfs or persistentVolumeClaim, not "configMap"`},
		{conf: []string{"spark.kubernetes.driver.volumes.emptyDir.x.options.medium=Memory"}, wantErr: "spark.kubernetes.driver.volumes.emptyDir.x.mount.path is required"},
		{conf: []string{"spark.kubernetes.driver.volumes.emptyDir.x.mount.path=/x", "spark.kubernetes.driver.volumes.emptyDir.x.mount.subPath=a",
			"spark.kubernetes.driver.volumes.emptyDir.x.mount.subPathExpr=$(POD)"}, wantErr: "spark.kubernetes.driver.volumes.emptyDir.x.mount.subPath and spark.kubernetes.driver.volumes.emptyDir.x.mount.subPathExpr cannot both be set"},
		{conf: []string{"spark.kubernetes.driver.volumes.persistentVolumeClaim.d.label.team=x"}, wantErr: "spark.kubernetes.driver.volumes.persistentVolumeClaim.d.label.team in --conf is refused"},
		{conf: []string{"spark.kubernetes.driver.volumes.emptyDir.x.mount.path=/opt/spark/conf"}, wantErr: `volumes "spark-conf-volume-driver" and "x" are both mounted at /opt/spark/conf in the driver`},
		{conf: []string{"spark.kubernetes.driver.volumes.emptyDir.checkpoint.mount.path=/x"}, wantErr: `volume "checkpoint" of spark.kubernetes.driver.volumes.* or the driver pod template has the name of a volume kubectl sparkha adds`},
	},
	"spark.local.dir": {
		{conf: []string{"spark.local.dir=/tmp/a,/tmp/b"}, check: func(t *testing.T, o *Objects, a *App) {
			c := driverC(o)
			if e := envOf(c, "SPARK_LOCAL_DIRS"); e == nil || e.Value != "/tmp/a,/tmp/b" {
				t.Errorf("SPARK_LOCAL_DIRS %+v", e)
			}
			if m := mountAt(c, "/tmp/b"); m == nil || m.Name != "spark-local-dir-2" || volume(podSpec(o), "spark-local-dir-2").EmptyDir == nil {
				t.Errorf("mount %+v", m)
			}
		}},
		// A volume of the user's named spark-local-dir-* is the local dir, in place of the
		// emptyDirs (LocalDirsFeatureStep runs after MountVolumesFeatureStep).
		{conf: []string{"spark.local.dir=/tmp/a", "spark.kubernetes.driver.volumes.hostPath.spark-local-dir-1.options.path=/mnt/ssd",
			"spark.kubernetes.driver.volumes.hostPath.spark-local-dir-1.mount.path=/scratch"}, check: func(t *testing.T, o *Objects, a *App) {
			c := driverC(o)
			if e := envOf(c, "SPARK_LOCAL_DIRS"); e == nil || e.Value != "/scratch" {
				t.Errorf("SPARK_LOCAL_DIRS %+v", e)
			}
			v := volume(podSpec(o), "spark-local-dir-1")
			if v == nil || v.HostPath == nil || v.HostPath.Path != "/mnt/ssd" || mountAt(c, "/tmp/a") != nil {
				t.Errorf("local dir volume %+v, mounts %v", v, c.VolumeMounts)
			}
		}},
	},
	"spark.kubernetes.local.dirs.tmpfs": {{conf: []string{"spark.kubernetes.local.dirs.tmpfs=true"}, check: func(t *testing.T, o *Objects, a *App) {
		if v := volume(podSpec(o), "spark-local-dir-1"); v == nil || v.EmptyDir.Medium != corev1.StorageMediumMemory {
			t.Errorf("local dir %+v", v)
		}
	}}},
	"spark.kubernetes.driver.podTemplateFile": {
		{conf: []string{"spark.kubernetes.driver.podTemplateFile=/tmp/driver.yaml", "spark.kubernetes.driver.podTemplateContainerName=spark"}, files: map[string]string{"/tmp/driver.yaml": driverTemplate}, check: checkDriverTemplate},
		{conf: []string{"spark.kubernetes.driver.podTemplateFile=/tmp/missing.yaml"}, wantErr: "invalid spark.kubernetes.driver.podTemplateFile \"/tmp/missing.yaml\" in --conf: cannot read it"},
		{conf: []string{"spark.kubernetes.driver.podTemplateFile=/tmp/d.yaml"}, files: map[string]string{"/tmp/d.yaml": "kind: Pod\nspec:\n  containerz: []\n"}, wantErr: "invalid spark.kubernetes.driver.podTemplateFile \"/tmp/d.yaml\" in --conf: not a Pod"},
		{conf: []string{"spark.kubernetes.driver.podTemplateFile=/tmp/d.yaml"}, files: map[string]string{"/tmp/d.yaml": "kind: Pod\nspec:\n  restartPolicy: Always\n"}, wantErr: "its restartPolicy Always cannot be used"},
	},
	"spark.kubernetes.driver.podTemplateContainerName": {{conf: []string{"spark.kubernetes.driver.podTemplateFile=/tmp/driver.yaml", "spark.kubernetes.driver.podTemplateContainerName=spark"}, files: map[string]string{"/tmp/driver.yaml": driverTemplate}, check: func(t *testing.T, o *Objects, a *App) {
		if c := driverC(o); c.Name != "spark" || len(c.Args) == 0 || c.Args[0] != "driver" {
			t.Errorf("driver container %q args %q", c.Name, c.Args)
		}
	}}},
	"spark.kubernetes.executor.podTemplateFile": {
		{conf: []string{"spark.kubernetes.executor.podTemplateFile=/tmp/exec.yaml"}, files: map[string]string{"/tmp/exec.yaml": executorTemplate}, check: func(t *testing.T, o *Objects, a *App) {
			if got := a.Properties[ExecutorTemplateKey]; got != "/opt/spark/pod-template/pod-spec-template.yml" {
				t.Errorf("%s=%q", ExecutorTemplateKey, got)
			}
			if o.ConfigMap.Data[ExecutorTemplateFile] != executorTemplate {
				t.Errorf("ConfigMap keys %v", slices.Sorted(func(y func(string) bool) {
					for k := range o.ConfigMap.Data {
						y(k)
					}
				}))
			}
			v := volume(podSpec(o), PodTemplateVolume)
			m := mountAt(driverC(o), ExecutorTemplateDir)
			if v == nil || v.ConfigMap == nil || v.ConfigMap.Name != "clicks-spark-conf" || v.ConfigMap.Items[0].Key != ExecutorTemplateFile || m == nil || m.Name != PodTemplateVolume {
				t.Errorf("volume %+v mount %+v", v, m)
			}
		}},
		{conf: []string{"spark.kubernetes.executor.podTemplateFile=local:///opt/exec.yaml"}, wantErr: "invalid spark.kubernetes.executor.podTemplateFile \"local:///opt/exec.yaml\" in --conf: give the path of a file on this machine"},
	},
	"spark.kubernetes.hadoop.configMapName": {{conf: []string{"spark.kubernetes.hadoop.configMapName=hadoop-conf"}, check: func(t *testing.T, o *Objects, a *App) {
		c := driverC(o)
		v := volume(podSpec(o), HadoopConfVolume)
		if v == nil || v.ConfigMap.Name != "hadoop-conf" || mountAt(c, "/opt/hadoop/conf") == nil {
			t.Errorf("volume %+v", v)
		}
		if e := envOf(c, "HADOOP_CONF_DIR"); e == nil || e.Value != "/opt/hadoop/conf" {
			t.Errorf("HADOOP_CONF_DIR %+v", e)
		}
		if got := a.Properties["spark.kubernetes.executor.hadoopConfigMapName"]; got != "hadoop-conf" {
			t.Errorf("spark.kubernetes.executor.hadoopConfigMapName=%q: the executors mount the same ConfigMap", got)
		}
	}}},
	"spark.kubernetes.authenticate.driver.serviceAccountName": {{conf: []string{"spark.kubernetes.authenticate.driver.serviceAccountName=spark"}, check: func(t *testing.T, o *Objects, a *App) {
		if podSpec(o).ServiceAccountName != "spark" {
			t.Errorf("serviceAccountName %q", podSpec(o).ServiceAccountName)
		}
	}}},
	"spark.kubernetes.submission.waitAppCompletion": {
		{conf: []string{"spark.kubernetes.submission.waitAppCompletion=true"}, wantErr: "spark.kubernetes.submission.waitAppCompletion in --conf is not supported by kubectl sparkha: kubectl sparkha returns once the objects exist"},
		// false is what submit does anyway.
		{conf: []string{"spark.kubernetes.submission.waitAppCompletion=false"}, check: func(t *testing.T, o *Objects, a *App) {}},
	},
	BackoffLimitConfKey: {{conf: []string{BackoffLimitConfKey + "=2"}, check: func(t *testing.T, o *Objects, a *App) {
		if *job(o).Spec.BackoffLimit != 2 {
			t.Errorf("backoffLimit %d", *job(o).Spec.BackoffLimit)
		}
	}}},
}

// Refused keys without a case of their own above get one: the error names the key.
func refusedCase(r KeyRule) keyCase {
	key := strings.Replace(r.Key, "*", "x", 1)
	return keyCase{conf: []string{key + "=v"}, wantErr: key + " in --conf is not supported by kubectl sparkha: " + r.Submit}
}

func checkDriverTemplate(t *testing.T, o *Objects, a *App) {
	s, c := podSpec(o), driverC(o)
	meta := o.Job.Spec.Template.ObjectMeta
	// The template's pod settings are kept ...
	if s.PriorityClassName != "streaming" || s.SecurityContext == nil || *s.SecurityContext.RunAsUser != 185 || len(s.InitContainers) != 1 {
		t.Errorf("template pod settings lost: %+v", s)
	}
	if meta.Labels["team"] != "data" || meta.Annotations["prometheus.io/scrape"] != "true" || meta.Labels[sparkapp.LabelSparkRole] != sparkapp.RoleDriver {
		t.Errorf("labels %v annotations %v", meta.Labels, meta.Annotations)
	}
	if s.NodeSelector["pool"] != "general" {
		t.Errorf("nodeSelector %v", s.NodeSelector)
	}
	// ... the named container runs the driver, with Spark's settings over the template's ...
	if c.Name != "spark" || c.Image != "apache/spark:4.0.0" || envOf(c, "FROM_TEMPLATE") == nil || envOf(c, EnvDriverPodName) == nil {
		t.Errorf("driver container %s image %s env %v", c.Name, c.Image, c.Env)
	}
	if q := c.Resources.Requests[corev1.ResourceEphemeralStorage]; q.Cmp(resource.MustParse("1Gi")) != 0 || c.Resources.Requests.Memory().String() != "1408Mi" {
		t.Errorf("resources %v", c.Resources)
	}
	if mountAt(c, "/cache") == nil || mountAt(c, SparkConfDir) == nil || volume(s, "cache") == nil || volume(s, SparkConfVolume) == nil {
		t.Errorf("volumes %v mounts %v", s.Volumes, c.VolumeMounts)
	}
	// ... the other containers stay, and the Job's rules hold.
	if len(s.Containers) != 2 || s.Containers[1].Name != "sidecar" {
		t.Errorf("containers %v", s.Containers)
	}
	if s.RestartPolicy != corev1.RestartPolicyNever || len(s.Tolerations) != 2 {
		t.Errorf("restartPolicy %s tolerations %v", s.RestartPolicy, s.Tolerations)
	}
}

// TestDriverKeys: every key a driver feature step (or spark-submit's client) reads on the
// submitting side is applied to the objects as that step does, or refused before any request
// with an error naming it; Passed keys reach spark.properties unchanged.
func TestDriverKeys(t *testing.T) {
	for _, r := range KeyRules {
		cases, ok := driverKeyCases[r.Key]
		switch {
		case !ok && r.Handling == Refused:
			cases = []keyCase{refusedCase(r)}
		case !ok && r.Handling == Passed:
			key := strings.Replace(r.Key, "*", "x", 1)
			cases = []keyCase{{conf: []string{key + "=v"}, check: func(t *testing.T, o *Objects, a *App) {
				if a.Properties[key] != "v" || !strings.Contains(o.ConfigMap.Data[SparkConfFile], key+"=v\n") {
					t.Errorf("%s not passed to the driver's spark.properties", key)
				}
			}}}
		case !ok:
			t.Errorf("%s (%s) has no case in driverKeyCases", r.Key, r.Handling)
			continue
		}
		for i, tc := range cases {
			t.Run(fmt.Sprintf("%s/%d", r.Key, i), func(t *testing.T) {
				in := Input{Name: "clicks", Namespace: "streaming", AppID: testAppID, Image: "apache/spark:4.0.0",
					MainClass: "com.example.Clicks", AppResource: "local:///app.jar", Conf: tc.conf,
					ReadFile: func(p string) ([]byte, error) {
						if data, ok := tc.files[p]; ok {
							return []byte(data), nil
						}
						return nil, os.ErrNotExist
					}}
				if tc.in != nil {
					tc.in(&in)
				}
				app, err := Resolve(in)
				if tc.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, Build(app, "job-uid"), app)
			})
		}
	}
	for key := range driverKeyCases {
		if _, ok := ruleFor(key); !ok {
			t.Errorf("case for %s, which has no rule", key)
		}
	}
}

// TestSparkConfDoc: docs/spark-conf.md lists every rule, as SparkConfTable renders them.
func TestSparkConfDoc(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "spark-conf.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	begin, end := "<!-- BEGIN KEY RULES (generated by go test ./pkg/submit -update) -->\n", "<!-- END KEY RULES -->"
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q section", path, begin, end)
	}
	want := doc[:i+len(begin)] + SparkConfTable() + doc[j:]
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if doc != want {
		t.Errorf("%s is out of date: run go test ./pkg/submit -update", path)
	}
}
