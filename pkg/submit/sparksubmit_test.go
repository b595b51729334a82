package submit

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/utils/ptr"
)

const master = "k8s://https://api.example.com:6443"

func TestParseSparkSubmit(t *testing.T) {
	head := []string{"--master", master, "--deploy-mode", "cluster"}
	tests := []struct {
		name string
		args []string
		want SparkSubmit
	}{
		{"every option spark-submit maps, in both spellings", append(head,
			"--name", "Clicks Per Minute", "--class", "com.example.Clicks",
			"--conf", "spark.executor.memoryOverhead=1g", "-c", "spark.jars=s3a://b/old.jar",
			"--jars=s3a://b/dep.jar", "--files", "s3a://b/f.txt", "--py-files", "s3a://b/lib.zip",
			"--archives", "s3a://b/env.tgz#env", "--packages", "org.apache.spark:spark-sql-kafka-0-10_2.13:4.0.0",
			"--repositories", "https://repo.example.com/maven", "--exclude-packages", "com.example:unwanted",
			"--driver-class-path", "/opt/extra/*", "--driver-java-options", "-Dx=1 -Dy=2", "--driver-library-path", "/opt/native",
			"--driver-memory", "4g", "--driver-cores", "2", "--executor-memory", "8g", "--executor-cores", "3",
			"--num-executors", "5", "--proxy-user", "etl", "--properties-file", "clicks.conf", "--verbose",
			"local:///opt/app/clicks.jar", "--window", "1m", "-v"),
			SparkSubmit{MasterURL: "https://api.example.com:6443", Name: "Clicks Per Minute", MainClass: "com.example.Clicks",
				PrimaryResource: "local:///opt/app/clicks.jar", AppArgs: []string{"--window", "1m", "-v"}, PropertiesFile: "clicks.conf",
				// The --conf's first, then the options' properties (an option wins over a --conf of its key).
				Conf: []string{"spark.executor.memoryOverhead=1g", "spark.jars=s3a://b/old.jar",
					"spark.archives=s3a://b/env.tgz#env", "spark.driver.extraClassPath=/opt/extra/*",
					"spark.driver.extraJavaOptions=-Dx=1 -Dy=2", "spark.driver.extraLibraryPath=/opt/native",
					"spark.jars.excludes=com.example:unwanted", "spark.files=s3a://b/f.txt", "spark.jars=s3a://b/dep.jar",
					"spark.app.name=Clicks Per Minute", "spark.jars.packages=org.apache.spark:spark-sql-kafka-0-10_2.13:4.0.0", "spark.submit.pyFiles=s3a://b/lib.zip",
					"spark.jars.repositories=https://repo.example.com/maven"},
				DriverMemory: "4g", ExecutorMemory: "8g", DriverCores: ptr.To(2), ExecutorCores: ptr.To(3), NumExecutors: ptr.To(5),
				ProxyUser: "etl", Verbose: true}},
		{"master, mode, namespace and name from --conf; default scheme https", []string{"--conf", "spark.master=k8s://10.0.0.1:443",
			"--conf", "spark.submit.deployMode=cluster", "--conf", "spark.kubernetes.namespace=etl", "--conf", "spark.app.name=nightly",
			"local:///opt/spark/examples/src/main/python/pi.py", "100"},
			SparkSubmit{MasterURL: "https://10.0.0.1:443", Name: "nightly", PrimaryResource: "local:///opt/spark/examples/src/main/python/pi.py",
				AppArgs: []string{"100"}, Namespace: "etl", Conf: []string{"spark.app.name=nightly"}}},
		{"no --name: the main class names the app", append(head, "--class", "org.apache.spark.examples.SparkPi", "local:///x.jar"),
			SparkSubmit{MasterURL: "https://api.example.com:6443", Name: "org.apache.spark.examples.SparkPi", MainClass: "org.apache.spark.examples.SparkPi",
				PrimaryResource: "local:///x.jar"}},
		{"no --name nor --class: the resource's file name", append(head, "local:///opt/app/etl.py"),
			SparkSubmit{MasterURL: "https://api.example.com:6443", Name: "etl.py", PrimaryResource: "local:///opt/app/etl.py"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSparkSubmit(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseSparkSubmitRefuses(t *testing.T) {
	head := []string{"--master", master, "--deploy-mode", "cluster"}
	tests := []struct {
		args []string
		want string
	}{
		{append(head, "--supervise", "x.jar"), "spark-submit option --supervise is not supported: it restarts a failed driver in standalone cluster mode only"},
		{append(head, "--total-executor-cores", "8", "x.jar"), "spark-submit option --total-executor-cores is not supported: it applies to standalone clusters only"},
		{append(head, "--queue=etl", "x.jar"), "spark-submit option --queue is not supported: it applies to YARN only"},
		{append(head, "--keytab", "/etc/k.keytab", "x.jar"), "spark-submit option --keytab is not supported: a Kerberos login"},
		{append(head, "--kill", "ns:app", "x.jar"), "spark-submit option --kill is not supported"},
		{append(head, "-h"), "spark-submit option -h is not supported"},
		{append(head, "--executor-instances", "2", "x.jar"), "unknown spark-submit option --executor-instances"},
		{append(head, "--conf", "spark.foo", "x.jar"), `invalid spark-submit option --conf "spark.foo": want KEY=VALUE`},
		{append(head, "--num-executors", "two", "x.jar"), `invalid spark-submit option --num-executors "two"`},
		{append(head, "--class"), "spark-submit option --class needs a value"},
		{head, "name no primary resource"},
		{append(head, "spark-internal"), "primary resource spark-internal is a shell or an internal resource"},
		{[]string{"--deploy-mode", "cluster", "x.jar"}, "give no --master"},
		{[]string{"--master", "yarn", "--deploy-mode", "cluster", "x.jar"}, `invalid --master "yarn": kubectl sparkha submits to Kubernetes only`},
		{[]string{"--master", "k8s://", "--deploy-mode", "cluster", "x.jar"}, `invalid --master "k8s://"`},
		{[]string{"--master", master, "x.jar"}, "spark-submit runs this line in client mode (--deploy-mode client, the default)"},
		{[]string{"--master", master, "--deploy-mode", "client", "x.jar"}, "spark-submit runs this line in client mode (--deploy-mode client)"},
		{[]string{"--master", master, "--deploy-mode", "local", "x.jar"}, `invalid --deploy-mode "local": want cluster`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := ParseSparkSubmit(tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestJobName(t *testing.T) {
	for in, want := range map[string]string{
		"Clicks Per Minute":                 "clicks-per-minute",
		"org.apache.spark.examples.SparkPi": "org-apache-spark-examples-sparkpi",
		"--etl__nightly--":                  "etl-nightly",
		"2024 report":                       "",
		"日本":                                "",
		strings.Repeat("a", 60):             strings.Repeat("a", MaxNameLength),
	} {
		if got := JobName(in); got != want {
			t.Errorf("JobName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSameAPIServer(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		same bool
	}{
		{"https://api.example.com", "https://API.example.com:443/", true},
		{"https://10.0.0.1:6443", "https://10.0.0.1:6443", true},
		{"https://10.0.0.1:6443", "https://10.0.0.1", false},
		{"http://a", "https://a", false},
		{"https://a:6443", "https://b:6443", false},
	} {
		if got := SameAPIServer(tt.a, tt.b); got != tt.same {
			t.Errorf("SameAPIServer(%q, %q) = %t", tt.a, tt.b, got)
		}
	}
}
