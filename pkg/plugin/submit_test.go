package plugin

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	t.Setenv("SPARK_USER", "alice") // the driver's SPARK_USER, as spark-submit reads it
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
			`--image is required: give the Spark container image for the driver and executors, e.g. --image apache/spark:4.3.0`},
		{"empty image", []string{"submit", "clicks", "local:///app.jar", "--class", "A", "--image", ""},
			`--image is required: give the Spark container image for the driver and executors, e.g. --image apache/spark:4.3.0`},
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
		// Spark keys and files that spark-submit handles on the submitting side.
		{"client-local resource", append([]string{"submit", "clicks", "target/app.jar"}, ok...),
			`APP_RESOURCE "target/app.jar" is a path on this machine, which the driver pod cannot read: build it into the image and give local:///path/in/image, or put it on storage the cluster reads (s3a://, gs://, abfs://, hdfs://, https://); kubectl sparkha does not upload client files (spark-submit would, to spark.kubernetes.file.upload.path)`},
		{"client-local jar in conf", append([]string{"submit", "clicks", "local:///app.jar", "--conf", "spark.jars=local:///a.jar,file:///home/u/b.jar"}, ok...),
			`spark.jars entry in --conf "file:///home/u/b.jar" is a path on this machine, which the driver pod cannot read: build it into the image and give local:///path/in/image, or put it on storage the cluster reads (s3a://, gs://, abfs://, hdfs://, https://); kubectl sparkha does not upload client files (spark-submit would, to spark.kubernetes.file.upload.path)`},
		{"refused kerberos key", append([]string{"submit", "clicks", "local:///app.jar", "--conf", "spark.kerberos.keytab=/etc/u.keytab"}, ok...),
			`spark.kerberos.keytab in --conf is not supported by kubectl sparkha: kubectl sparkha does not ship a local keytab: mount it from a Secret (spark.kubernetes.driver.secrets.*) and log in from the application`},
		{"refused key in properties file", append([]string{"submit", "clicks", "local:///app.jar", "--properties-file", "testdata/refused.properties"}, ok...),
			`spark.kubernetes.authenticate.driver.oauthToken in --properties-file "testdata/refused.properties" line 2 is not supported by kubectl sparkha: use --service-account, or put the token in a Secret, mount it (spark.kubernetes.driver.secrets.*) and set spark.kubernetes.authenticate.driver.mounted.oauthTokenFile`},
		{"missing driver pod template", append([]string{"submit", "clicks", "local:///app.jar", "--conf", "spark.kubernetes.driver.podTemplateFile=testdata/nope.yaml"}, ok...),
			`invalid spark.kubernetes.driver.podTemplateFile "testdata/nope.yaml" in --conf: cannot read it: open testdata/nope.yaml: no such file or directory`},
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
	want := "job.batch/clicks created\nconfigmap/clicks-spark-conf created\nservice/clicks-driver-svc created\nnetworkpolicy.networking.k8s.io/clicks-policy created\npersistentvolumeclaim/clicks-checkpoint created\n"
	if stdout != want {
		t.Errorf("stdout\n got: %q\nwant: %q", stdout, want)
	}
	var creates []string
	for _, a := range client.Actions() {
		if c, ok := a.(k8stesting.CreateAction); ok {
			creates = append(creates, c.GetResource().Resource)
		}
	}
	if got := strings.Join(creates, ","); got != "persistentvolumeclaims,jobs,configmaps,services,networkpolicies" {
		t.Errorf("create order %s, want persistentvolumeclaims,jobs,configmaps,services,networkpolicies", got)
	}
}

func TestSubmitServerDryRun(t *testing.T) {
	client := fake.NewClientset()
	stdout, _, err := runSubmit(t, client, "submit", "clicks", "-n", "streaming", "--image", "apache/spark:4.0.0",
		"--class", "com.example.Clicks", "local:///opt/app/clicks.jar", "--dry-run=server")
	if err != nil {
		t.Fatal(err)
	}
	want := "job.batch/clicks created (server dry run)\nconfigmap/clicks-spark-conf created (server dry run)\nservice/clicks-driver-svc created (server dry run)\nnetworkpolicy.networking.k8s.io/clicks-policy created (server dry run)\n"
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
	if n != 4 {
		t.Errorf("%d creates, want 4 (Job, ConfigMap, Service, NetworkPolicy)", n)
	}
}

func TestVersionCommand(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"version", "-o", "json"}, `"version": "dev"`},
		{[]string{"version", "-o", "yaml"}, "version: dev\n"},
		{[]string{"version", "-o", "jsonpath={.version}"}, "dev"},
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
	if err := root.Execute(); err == nil || err.Error() != `invalid --output "xml": use one of json, yaml, kyaml, go-template, go-template-file, template, templatefile, jsonpath, jsonpath-as-json, jsonpath-file, or leave it out` {
		t.Errorf("version -o xml: got error %v", err)
	}
}

// TestSubmitCheckpointClaimModes: an existing ReadWriteMany claim is mounted on the executors
// too; a ReadWriteOncePod one serves the driver only and submit says so on stderr; a claim
// that does not exist is refused before anything is created.
func TestSubmitCheckpointClaimModes(t *testing.T) {
	claim := func(name string, mode corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "streaming"},
			Spec:   corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{mode}},
			Status: corev1.PersistentVolumeClaimStatus{AccessModes: []corev1.PersistentVolumeAccessMode{mode}}}
	}
	args := func(c string) []string {
		return []string{"submit", "clicks", "-n", "streaming", "--image", "apache/spark:4.0.0", "--class", "com.example.Clicks",
			"--checkpoint-claim", c, "local:///opt/app/clicks.jar"}
	}
	client := fake.NewClientset(claim("shared", corev1.ReadWriteMany), claim("own", corev1.ReadWriteOncePod))

	_, stderr, err := runSubmit(t, client, args("shared")...)
	if err != nil {
		t.Fatal(err)
	}
	if stderr != "" {
		t.Errorf("stderr %q for a ReadWriteMany claim", stderr)
	}
	cm, err := client.CoreV1().ConfigMaps("streaming").Get(context.Background(), "clicks-spark-conf", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"spark.kubernetes.executor.volumes.persistentVolumeClaim.checkpoint.options.claimName=shared\n",
		"spark.kubernetes.executor.volumes.persistentVolumeClaim.checkpoint.mount.path=/checkpoint\n",
		"spark.kubernetes.executor.volumes.persistentVolumeClaim.checkpoint.mount.readOnly=false\n",
	} {
		if !strings.Contains(cm.Data["spark.properties"], line) {
			t.Errorf("spark.properties lacks %q:\n%s", line, cm.Data["spark.properties"])
		}
	}

	client = fake.NewClientset(claim("own", corev1.ReadWriteOncePod))
	_, stderr, err = runSubmit(t, client, args("own")...)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Warning: checkpoint claim own is ReadWriteOncePod: only the driver mounts it, which serves stateless queries"; !strings.HasPrefix(stderr, want) {
		t.Errorf("stderr %q, want it to start with %q", stderr, want)
	}
	cm, _ = client.CoreV1().ConfigMaps("streaming").Get(context.Background(), "clicks-spark-conf", metav1.GetOptions{})
	if strings.Contains(cm.Data["spark.properties"], "executor.volumes") {
		t.Errorf("a ReadWriteOncePod claim is mounted on the executors:\n%s", cm.Data["spark.properties"])
	}

	client = fake.NewClientset()
	stdout, _, err := runSubmit(t, client, args("missing")...)
	if err == nil || err.Error() != `invalid --checkpoint-claim "missing": no such PersistentVolumeClaim in namespace streaming; create it first, or use --checkpoint-size to have kubectl sparkha create one` {
		t.Errorf("error %v", err)
	}
	for _, a := range client.Actions() {
		if a.GetVerb() != "get" {
			t.Errorf("request %s %s for a missing claim", a.GetVerb(), a.GetResource().Resource)
		}
	}
	if stdout != "" {
		t.Errorf("stdout %q", stdout)
	}
}
