package plugin

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const fixedAppID = "spark-0123456789abcdef0123456789abcdef"

// runSubmit runs `kubectl sparkha ARGS...` with test streams, a fixed application ID and,
// when client is not nil, that client instead of a real one.
func runSubmit(t *testing.T, client *fake.Clientset, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "no-kubeconfig"))
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	root := newCmdRoot(streams, func(o *SubmitOptions) {
		o.NewAppID = func() string { return fixedAppID }
		if client != nil {
			o.Client = client
		}
	})
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

func TestSubmitDryRunGolden(t *testing.T) {
	base := []string{"submit", "-n", "streaming", "--image", "apache/spark:4.0.0", "--dry-run=client"}
	tests := []struct {
		golden string
		args   []string
	}{
		{"existing-claim.yaml", []string{"clicks", "--class", "com.example.Clicks",
			"--checkpoint-claim", "clicks-data", "local:///opt/app/clicks.jar", "-o", "yaml"}},
		{"new-rwop-claim.yaml", []string{"clicks", "--class", "com.example.Clicks",
			"--checkpoint-size", "10Gi", "--checkpoint-storage-class", "fast-ssd",
			"--driver-cores", "2", "--driver-memory", "4g", "--executor-instances", "2",
			"--executor-cores", "2", "--executor-memory", "8Gi", "--service-account", "spark",
			"--labels", "team=data,tier=streaming", "--annotations", "owner=data-team@example.com",
			"--backoff-limit", "1", "--node-lost-timeout", "2m",
			"local:///opt/app/clicks.jar", "-o", "yaml"}},
		{"rwx-claim.yaml", []string{"clicks", "--class", "com.example.Clicks",
			"--checkpoint-size", "50Gi", "--checkpoint-access-mode", "ReadWriteMany",
			"--checkpoint-mount", "/data/checkpoints", "local:///opt/app/clicks.jar", "-o", "yaml"}},
		{"properties-file.yaml", []string{"clicks", "--class", "com.example.Clicks",
			"--properties-file", "testdata/clicks.properties", "--conf", "spark.ui.enabled=false",
			"--executor-instances", "4", "local:///opt/app/clicks.jar", "-o", "yaml"}},
		{"app-args.yaml", []string{"spark-pi", "--class", "org.apache.spark.examples.SparkPi",
			"local:///opt/spark/examples/jars/spark-examples.jar", "-o", "yaml", "--", "1000", "--verbose", "two words"}},
		{"python-app.yaml", []string{"wordcount", "--driver-memory", "2g",
			"local:///opt/app/wordcount.py", "-o", "yaml", "--", "s3a://bucket/input"}},
		{"list.json", []string{"clicks", "--class", "com.example.Clicks",
			"--checkpoint-size", "1Gi", "local:///opt/app/clicks.jar", "-o", "json"}},
		{"name.txt", []string{"clicks", "--class", "com.example.Clicks",
			"--checkpoint-size", "1Gi", "local:///opt/app/clicks.jar", "-o", "name"}},
		{"created.txt", []string{"clicks", "--class", "com.example.Clicks",
			"--checkpoint-size", "1Gi", "local:///opt/app/clicks.jar"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			stdout, stderr, err := runSubmit(t, nil, append(append([]string{}, base...), tt.args...)...)
			if err != nil {
				t.Fatalf("submit failed: %v\nstderr: %s", err, stderr)
			}
			assertGolden(t, filepath.Join("testdata", tt.golden+".golden"), stdout)
		})
	}
}

func assertGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/... -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test ./pkg/... -update after checking the change)\n--- got ---\n%s", path, got)
	}
}

func TestSubmitValidationErrors(t *testing.T) {
	ok := []string{"--image", "apache/spark:4.0.0", "--class", "com.example.Clicks"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no name", []string{"submit"},
			`NAME is required: kubectl sparkha submit NAME --image IMAGE [--class MAIN] APP_RESOURCE`},
		{"bad name", append([]string{"submit", "Clicks_App", "local:///app.jar"}, ok...),
			`invalid NAME "Clicks_App": use at most 52 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (NAME names the Job and its Service NAME-driver-svc, a DNS-1035 label)`},
		{"name too long", append([]string{"submit", strings.Repeat("a", 53), "local:///app.jar"}, ok...),
			`invalid NAME "` + strings.Repeat("a", 53) + `": use at most 52 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (NAME names the Job and its Service NAME-driver-svc, a DNS-1035 label)`},
		{"name with dot", append([]string{"submit", "clicks.v2", "local:///app.jar"}, ok...),
			`invalid NAME "clicks.v2": use at most 52 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (NAME names the Job and its Service NAME-driver-svc, a DNS-1035 label)`},
		{"no resource", append([]string{"submit", "clicks"}, ok...),
			`APP_RESOURCE is required: give the application jar or Python file after NAME, e.g. local:///opt/spark/examples/jars/spark-examples.jar`},
		{"args without dash", append([]string{"submit", "clicks", "local:///app.jar", "10"}, ok...),
			`unexpected argument "10" after APP_RESOURCE: put application arguments after --, e.g. kubectl sparkha submit clicks ... local:///app.jar -- 10`},
		{"no image", []string{"submit", "clicks", "local:///app.jar", "--class", "A"},
			`--image is required: give the Spark container image for the driver and executors, e.g. --image apache/spark:4.0.0`},
		{"empty image", []string{"submit", "clicks", "local:///app.jar", "--class", "A", "--image", ""},
			`--image is required: give the Spark container image for the driver and executors, e.g. --image apache/spark:4.0.0`},
		{"no class", []string{"submit", "clicks", "local:///app.jar", "--image", "x"},
			`--class is required for a JVM application (APP_RESOURCE "local:///app.jar"): give its main class, e.g. --class org.apache.spark.examples.SparkPi`},
		{"bad driver memory", append([]string{"submit", "clicks", "local:///app.jar", "--driver-memory", "4x"}, ok...),
			`invalid --driver-memory "4x": use a Kubernetes quantity such as 4Gi or Spark's 4g`},
		{"zero executor memory", append([]string{"submit", "clicks", "local:///app.jar", "--executor-memory", "0"}, ok...),
			`invalid --executor-memory "0": use a Kubernetes quantity such as 4Gi or Spark's 4g`},
		{"bad memory in conf", append([]string{"submit", "clicks", "local:///app.jar", "--conf", "spark.driver.memory=lots"}, ok...),
			`invalid spark.driver.memory "lots" in --conf: use a Kubernetes quantity such as 4Gi or Spark's 4g`},
		{"zero driver cores", append([]string{"submit", "clicks", "local:///app.jar", "--driver-cores", "0"}, ok...),
			`invalid --driver-cores 0: use a whole number, 1 or more`},
		{"negative executor cores", append([]string{"submit", "clicks", "local:///app.jar", "--executor-cores", "-2"}, ok...),
			`invalid --executor-cores -2: use a whole number, 1 or more`},
		{"negative executor instances", append([]string{"submit", "clicks", "local:///app.jar", "--executor-instances", "-1"}, ok...),
			`invalid --executor-instances -1: use a whole number, 0 or more`},
		{"fractional cores in conf", append([]string{"submit", "clicks", "local:///app.jar", "--conf", "spark.executor.cores=1.5"}, ok...),
			`invalid spark.executor.cores "1.5" in --conf: use a whole number, 1 or more`},
		{"conf without equals", append([]string{"submit", "clicks", "local:///app.jar", "--conf", "spark.ui.enabled"}, ok...),
			`invalid --conf "spark.ui.enabled": use KEY=VALUE, e.g. --conf spark.sql.shuffle.partitions=64`},
		{"conf empty key", append([]string{"submit", "clicks", "local:///app.jar", "--conf", "=1"}, ok...),
			`invalid --conf "=1": the key is empty; use KEY=VALUE, e.g. --conf spark.sql.shuffle.partitions=64`},
		{"conf not spark", append([]string{"submit", "clicks", "local:///app.jar", "--conf", "hadoop.tmp.dir=/tmp"}, ok...),
			`invalid key "hadoop.tmp.dir" in --conf: Spark reads only keys starting with "spark."`},
		{"conf key with space", append([]string{"submit", "clicks", "local:///app.jar", "--conf", "spark.a b=1"}, ok...),
			`invalid key "spark.a b" in --conf: a key cannot contain '=' or whitespace`},
		{"conf reserved prefix", append([]string{"submit", "clicks", "local:///app.jar", "--conf", "spark.kubernetes.executor.podNamePrefix=x"}, ok...),
			`spark.kubernetes.executor.podNamePrefix in --conf cannot be set: left unset, Spark derives a fresh prefix per driver generation so executor names never collide; remove it`},
		{"conf reserved app id", append([]string{"submit", "clicks", "local:///app.jar", "--conf", "spark.app.id=spark-fixed"}, ok...),
			`spark.app.id in --conf cannot be set: each driver generation gets its own (spark-<driver pod UID>): Spark finds its executors by it, and a generation must never adopt or delete another's; remove it`},
		{"conf reserved namespace", append([]string{"submit", "clicks", "local:///app.jar", "--conf", "spark.kubernetes.namespace=prod"}, ok...),
			`spark.kubernetes.namespace in --conf cannot be set: use -n/--namespace; remove it`},
		{"conf reserved master", append([]string{"submit", "clicks", "local:///app.jar", "--conf", "spark.master=local[2]"}, ok...),
			`spark.master in --conf cannot be set: kubectl sparkha sets it to k8s://https://kubernetes.default.svc; remove it`},
		{"bad conf backoff", append([]string{"submit", "clicks", "local:///app.jar", "--conf", "spark.kubernetes.driver.job.backofflimit=many"}, ok...),
			`invalid spark.kubernetes.driver.job.backofflimit "many" in --conf: use a whole number, 0 or more`},
		{"missing properties file", append([]string{"submit", "clicks", "local:///app.jar", "--properties-file", "testdata/nope.conf"}, ok...),
			`invalid --properties-file "testdata/nope.conf": no such file or directory`},
		{"bad labels", append([]string{"submit", "clicks", "local:///app.jar", "--labels", "team"}, ok...),
			`invalid --labels "team": use KEY=VALUE pairs separated by commas, e.g. --labels team=data,tier=streaming`},
		{"bad label value", append([]string{"submit", "clicks", "local:///app.jar", "--labels", "team=data team"}, ok...),
			`invalid --labels value "data team" for team: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`},
		{"reserved label", append([]string{"submit", "clicks", "local:///app.jar", "--labels", "spark-role=executor"}, ok...),
			`--labels cannot set spark-role: kubectl sparkha sets it on every object of the app; choose another key`},
		{"bad annotation key", append([]string{"submit", "clicks", "local:///app.jar", "--annotations", "a b=c"}, ok...),
			`invalid --annotations key "a b": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`},
		{"claim with size", append([]string{"submit", "clicks", "local:///app.jar", "--checkpoint-claim", "data", "--checkpoint-size", "1Gi"}, ok...),
			`--checkpoint-claim cannot be combined with --checkpoint-size: the existing claim already has its size, class and access mode; drop --checkpoint-size, or drop --checkpoint-claim to create a new claim clicks-checkpoint`},
		{"claim with class", append([]string{"submit", "clicks", "local:///app.jar", "--checkpoint-claim", "data", "--checkpoint-storage-class", "fast"}, ok...),
			`--checkpoint-claim cannot be combined with --checkpoint-storage-class: the existing claim already has its size, class and access mode; drop --checkpoint-storage-class, or drop --checkpoint-claim to create a new claim clicks-checkpoint`},
		{"claim with access mode", append([]string{"submit", "clicks", "local:///app.jar", "--checkpoint-claim", "data", "--checkpoint-access-mode", "ReadWriteOnce"}, ok...),
			`--checkpoint-claim cannot be combined with --checkpoint-access-mode: the existing claim already has its size, class and access mode; drop --checkpoint-access-mode, or drop --checkpoint-claim to create a new claim clicks-checkpoint`},
		{"bad claim name", append([]string{"submit", "clicks", "local:///app.jar", "--checkpoint-claim", "Data"}, ok...),
			`invalid --checkpoint-claim "Data": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
		{"class without size", append([]string{"submit", "clicks", "local:///app.jar", "--checkpoint-storage-class", "fast"}, ok...),
			`--checkpoint-storage-class needs --checkpoint-size: it applies only to a claim kubectl sparkha creates, e.g. --checkpoint-size 10Gi`},
		{"access mode without size", append([]string{"submit", "clicks", "local:///app.jar", "--checkpoint-access-mode", "ReadWriteMany"}, ok...),
			`--checkpoint-access-mode needs --checkpoint-size: it applies only to a claim kubectl sparkha creates, e.g. --checkpoint-size 10Gi`},
		{"mount without volume", append([]string{"submit", "clicks", "local:///app.jar", "--checkpoint-mount", "/data"}, ok...),
			`--checkpoint-mount needs a checkpoint volume: add --checkpoint-size SIZE for a new claim or --checkpoint-claim NAME for an existing one`},
		{"bad access mode", append([]string{"submit", "clicks", "local:///app.jar", "--checkpoint-size", "1Gi", "--checkpoint-access-mode", "ReadOnlyMany"}, ok...),
			`invalid --checkpoint-access-mode "ReadOnlyMany": use ReadWriteOncePod (default), ReadWriteOnce or ReadWriteMany`},
		{"bad size", append([]string{"submit", "clicks", "local:///app.jar", "--checkpoint-size", "ten"}, ok...),
			`invalid --checkpoint-size "ten": use a Kubernetes quantity greater than zero, e.g. 10Gi`},
		{"zero size", append([]string{"submit", "clicks", "local:///app.jar", "--checkpoint-size", "0"}, ok...),
			`invalid --checkpoint-size "0": use a Kubernetes quantity greater than zero, e.g. 10Gi`},
		{"bad storage class", append([]string{"submit", "clicks", "local:///app.jar", "--checkpoint-size", "1Gi", "--checkpoint-storage-class", "Fast_SSD"}, ok...),
			`invalid --checkpoint-storage-class "Fast_SSD": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
		{"relative mount", append([]string{"submit", "clicks", "local:///app.jar", "--checkpoint-size", "1Gi", "--checkpoint-mount", "checkpoint"}, ok...),
			`invalid --checkpoint-mount "checkpoint": use an absolute directory other than /, e.g. --checkpoint-mount /checkpoint`},
		{"mount over conf", append([]string{"submit", "clicks", "local:///app.jar", "--checkpoint-claim", "data", "--checkpoint-mount", "/opt/spark"}, ok...),
			`invalid --checkpoint-mount "/opt/spark": it overlaps Spark's configuration directory /opt/spark/conf; use another directory, e.g. /checkpoint`},
		{"negative backoff", append([]string{"submit", "clicks", "local:///app.jar", "--backoff-limit", "-1"}, ok...),
			`invalid --backoff-limit -1: use 0 or more (driver failures retried before the app fails; node loss never counts)`},
		{"negative node lost timeout", append([]string{"submit", "clicks", "local:///app.jar", "--node-lost-timeout", "-1s"}, ok...),
			`invalid --node-lost-timeout -1s: use whole seconds, 0s or more, e.g. --node-lost-timeout 60s`},
		{"fractional node lost timeout", append([]string{"submit", "clicks", "local:///app.jar", "--node-lost-timeout", "1500ms"}, ok...),
			`invalid --node-lost-timeout 1.5s: use whole seconds, 0s or more, e.g. --node-lost-timeout 60s`},
		{"wait with dry run", append([]string{"submit", "clicks", "local:///app.jar", "--wait", "--dry-run=client"}, ok...),
			`--wait cannot be used with --dry-run: a dry run creates no driver to wait for; drop one of them`},
		{"timeout without wait", append([]string{"submit", "clicks", "local:///app.jar", "--timeout", "1m", "--dry-run=client"}, ok...),
			`--timeout needs --wait: it limits how long --wait waits for the driver pod`},
		{"zero timeout", append([]string{"submit", "clicks", "local:///app.jar", "--wait", "--timeout", "0s"}, ok...),
			`invalid --timeout 0s: use a positive duration, e.g. --timeout 5m`},
		{"bad output", append([]string{"submit", "clicks", "local:///app.jar", "--dry-run=client", "-o", "table"}, ok...),
			`invalid --output: unable to match a printer suitable for the output format "table", allowed formats are: go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,kyaml,name,template,templatefile,yaml`},
		{"bad dry run", append([]string{"submit", "clicks", "local:///app.jar", "--dry-run=maybe"}, ok...),
			`Invalid dry-run value (maybe). Must be "none", "server", or "client".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A fake client records every request: validation errors must make none.
			client := fake.NewClientset()
			stdout, _, err := runSubmit(t, client, tt.args...)
			if err == nil {
				t.Fatalf("submit succeeded, want error %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("wrong error\n got: %s\nwant: %s", err, tt.want)
			}
			if stdout != "" {
				t.Errorf("printed %q on stdout, want nothing", stdout)
			}
			if n := len(client.Actions()); n != 0 {
				t.Errorf("made %d API requests before failing validation: %v", n, client.Actions())
			}
		})
	}
}

// TestSubmitCreates drives the real command against a fake clientset and checks what it
// printed and created.
func TestSubmitCreates(t *testing.T) {
	client := fake.NewClientset()
	stdout, _, err := runSubmit(t, client, "submit", "clicks", "-n", "streaming", "--image", "apache/spark:4.0.0",
		"--class", "com.example.Clicks", "--checkpoint-size", "1Gi", "local:///opt/app/clicks.jar")
	if err != nil {
		t.Fatal(err)
	}
	want := "job.batch/clicks created\nconfigmap/clicks-spark-conf created\nservice/clicks-driver-svc created\npersistentvolumeclaim/clicks-checkpoint created\n"
	if stdout != want {
		t.Errorf("stdout\n got: %q\nwant: %q", stdout, want)
	}
	var creates []string
	for _, a := range client.Actions() {
		if c, ok := a.(k8stesting.CreateAction); ok {
			creates = append(creates, c.GetResource().Resource)
		}
	}
	if got := strings.Join(creates, ","); got != "persistentvolumeclaims,jobs,configmaps,services" {
		t.Errorf("create order %s, want persistentvolumeclaims,jobs,configmaps,services", got)
	}
}

func TestSubmitServerDryRun(t *testing.T) {
	client := fake.NewClientset()
	stdout, _, err := runSubmit(t, client, "submit", "clicks", "-n", "streaming", "--image", "apache/spark:4.0.0",
		"--class", "com.example.Clicks", "local:///opt/app/clicks.jar", "--dry-run=server")
	if err != nil {
		t.Fatal(err)
	}
	want := "job.batch/clicks created (server dry run)\nconfigmap/clicks-spark-conf created (server dry run)\nservice/clicks-driver-svc created (server dry run)\n"
	if stdout != want {
		t.Errorf("stdout\n got: %q\nwant: %q", stdout, want)
	}
	n := 0
	for _, a := range client.Actions() {
		if c, ok := a.(k8stesting.CreateActionImpl); ok {
			n++
			if got := c.GetCreateOptions().DryRun; len(got) != 1 || got[0] != "All" {
				t.Errorf("create of %s sent dryRun=%v, want [All]", c.GetResource().Resource, got)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d creates, want 3", n)
	}
}

func TestVersionCommand(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"version", "-o", "json"}, `"version": "dev"`},
		{[]string{"version", "-o", "yaml"}, "version: dev\n"},
		{[]string{"version"}, "kubectl-sparkha dev (commit unknown, built unknown, "},
	} {
		streams, _, out, _ := genericiooptions.NewTestIOStreams()
		root := NewCmdRoot(streams)
		root.SetArgs(tt.args)
		if err := root.Execute(); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("%v printed %q, want it to contain %q", tt.args, out.String(), tt.want)
		}
	}
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	root := NewCmdRoot(streams)
	root.SetArgs([]string{"version", "-o", "xml"})
	root.SetErr(&bytes.Buffer{})
	if err := root.Execute(); err == nil || err.Error() != `invalid --output "xml": use json or yaml, or leave it out for plain text` {
		t.Errorf("version -o xml: got error %v", err)
	}
}
