package migrate

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sharedfixture "github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

// fixture reads what the sandbox's spark-submit stand-in creates for a line (written by
// test/sandbox/sparksubmit's TestBuild).
func fixture(t *testing.T, name string) (*corev1.Pod, *corev1.ConfigMap) {
	t.Helper()
	return sharedfixture.SparkSubmitDriver(t, name)
}

// admitted adds what the API server's admission gives every pod.
func admitted(p *corev1.Pod) {
	p.Spec.Tolerations = append(p.Spec.Tolerations,
		corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(int64)},
		corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(int64)})
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "kube-api-access-x7k2p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}})
	p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "kube-api-access-x7k2p", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"})
	if p.Spec.ServiceAccountName == "" {
		p.Spec.ServiceAccountName = "default"
	}
	p.Spec.NodeName = "node-a"
	p.Spec.SecurityContext = &corev1.PodSecurityContext{}
}

func TestFromDriverPod(t *testing.T) {
	etlConf := []string{
		"spark.app.name=Nightly ETL",
		"spark.driver.cores=2",
		"spark.driver.memory=2g",
		"spark.executor.instances=1",
		"spark.jars=local:///opt/app/etl.jar",
		"spark.jars.packages=org.postgresql:postgresql:42.7.4",
		"spark.kubernetes.authenticate.driver.serviceAccountName=spark",
		"spark.kubernetes.container.image=spark:3.5.3",
		"spark.kubernetes.driver.label.team=data",
		// spark-submit 3.5 leaves allowPrivilegeEscalation unset; a sparkha driver keeps it so.
		"spark.kubernetes.driver.securityContext.allowPrivilegeEscalation=true",
		"spark.kubernetes.memoryOverheadFactor=0.1",
		"spark.kubernetes.node.selector.pool=spark",
	}
	// SPARK_USER is carried: the sparkha driver gets the user who ran spark-submit.
	etlDropped := []Dropped{
		{Field: "spark.properties spark.kubernetes.submission.waitAppCompletion", Why: "read by spark-submit on the submitting machine only; kubectl sparkha does not need it"},
	}
	cases := []struct {
		name, fixture string
		change        func(*corev1.Pod)
		want          submit.Input
		dropped       []Dropped
		template      string
	}{
		{name: "spark 3.5 with a claim", fixture: "spark-3.5", want: submit.Input{ArgsAsSparkSubmit: true,
			Name: "nightly-etl", Namespace: "etl", MainClass: "org.example.Etl", AppResource: "local:///opt/app/etl.jar", AppArgs: []string{"2026-11-29"},
			SparkUser: "alice", Conf: etlConf, CheckpointClaim: "etl-state", CheckpointMount: "/state", CheckpointMountSet: true, NodeLostTimeout: submit.DefaultNodeLostTimeout,
		}, dropped: etlDropped},
		{name: "as admitted by the API server", fixture: "spark-3.5", change: admitted, want: submit.Input{ArgsAsSparkSubmit: true,
			Name: "nightly-etl", Namespace: "etl", MainClass: "org.example.Etl", AppResource: "local:///opt/app/etl.jar", AppArgs: []string{"2026-11-29"},
			SparkUser: "alice", Conf: etlConf, CheckpointClaim: "etl-state", CheckpointMount: "/state", CheckpointMountSet: true, NodeLostTimeout: submit.DefaultNodeLostTimeout,
		}, dropped: etlDropped},
		{name: "spark 4.0 with a proxy user", fixture: "spark-4.0", want: submit.Input{ArgsAsSparkSubmit: true,
			Name: "clicks", Namespace: "streaming", MainClass: "com.example.Clicks", AppResource: "local:///opt/app/clicks.jar", AppArgs: []string{"--topic", "clicks"},
			ProxyUser: "etl", SparkUser: "alice", CheckpointMount: submit.DefaultCheckpointMount, NodeLostTimeout: submit.DefaultNodeLostTimeout,
			Conf: []string{"spark.app.name=clicks", "spark.jars=local:///opt/app/clicks.jar", "spark.kubernetes.container.image=spark:4.0.0",
				"spark.kubernetes.driver.securityContext.allowPrivilegeEscalation=true", "spark.kubernetes.driverEnv.TOPIC=clicks", "spark.kubernetes.memoryOverheadFactor=0.1", "spark.sql.shuffle.partitions=8"},
		}, dropped: []Dropped{{Field: "env SPARK_USER", Why: "spark-submit set alice; the sparkha driver gets etl, its --proxy-user (as Spark 4.3 sets it)"}}},
		{name: "what a pod template gave", fixture: "spark-4.0", change: func(p *corev1.Pod) {
			admitted(p)
			p.Labels["tier"] = "gold"
			p.Spec.HostNetwork = true
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "example.com/spot", Operator: corev1.TolerationOpExists})
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "proxy", Image: "envoy"})
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data"}}})
			p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, corev1.EnvVar{Name: "REGION", Value: "eu"})
		}, want: submit.Input{ArgsAsSparkSubmit: true,
			Name: "clicks", Namespace: "streaming", MainClass: "com.example.Clicks", AppResource: "local:///opt/app/clicks.jar", AppArgs: []string{"--topic", "clicks"},
			ProxyUser: "etl", SparkUser: "alice", CheckpointMount: submit.DefaultCheckpointMount, NodeLostTimeout: submit.DefaultNodeLostTimeout,
			Conf: []string{"spark.app.name=clicks", "spark.jars=local:///opt/app/clicks.jar", "spark.kubernetes.container.image=spark:4.0.0",
				"spark.kubernetes.driver.podTemplateFile=" + DriverTemplatePath,
				"spark.kubernetes.driver.securityContext.allowPrivilegeEscalation=true", "spark.kubernetes.driverEnv.TOPIC=clicks", "spark.kubernetes.memoryOverheadFactor=0.1", "spark.sql.shuffle.partitions=8"},
		}, dropped: []Dropped{
			{Field: "env SPARK_USER", Why: "spark-submit set alice; the sparkha driver gets etl, its --proxy-user (as Spark 4.3 sets it)"},
		},
			// What the pod had beyond Spark's fields, and nothing Spark or admission gave it.
			template: `apiVersion: v1
kind: Pod
metadata:
  labels:
    tier: gold
spec:
  containers:
  - env:
    - name: REGION
      value: eu
    name: spark-kubernetes-driver
    resources: {}
  - image: envoy
    name: proxy
    resources: {}
  hostNetwork: true
  tolerations:
  - key: example.com/spot
    operator: Exists
  volumes:
  - hostPath:
      path: /data
    name: data
status: {}
`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pod, cm := fixture(t, c.fixture)
			if c.change != nil {
				c.change(pod)
			}
			in, dropped, err := FromDriverPod(pod, cm, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.template != "" {
				b, err := in.ReadFile(DriverTemplatePath)
				if string(b) != c.template {
					t.Errorf("driver template (%v):\n%s\nwant\n%s", err, b, c.template)
				}
			}
			in.ReadFile = nil
			if !reflect.DeepEqual(in, c.want) {
				t.Errorf("input:\n got %+v\nwant %+v", in, c.want)
			}
			if !reflect.DeepEqual(dropped, c.dropped) {
				t.Errorf("dropped:\n got %q\nwant %q", dropped, c.dropped)
			}
		})
	}
}

// TestSameAppAsSparkSubmitLine: the request migrated from the driver of a line resolves to
// the app submit --spark-submit makes of that line (the checkpoint aside).
func TestSameAppAsSparkSubmitLine(t *testing.T) {
	pod, cm := fixture(t, "spark-4.0")
	in, _, err := FromDriverPod(pod, cm, nil)
	if err != nil {
		t.Fatal(err)
	}
	in.AppID = "spark-0123456789abcdef0123456789abcdef"
	got, err := submit.Resolve(in)
	if err != nil {
		t.Fatal(err)
	}
	s, err := submit.ParseSparkSubmit([]string{"--master", "k8s://https://10.0.0.1:6443", "--deploy-mode", "cluster", "--name", "clicks",
		"--conf", "spark.kubernetes.container.image=spark:4.0.0", "--conf", "spark.kubernetes.namespace=streaming",
		"--conf", "spark.kubernetes.driverEnv.TOPIC=clicks", "--conf", "spark.sql.shuffle.partitions=8",
		// The line's spark-submit (4.0) left allowPrivilegeEscalation unset; migrate keeps that.
		"--conf", "spark.kubernetes.driver.securityContext.allowPrivilegeEscalation=true",
		"--proxy-user", "etl", "--class", "com.example.Clicks", "local:///opt/app/clicks.jar", "--topic", "clicks"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := submit.Resolve(submit.Input{Name: submit.JobName(s.Name), Namespace: s.Namespace, MainClass: s.MainClass, AppResource: s.PrimaryResource,
		AppArgs: s.AppArgs, Conf: s.Conf, ProxyUser: s.ProxyUser, CheckpointMount: submit.DefaultCheckpointMount,
		NodeLostTimeout: submit.DefaultNodeLostTimeout, AppID: in.AppID, ArgsAsSparkSubmit: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(submit.Build(got, ""), "", " ")
		w, _ := json.MarshalIndent(submit.Build(want, ""), "", " ")
		t.Errorf("migrated app differs from the spark-submit line's:\n%s\nwant\n%s", g, w)
	}
}

func TestFromDriverPodRefuses(t *testing.T) {
	cases := []struct {
		name   string
		change func(*corev1.Pod, **corev1.ConfigMap)
		want   string
	}{
		{"not a driver", func(p *corev1.Pod, _ **corev1.ConfigMap) { p.Labels["spark-role"] = "executor" },
			"pod/clicks-ab127fa226bf4900-driver is not a Spark driver: it has no label spark-role=driver"},
		{"a Job's driver", func(p *corev1.Pod, _ **corev1.ConfigMap) {
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "clicks"}}
		}, "is a driver of job.batch/clicks: a Job already starts a new driver after a node loss; there is nothing to migrate"},
		{"an operator's driver", func(p *corev1.Pod, _ **corev1.ConfigMap) { p.Labels["sparkoperator.k8s.io/app-name"] = "clicks" },
			"is a driver of the SparkApplication clicks: migrate the application, not its pod (kubectl sparkha migrate sparkapplication/clicks)"},
		{"the ConfigMap is gone", func(_ *corev1.Pod, cm **corev1.ConfigMap) { *cm = nil },
			"its ConfigMap spark-drv-03ab12a226bf4900-conf-map is gone, and with it the application's spark.properties"},
		{"a Kerberos key", func(_ *corev1.Pod, cm **corev1.ConfigMap) {
			(*cm).Data["spark.properties"] += "spark.kerberos.principal=etl@EXAMPLE.COM\n"
		}, ""},
		{"another entrypoint", func(p *corev1.Pod, _ **corev1.ConfigMap) { p.Spec.Containers[0].Args = []string{"executor"} },
			"has no container running Spark's driver entrypoint"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pod, cm := fixture(t, "spark-4.0")
			c.change(pod, &cm)
			_, dropped, err := FromDriverPod(pod, cm, nil)
			if c.want == "" {
				// Not an error: a fatal drop, which migrate --apply refuses.
				if err != nil || len(Fatal(dropped)) != 1 || Fatal(dropped)[0].Field != "spark.properties spark.kerberos.principal" {
					t.Fatalf("err %v, dropped %v", err, dropped)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

func TestUseCheckpoint(t *testing.T) {
	pod, cm := fixture(t, "spark-4.0")
	cm.Data["spark.properties"] += "spark.kubernetes.driver.volumes.persistentVolumeClaim.a.options.claimName=ckpt\n" +
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.a.mount.path=/ckpt\n" +
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.b.options.claimName=lookup\n" +
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.b.mount.path=/lookup\n"
	for _, name := range []string{"a", "b"} {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: name})
	}
	in, dropped, err := FromDriverPod(pod, cm, nil)
	if err != nil {
		t.Fatal(err)
	}
	if in.CheckpointClaim != "" || len(dropped) != 2 || dropped[0].Field != "checkpoint claim" ||
		dropped[0].Why != "the driver mounts several claims (ckpt, lookup): all stay driver volumes, none is the checkpoint; name it with --checkpoint-claim" {
		t.Fatalf("two claims: checkpoint %q, dropped %v", in.CheckpointClaim, dropped)
	}
	if err := UseCheckpoint(&in, "other"); err == nil || err.Error() != "--checkpoint-claim other: the driver mounts no such claim (it mounts ckpt, lookup)" {
		t.Fatalf("another claim: %v", err)
	}
	if err := UseCheckpoint(&in, "ckpt"); err != nil {
		t.Fatal(err)
	}
	if in.CheckpointClaim != "ckpt" || in.CheckpointMount != "/ckpt" || strings.Contains(strings.Join(in.Conf, " "), "persistentVolumeClaim.a.") ||
		!strings.Contains(strings.Join(in.Conf, " "), "persistentVolumeClaim.b.options.claimName=lookup") {
		t.Fatalf("checkpoint %s at %s, conf %v", in.CheckpointClaim, in.CheckpointMount, in.Conf)
	}
}

// The executor pod template spark-submit shipped in its ConfigMap is carried when that ConfigMap
// is read, and refused, naming the volume, when it is gone.
func TestFromDriverPodExecutorTemplate(t *testing.T) {
	pod, cm := fixture(t, "spark-4.0")
	cm.Data["spark.properties"] += submit.ExecutorTemplateKey + "=/opt/spark/pod-template/pod-spec-template.yml\n"
	// As Spark's PodTemplateConfigMapStep ships it: under podspec-configmap-key, projected to
	// the file pod-spec-template.yml (seen on real spark-submit 4.3 by the e2e test
	// TestMigrateSparkSubmitPodTemplates).
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "pod-template-volume", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "clicks-driver-podspec-conf-map"},
		Items:                []corev1.KeyToPath{{Key: "podspec-configmap-key", Path: submit.ExecutorTemplateFile}}}}})
	tmpl := &corev1.ConfigMap{Data: map[string]string{"podspec-configmap-key": "apiVersion: v1\nkind: Pod\nspec:\n  priorityClassName: batch\n"}}
	in, dropped, err := FromDriverPod(pod, cm, tmpl)
	if err != nil || len(Fatal(dropped)) != 0 {
		t.Fatalf("%v %v", err, dropped)
	}
	if !slices.Contains(in.Conf, submit.ExecutorTemplateKey+"="+ExecutorTemplatePath) {
		t.Errorf("conf %v", in.Conf)
	}
	if b, err := in.ReadFile(ExecutorTemplatePath); err != nil || string(b) != tmpl.Data["podspec-configmap-key"] {
		t.Errorf("template %q %v", b, err)
	}
	in.AppID = placeholderAppID
	app, err := submit.Resolve(in)
	if err != nil || app.ExecutorPodTemplate != tmpl.Data["podspec-configmap-key"] {
		t.Errorf("resolved: %v, executor template %q", err, app.ExecutorPodTemplate)
	}
	_, dropped, err = FromDriverPod(pod, cm, nil)
	if f := Fatal(dropped); err != nil || len(f) != 1 || f[0].Field != "spark.properties "+submit.ExecutorTemplateKey || !strings.Contains(f[0].Why, "(volume pod-template-volume), which is gone") {
		t.Errorf("without its ConfigMap: %v %v", err, dropped)
	}
}
