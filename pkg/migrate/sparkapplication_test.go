package migrate

import (
	"os"
	"reflect"
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
