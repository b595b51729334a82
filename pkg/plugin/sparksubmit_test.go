package plugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A spark-submit line and the native submit flags it amounts to build the same objects.
func TestSparkSubmitLineEqualsNativeFlags(t *testing.T) {
	const master = "k8s://https://api.example.com:6443"
	tests := []struct {
		name         string
		line, native []string
	}{
		{"streaming JVM app with a checkpoint, dependencies and sizes",
			[]string{"submit", "--spark-submit", "--checkpoint-size", "10Gi", "--dry-run=client", "-o", "yaml", "--",
				"--master", master, "--deploy-mode", "cluster", "--name", "clicks", "--class", "com.example.Clicks",
				"--conf", "spark.kubernetes.container.image=apache/spark:4.0.0", "--conf", "spark.kubernetes.namespace=streaming",
				"--jars", "s3a://b/dep.jar", "--driver-memory", "4g", "--driver-cores", "2", "--executor-memory", "8g",
				"--executor-cores", "3", "--num-executors", "3", "--proxy-user", "etl",
				"local:///opt/app/clicks.jar", "--window", "1m"},
			[]string{"submit", "clicks", "-n", "streaming", "--image", "apache/spark:4.0.0", "--class", "com.example.Clicks",
				"--conf", "spark.app.name=clicks", "--conf", "spark.jars=s3a://b/dep.jar", "--driver-memory", "4g", "--driver-cores", "2",
				"--executor-memory", "8g", "--executor-cores", "3", "--executor-instances", "3", "--proxy-user", "etl",
				"--checkpoint-size", "10Gi", "local:///opt/app/clicks.jar", "--dry-run=client", "-o", "yaml", "--", "--window", "1m"}},
		{"Python app named with spaces, packages, -n given once",
			[]string{"submit", "-n", "etl", "--spark-submit", "--dry-run=client", "-o", "json", "--",
				"--master=" + master, "--deploy-mode=cluster", "--name", "Nightly ETL", "--packages", "org.postgresql:postgresql:42.7.4",
				"--py-files", "s3a://b/lib.zip", "-c", "spark.kubernetes.container.image=apache/spark-py:3.5.3",
				"local:///opt/app/etl.py", "2026-11-29"},
			[]string{"submit", "nightly-etl", "-n", "etl", "--image", "apache/spark-py:3.5.3", "--conf", "spark.app.name=Nightly ETL",
				"--conf", "spark.jars.packages=org.postgresql:postgresql:42.7.4", "--conf", "spark.submit.pyFiles=s3a://b/lib.zip",
				"local:///opt/app/etl.py", "--dry-run=client", "-o", "json", "--", "2026-11-29"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fromLine, stderr, err := runSubmit(t, nil, tt.line...)
			if err != nil {
				t.Fatalf("spark-submit line: %v\n%s", err, stderr)
			}
			native, stderr, err := runSubmit(t, nil, tt.native...)
			if err != nil {
				t.Fatalf("native flags: %v\n%s", err, stderr)
			}
			if fromLine != native {
				t.Errorf("the spark-submit line built other objects than the native flags:\n--- line\n%s\n--- native\n%s", fromLine, native)
			}
			if !strings.Contains(fromLine, "kind: Job") && !strings.Contains(fromLine, `"kind": "Job"`) {
				t.Errorf("no Job printed:\n%s", fromLine)
			}
		})
	}
	// --proxy-user reaches the driver's command line where Spark puts it.
	out, _, err := runSubmit(t, nil, tests[0].line...)
	if err != nil || !strings.Contains(strings.Join(strings.Fields(out), " "), "- driver - --proxy-user - etl - --properties-file") {
		t.Errorf("driver args without --proxy-user etl first (%v):\n%s", err, out)
	}
}

func TestSparkSubmitRefusals(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://other.example.com:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	line := []string{"--master", "k8s://https://api.example.com:6443", "--deploy-mode", "cluster", "--class", "C",
		"--conf", "spark.kubernetes.container.image=i", "local:///a.jar"}
	tests := []struct {
		args []string
		want string
	}{
		{append([]string{"submit", "--spark-submit", "--class", "D", "--"}, line...),
			"--class cannot be combined with --spark-submit: give it in the spark-submit arguments after --"},
		{append([]string{"submit", "--spark-submit", "--executor-instances", "2", "--"}, line...),
			"--executor-instances cannot be combined with --spark-submit"},
		{[]string{"submit", "--spark-submit", "app"}, "--spark-submit needs the spark-submit arguments after --"},
		{append([]string{"submit", "app", "extra", "--spark-submit", "--"}, line...), `unexpected argument "extra" before --`},
		{append([]string{"submit", "--spark-submit", "--kubeconfig", kubeconfig, "--"}, line...),
			"--master k8s://https://api.example.com:6443 names another API server than the kubeconfig's, https://other.example.com:6443"},
		{append(append([]string{"submit", "-n", "a", "--spark-submit", "--"}, line[:len(line)-1]...), "--conf", "spark.kubernetes.namespace=b", "local:///a.jar"),
			"-n a and the spark-submit line's spark.kubernetes.namespace=b disagree"},
		{append(append([]string{"submit", "--spark-submit", "--"}, line[:len(line)-1]...), "--name", "2024", "local:///a.jar"),
			`cannot make a Job name of the application name "2024": give NAME before --`},
		{append([]string{"submit", "--spark-submit", "--"}, "--master", "k8s://https://api.example.com:6443", "--supervise", "x.jar"),
			"spark-submit option --supervise is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			out, stderr, err := runSubmit(t, nil, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || out != "" {
				t.Fatalf("error %v (stdout %q, stderr %q), want it to contain %q and nothing printed", err, out, stderr, tt.want)
			}
		})
	}
}

func TestSparkSubmitVerbose(t *testing.T) {
	_, stderr, err := runSubmit(t, nil, "submit", "-n", "etl", "--spark-submit", "--dry-run=client", "--",
		"--master", "k8s://https://api.example.com:6443", "--deploy-mode", "cluster", "--verbose", "--name", "Nightly ETL",
		"--conf", "spark.kubernetes.container.image=apache/spark:4.0.0", "--driver-java-options", "-Dx=1 -Dy='2'",
		"--class", "com.example.Etl", "local:///opt/app/etl.jar", "it's")
	want := `spark-submit line read as: kubectl sparkha submit nightly-etl -n etl --class com.example.Etl ` +
		`--conf spark.kubernetes.container.image=apache/spark:4.0.0 --conf 'spark.driver.extraJavaOptions=-Dx=1 -Dy='\''2'\''' ` +
		`--conf 'spark.app.name=Nightly ETL' local:///opt/app/etl.jar -- 'it'\''s'` + "\n"
	if err != nil || !strings.HasPrefix(stderr, want) {
		t.Fatalf("%v\nstderr: %s\nwant prefix: %s", err, stderr, want)
	}
}

// $(VAR) in a spark-submit line's application arguments expands as in spark-submit's driver
// pod: written as given, but for sparkha's own variables, which that pod lacks; the native flags
// pass every '$' unchanged. $(SPARK_APPLICATION_ID), which expands to another ID, is warned of.
func TestSparkSubmitArgsExpandAsSparkSubmit(t *testing.T) {
	line := []string{"submit", "--spark-submit", "--dry-run=client", "-o", "yaml", "--", "--master", "k8s://https://api.example.com:6443",
		"--deploy-mode", "cluster", "--name", "clicks", "--conf", "spark.kubernetes.container.image=apache/spark:4.0.0",
		"--conf", "spark.kubernetes.driverEnv.TOPIC=clicks", "--class", "com.example.Clicks", "local:///opt/app/clicks.jar",
		"$(TOPIC)", "$$(TOPIC)", "$(SPARK_DRIVER_POD_NAME)", "run-$(SPARK_APPLICATION_ID)"}
	out, stderr, err := runSubmit(t, nil, line...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	fields := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	if !strings.Contains(fields(out), "- local:///opt/app/clicks.jar - $(TOPIC) - $$(TOPIC) - $$(SPARK_DRIVER_POD_NAME) - run-$(SPARK_APPLICATION_ID) env:") {
		t.Errorf("the line's arguments are not written as spark-submit writes them:\n%s", out)
	}
	if want := `Warning: argument "run-$(SPARK_APPLICATION_ID)": Kubernetes expands $(SPARK_APPLICATION_ID) to the spark.app.id of each driver generation`; !strings.Contains(stderr, want) || strings.Count(stderr, "Warning: argument") != 1 {
		t.Errorf("stderr lacks %q once:\n%s", want, stderr)
	}
	native, stderr, err := runSubmit(t, nil, "submit", "clicks", "--image", "apache/spark:4.0.0", "--class", "com.example.Clicks", "local:///opt/app/clicks.jar", "--dry-run=client", "-o", "yaml", "--", "$(TOPIC)")
	if err != nil || !strings.Contains(fields(native), "- local:///opt/app/clicks.jar - $$(TOPIC) env:") || strings.Contains(stderr, "Warning: argument") {
		t.Errorf("native flags: %v, the argument is not passed unchanged:\n%s\n%s", err, native, stderr)
	}
}
