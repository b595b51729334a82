package migrate

import (
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

func loadApp(t *testing.T, file string) *unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(b, &obj.Object); err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestFromSparkApplication(t *testing.T) {
	tests := []struct {
		file      string
		want      submit.Input
		dropped   []string
		fatal     []string
		templates map[string]string
	}{
		{"kubeflow-clicks.yaml", submit.Input{
			Name: "clicks", Namespace: "streaming", NodeLostTimeout: submit.DefaultNodeLostTimeout, Image: "registry.example.com/clicks:1.4", MainClass: "com.example.Clicks",
			AppResource: "local:///opt/app/clicks.jar", AppArgs: []string{"--window", "1m"}, ProxyUser: "etl",
			ServiceAccount: "spark-driver", DriverCores: ptr.To(2), DriverMemory: "4g",
			ExecutorInstances: ptr.To(4), ExecutorCores: ptr.To(3), ExecutorMemory: "8g", BackoffLimit: ptr.To(3),
			CheckpointClaim: "clicks-checkpoint", CheckpointMount: "/checkpoint", CheckpointMountSet: true,
			Conf: []string{
				"spark.driver.memoryOverhead=1g",
				"spark.executor.extraJavaOptions=-XX:+UseG1GC",
				"spark.hadoop.fs.s3a.endpoint=https://s3.example.com",
				"spark.jars=s3a://b/dep.jar,s3a://b/dep2.jar",
				"spark.jars.packages=org.apache.spark:spark-sql-kafka-0-10_2.12:3.5.3",
				"spark.kubernetes.container.image.pullPolicy=IfNotPresent",
				"spark.kubernetes.container.image.pullSecrets=regcred",
				"spark.kubernetes.driver.label.team=web",
				"spark.kubernetes.driver.limit.cores=2000m",
				"spark.kubernetes.driver.podTemplateFile=" + DriverTemplatePath,
				"spark.kubernetes.driver.secrets.gcp-key=/etc/gcp",
				"spark.kubernetes.driver.secrets.kafka-creds=/etc/kafka",
				"spark.kubernetes.driver.volumes.emptyDir.scratch.mount.path=/scratch",
				"spark.kubernetes.driver.volumes.emptyDir.scratch.options.sizeLimit=1Gi",
				"spark.kubernetes.driverEnv.GOOGLE_APPLICATION_CREDENTIALS=/etc/gcp/key.json",
				"spark.kubernetes.driverEnv.TZ=UTC",
				"spark.kubernetes.executor.node.selector.pool=spark",
				"spark.sql.streaming.checkpointLocation=/checkpoint/clicks",
			}},
			[]string{"spec.restartPolicy.onFailureRetryInterval", "spec.sparkConfigMap"}, []string{"spec.sparkConfigMap"},
			// What the webhook adds to the driver pod: the env var from a field, the ConfigMap
			// volume, the toleration.
			map[string]string{DriverTemplatePath: `apiVersion: v1
kind: Pod
metadata: {}
spec:
  containers:
  - env:
    - name: POD_IP
      valueFrom:
        fieldRef:
          fieldPath: status.podIP
    name: spark-kubernetes-driver
    resources: {}
    volumeMounts:
    - mountPath: /etc/ssl/extra
      name: certs
  tolerations:
  - effect: NoSchedule
    key: dedicated
    operator: Equal
    value: spark
  volumes:
  - configMap:
      name: ca-bundle
    name: certs
status: {}
`}},
		{"apache-pi.yaml", submit.Input{
			Name: "spark-pi", Namespace: "batch", NodeLostTimeout: submit.DefaultNodeLostTimeout, Image: "apache/spark:4.0.0", MainClass: "org.apache.spark.examples.SparkPi",
			AppResource: "local:///opt/spark/examples/jars/spark-examples.jar", AppArgs: []string{"1000"}, BackoffLimit: ptr.To(2),
			// buildDriverConf's defaults, and the pod template the operator starts from.
			Conf: []string{"spark.authenticate=true", "spark.executor.instances=2", "spark.io.encryption.enabled=true",
				"spark.kubernetes.authenticate.driver.serviceAccountName=spark", "spark.kubernetes.driver.annotateExitException=true",
				"spark.kubernetes.driver.podTemplateFile=" + DriverTemplatePath}},
			nil, nil,
			map[string]string{DriverTemplatePath: "apiVersion: v1\nkind: Pod\nmetadata: {}\nspec:\n  containers: null\n  priorityClassName: high\nstatus: {}\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, dropped, err := FromSparkApplication(loadApp(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			for path, want := range tt.templates {
				b, err := got.ReadFile(path)
				if err != nil || string(b) != want {
					t.Errorf("template %s: %v\n%s\nwant\n%s", path, err, b, want)
				}
			}
			if _, err := got.ReadFile("/etc/passwd"); err == nil {
				t.Errorf("the template reader reads files of this machine")
			}
			resolvable := got
			got.ReadFile = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("input\ngot  %+v\nwant %+v", got, tt.want)
			}
			var fields, fatal []string
			for _, d := range dropped {
				fields = append(fields, d.Field)
				if d.Fatal {
					fatal = append(fatal, d.Field)
				}
				if d.Why == "" {
					t.Errorf("%s dropped without a reason", d.Field)
				}
			}
			if !reflect.DeepEqual(fields, tt.dropped) || !reflect.DeepEqual(fatal, tt.fatal) {
				t.Errorf("dropped %q (fatal %q), want %q (fatal %q)", fields, fatal, tt.dropped, tt.fatal)
			}
			// What migrate carries over is a valid submit request.
			resolvable.AppID = "spark-0123456789abcdef0123456789abcdef"
			if _, err := submit.Resolve(resolvable); err != nil {
				t.Errorf("the converted request does not resolve: %v", err)
			}
		})
	}
}

func TestFromSparkApplicationRefuses(t *testing.T) {
	client := loadApp(t, "kubeflow-clicks.yaml")
	client.Object["spec"].(map[string]any)["mode"] = "client"
	notOurs := loadApp(t, "apache-pi.yaml")
	notOurs.SetAPIVersion("example.com/v1")
	badName := loadApp(t, "apache-pi.yaml")
	badName.SetName("2024-report")
	for _, tt := range []struct {
		obj  *unstructured.Unstructured
		want string
	}{
		{client, "spec.mode client: kubectl sparkha runs the driver in the cluster"},
		{notOurs, "example.com/v1 SparkApplication is not a SparkApplication of sparkoperator.k8s.io or spark.apache.org"},
		{badName, `cannot make a Job name of the SparkApplication name "2024-report"`},
	} {
		if _, _, err := FromSparkApplication(tt.obj); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want %q", err, tt.want)
		}
	}
}

// kubeflowSpec is a minimal v1beta2 SparkApplication with spec fields added.
func kubeflowSpec(fields map[string]any) *unstructured.Unstructured {
	spec := map[string]any{"type": "Scala", "mode": "cluster", "image": "spark:4.0.0", "mainClass": "org.example.App",
		"mainApplicationFile": "local:///opt/app.jar"}
	for k, v := range fields {
		spec[k] = v
	}
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
		"metadata": map[string]any{"name": "app", "namespace": "ns"}, "spec": spec}}
}

// apacheSpec is a minimal spark.apache.org/v1 SparkApplication with spec fields added.
func apacheSpec(fields map[string]any) *unstructured.Unstructured {
	spec := map[string]any{"mainClass": "org.example.App", "jars": "local:///opt/app.jar",
		"runtimeVersions": map[string]any{"sparkVersion": "4.2.0"},
		"sparkConf":       map[string]any{"spark.kubernetes.container.image": "apache/spark:{{SPARK_VERSION}}-scala"}}
	for k, v := range fields {
		spec[k] = v
	}
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "spark.apache.org/v1", "kind": "SparkApplication",
		"metadata": map[string]any{"name": "app", "namespace": "ns"}, "spec": spec}}
}

// Each operator's defaults and restart semantics, as its code has them (cited in
// sparkapplication.go): what the Job does is what the operator did, or it is reported.
func TestOperatorSemantics(t *testing.T) {
	for _, tt := range []struct {
		name         string
		app          *unstructured.Unstructured
		image        string
		instances    *int
		backoff      int
		conf, noConf []string
		dropped      []string // field (fatal marked "!")
	}{
		{name: "kubeflow: one executor unless set", app: kubeflowSpec(nil), instances: ptr.To(1), noConf: []string{"spark.dynamicAllocation.shuffleTracking.enabled"}},
		{name: "kubeflow: dynamic allocation tracks shuffles unless told not to",
			app:    kubeflowSpec(map[string]any{"dynamicAllocation": map[string]any{"enabled": true, "maxExecutors": int64(5)}}),
			conf:   []string{"spark.dynamicAllocation.enabled=true", "spark.dynamicAllocation.maxExecutors=5", "spark.dynamicAllocation.shuffleTracking.enabled=true"},
			noConf: []string{"spark.executor.instances"}},
		{name: "kubeflow: shuffle tracking off as set",
			app:  kubeflowSpec(map[string]any{"dynamicAllocation": map[string]any{"enabled": true, "shuffleTrackingEnabled": false}}),
			conf: []string{"spark.dynamicAllocation.shuffleTracking.enabled=false"}},
		{name: "kubeflow: instances in sparkConf are the app's", app: kubeflowSpec(map[string]any{"sparkConf": map[string]any{"spark.executor.instances": "4"}}),
			conf: []string{"spark.executor.instances=4"}},
		{name: "kubeflow: OnFailure retries onFailureRetries times",
			app:     kubeflowSpec(map[string]any{"restartPolicy": map[string]any{"type": "OnFailure", "onFailureRetries": int64(2)}}),
			backoff: 2, instances: ptr.To(1), dropped: []string{"spec.restartPolicy.onFailureRetryInterval"}},
		{name: "kubeflow: monitoring and a batch scheduler are not carried",
			app: kubeflowSpec(map[string]any{"monitoring": map[string]any{"exposeDriverMetrics": true}, "batchScheduler": "volcano",
				"batchSchedulerOptions": map[string]any{"queue": "q"}}),
			instances: ptr.To(1), dropped: []string{"!spec.batchScheduler", "!spec.batchSchedulerOptions", "!spec.monitoring"}},
		{name: "kubeflow: a field it does not know is refused", app: kubeflowSpec(map[string]any{"driver": map[string]any{"cores": int64(1), "speed": "fast"}}),
			instances: ptr.To(1), dropped: []string{"!spec.driver.speed"}},
		{name: "kubeflow: a template file of the operator's pod is refused",
			app:       kubeflowSpec(map[string]any{"sparkConf": map[string]any{"spark.kubernetes.driver.podTemplateFile": "/etc/t.yaml"}}),
			instances: ptr.To(1), noConf: []string{"spark.kubernetes.driver.podTemplateFile"},
			dropped: []string{"!spec.sparkConf[spark.kubernetes.driver.podTemplateFile]"}},
		{name: "kubeflow: memoryLimit is not carried", app: kubeflowSpec(map[string]any{"driver": map[string]any{"memoryLimit": "4g"}}),
			instances: ptr.To(1), dropped: []string{"!spec.driver.memoryLimit"}},
		{name: "kubeflow: secret types set their variable",
			app:       kubeflowSpec(map[string]any{"executor": map[string]any{"secrets": []any{map[string]any{"name": "tok", "path": "/etc/tok", "secretType": "HadoopDelegationToken"}}}}),
			instances: ptr.To(1), conf: []string{"spark.executorEnv.HADOOP_TOKEN_FILE_LOCATION=/etc/tok/hadoop.token", "spark.kubernetes.executor.secrets.tok=/etc/tok"}},
		{name: "apache: {{SPARK_VERSION}} from runtimeVersions, the operator's conf defaults", app: apacheSpec(nil), image: "apache/spark:4.2.0-scala",
			conf: []string{"spark.authenticate=true", "spark.io.encryption.enabled=true", "spark.kubernetes.driver.annotateExitException=true",
				"spark.kubernetes.executor.deleteOnTermination=false"}},
		{name: "apache: OnFailure retries 3 times unless set",
			app:   apacheSpec(map[string]any{"applicationTolerations": map[string]any{"restartConfig": map[string]any{"restartPolicy": "OnFailure"}}}),
			image: "apache/spark:4.2.0-scala", backoff: 3, noConf: []string{"spark.kubernetes.executor.deleteOnTermination"}},
		{name: "apache: maxRestartOnFailure is the limit of failures",
			app: apacheSpec(map[string]any{"applicationTolerations": map[string]any{"restartConfig": map[string]any{"restartPolicy": "OnFailure",
				"maxRestartAttempts": int64(9), "maxRestartOnFailure": int64(1), "restartBackoffMillis": int64(1000)}}}),
			image: "apache/spark:4.2.0-scala", backoff: 1, dropped: []string{"spec.applicationTolerations.restartConfig.restartBackoffMillis"}},
		{name: "apache: OnInfrastructureFailure retries no failure of the app",
			app:   apacheSpec(map[string]any{"applicationTolerations": map[string]any{"restartConfig": map[string]any{"restartPolicy": "OnInfrastructureFailure"}, "ttlAfterStopMillis": int64(10)}}),
			image: "apache/spark:4.2.0-scala", dropped: []string{"spec.applicationTolerations.restartConfig.restartPolicy", "spec.applicationTolerations.ttlAfterStopMillis"}},
		{name: "apache: dynamic allocation keeps its executors' cleanup", app: apacheSpec(map[string]any{"sparkConf": map[string]any{
			"spark.kubernetes.container.image": "img:1", "spark.dynamicAllocation.enabled": "true"}}),
			image: "img:1", noConf: []string{"spark.kubernetes.executor.deleteOnTermination"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in, dropped, err := FromSparkApplication(tt.app)
			if err != nil {
				t.Fatal(err)
			}
			if tt.image != "" && in.Image != tt.image {
				t.Errorf("image %q, want %q", in.Image, tt.image)
			}
			if !reflect.DeepEqual(in.ExecutorInstances, tt.instances) {
				t.Errorf("executor instances %v, want %v", intString(in.ExecutorInstances), intString(tt.instances))
			}
			if in.BackoffLimit == nil || *in.BackoffLimit != tt.backoff {
				t.Errorf("backoff limit %v, want %d", intString(in.BackoffLimit), tt.backoff)
			}
			conf := strings.Join(in.Conf, "\n") + "\n"
			for _, c := range tt.conf {
				if !strings.Contains(conf, c+"\n") {
					t.Errorf("conf lacks %s:\n%s", c, conf)
				}
			}
			for _, k := range tt.noConf {
				if strings.Contains(conf, k+"=") {
					t.Errorf("conf has %s:\n%s", k, conf)
				}
			}
			var got []string
			for _, d := range dropped {
				f := d.Field
				if d.Fatal {
					f = "!" + f
				}
				got = append(got, f)
			}
			if strings.Join(got, ",") != strings.Join(tt.dropped, ",") {
				t.Errorf("dropped %q, want %q", got, tt.dropped)
			}
		})
	}
}

func intString(p *int) string {
	if p == nil {
		return "nil"
	}
	return strconv.Itoa(*p)
}

func TestFromSparkApplicationRefusesWhatItCannotRun(t *testing.T) {
	v1beta1 := kubeflowSpec(nil)
	v1beta1.SetAPIVersion("sparkoperator.k8s.io/v1beta1")
	noVersion := apacheSpec(map[string]any{"runtimeVersions": map[string]any{}})
	for _, tt := range []struct {
		obj  *unstructured.Unstructured
		want string
	}{
		{v1beta1, "SparkApplication ns/app is sparkoperator.k8s.io/v1beta1: kubectl sparkha reads the Kubeflow Spark Operator's v1beta2 only"},
		{apacheSpec(map[string]any{"mainClass": "org.apache.spark.sql.connect.service.SparkConnectServer"}), "this SparkApplication runs a Spark Connect server, not a Spark application"},
		{apacheSpec(map[string]any{"mainClass": "org.apache.spark.deploy.history.HistoryServer"}), "runs the Spark History Server"},
		{apacheSpec(map[string]any{"mainClass": "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"}), "runs the Spark Thrift Server"},
		{noVersion, "spec.sparkConf[spark.kubernetes.container.image] apache/spark:{{SPARK_VERSION}}-scala: {{SPARK_VERSION}} needs spec.runtimeVersions.sparkVersion"},
	} {
		if _, _, err := FromSparkApplication(tt.obj); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want %q", err, tt.want)
		}
	}
}
