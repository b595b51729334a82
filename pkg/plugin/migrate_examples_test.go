package plugin

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"
)

// upstreamExamples is where the operators' own examples are vendored, with their commits.
const upstreamExamples = "../../test/testdata/upstream"

// examplesDoc is the report of TestMigrateUpstreamExamples; the table between its markers is
// what the test finds (go test ./pkg/plugin -run TestMigrateUpstreamExamples -update rewrites it).
const examplesDoc = "../../docs/migrate-examples.md"

// upstreamFiles lists the vendored example files, sorted.
func upstreamFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(upstreamExamples, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return err
	})
	if err != nil || len(files) < 70 {
		t.Fatalf("the vendored examples: %d files, %v", len(files), err)
	}
	sort.Strings(files)
	return files
}

var reportLine = regexp.MustCompile(`^(warning|not carried): ([^:]+): `)

// Every example both operators publish (current and older) either migrates offline, exit 0,
// into objects that apply as printed, or is refused with nothing on stdout and an error that
// names the field or kind; docs/migrate-examples.md is the table of what each does.
func TestMigrateUpstreamExamples(t *testing.T) {
	var rows []string
	migrated := 0
	for _, file := range upstreamFiles(t) {
		name := strings.TrimPrefix(file, upstreamExamples+"/")
		client := fake.NewClientset()
		stdout, stderr, err := runMigrate(t, client, "-f", file, "-n", "default")
		if len(client.Actions()) != 0 {
			t.Errorf("%s: migrate -f asked the cluster: %v", name, client.Actions())
		}
		var warnings, notCarried []string
		for _, l := range strings.Split(stderr, "\n") {
			if m := reportLine.FindStringSubmatch(l); m != nil {
				if m[1] == "warning" {
					warnings = append(warnings, "`"+m[2]+"`")
				} else {
					notCarried = append(notCarried, "`"+m[2]+"`: "+strings.TrimPrefix(l, m[0]))
				}
			}
		}
		if err != nil {
			if stdout != "" {
				t.Errorf("%s: exit 1 with objects on stdout:\n%s", name, stdout)
			}
			why := strings.ReplaceAll(err.Error(), file, filepath.Base(file))
			if len(notCarried) > 0 {
				why = "not carried: " + strings.Join(notCarried, "; ")
			}
			rows = append(rows, fmt.Sprintf("| %s | refused | %s |", name, strings.ReplaceAll(why, "|", `\|`)))
			continue
		}
		migrated++
		if len(notCarried) > 0 {
			t.Errorf("%s: exit 0 with fields not carried: %v", name, notCarried)
		}
		job := checkPrinted(t, name, stdout)
		detail := "Job " + job.Name
		if len(warnings) > 0 {
			detail += "; warnings: " + strings.Join(warnings, ", ")
		}
		rows = append(rows, fmt.Sprintf("| %s | migrates | %s |", name, detail))
	}
	// The examples that must keep migrating: each operator's SparkPi, its Python app and its
	// pod template example, the one that used to fail on securityContext.
	for _, want := range []string{"kubeflow/current/spark-pi.yaml | migrates", "kubeflow/current/spark-pi-pod-template.yaml | migrates",
		"kubeflow/current/spark-pi-python.yaml | migrates", "apache/current/pi.yaml | migrates",
		"apache/current/pi-with-template.yaml | migrates", "apache/current/pi-python.yaml | migrates",
		"kubeflow/2019-v1beta1/spark-pi.yaml | refused | SparkApplication default/spark-pi is sparkoperator.k8s.io/v1beta1",
		"apache/current/spark-connect-server.yaml | refused | SparkApplication default/spark-connect-server: spec.mainClass org.apache.spark.sql.connect.service.SparkConnectServer: this SparkApplication runs a Spark Connect server",
		"apache/current/spark-history-server.yaml | refused | SparkApplication default/spark-history-server: spec.mainClass org.apache.spark.deploy.history.HistoryServer",
		"apache/current/spark-thrift-server.yaml | refused | SparkApplication default/spark-thrift-server: spec.mainClass org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"} {
		if !strings.Contains(strings.Join(rows, "\n"), "| "+want) {
			t.Errorf("no row %q", want)
		}
	}
	table := "| example | result | what is not carried, or why |\n| --- | --- | --- |\n" + strings.Join(rows, "\n") + "\n"
	table += fmt.Sprintf("\n%d files: %d migrate, %d are refused.\n", len(rows), migrated, len(rows)-migrated)
	b, err := os.ReadFile(examplesDoc)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- BEGIN TestMigrateUpstreamExamples -->\n", "<!-- END TestMigrateUpstreamExamples -->"
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers", examplesDoc)
	}
	if got := doc[i+len(begin) : j]; got != table {
		if *update {
			if err := os.WriteFile(examplesDoc, []byte(doc[:i+len(begin)]+table+doc[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("%s is not what migrate does (rerun with -update after checking):\n%s", examplesDoc, table)
	}
}

// checkPrinted checks printed objects apply as printed: a v1 List holding the Job first, every
// object in the namespace, none owned by an object without a uid. It returns the Job.
func checkPrinted(t *testing.T, name, stdout string) *batchv1.Job {
	t.Helper()
	var list corev1.List
	if err := yaml.UnmarshalStrict([]byte(stdout), &list); err != nil || len(list.Items) < 3 {
		t.Fatalf("%s: stdout is not a List of the app's objects (%v):\n%s", name, err, stdout)
	}
	var job batchv1.Job
	if err := yaml.Unmarshal(list.Items[0].Raw, &job); err != nil || job.Kind != "Job" {
		t.Fatalf("%s: the first object is not a Job: %v", name, err)
	}
	for _, item := range list.Items {
		var obj struct {
			runtime.TypeMeta `json:",inline"`
			Metadata         struct {
				Namespace       string `json:"namespace"`
				OwnerReferences []any  `json:"ownerReferences"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(item.Raw, &obj); err != nil {
			t.Fatal(err)
		}
		if obj.Metadata.Namespace != "default" || len(obj.Metadata.OwnerReferences) != 0 {
			t.Errorf("%s: %s in namespace %q with owner references %v", name, obj.Kind, obj.Metadata.Namespace, obj.Metadata.OwnerReferences)
		}
	}
	return &job
}

// A file of several documents: every SparkApplication migrates and all their objects are
// printed, or none is printed and the error names the apps that cannot; --apply switches one
// application at a time and refuses the file, naming both, before any API call.
func TestMigrateMultiDocument(t *testing.T) {
	dir := t.TempDir()
	const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n"
	app := func(name, extra string) string {
		return "apiVersion: sparkoperator.k8s.io/v1beta2\nkind: SparkApplication\nmetadata: {name: " + name + "}\nspec:\n  type: Scala\n  mode: cluster\n" +
			"  image: spark:4.0.0\n  mainClass: org.example.App\n  mainApplicationFile: local:///opt/app.jar\n" + extra
	}
	write := func(name string, docs ...string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(docs, "---\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	two := write("two.yaml", cm, app("first", ""), app("second", ""))
	client := fake.NewClientset()
	stdout, stderr, err := runMigrate(t, client, "-f", two, "-n", "jobs")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "    name: first\n    namespace: jobs\n") || !strings.Contains(stdout, "    name: second\n    namespace: jobs\n") ||
		strings.Count(stdout, "kind: Job\n") != 2 || strings.Count(stdout, "kind: List\n") != 1 {
		t.Errorf("not both apps' objects in one List:\n%s", stdout)
	}
	if !strings.Contains(stderr, "v1 ConfigMap/settings: not a SparkApplication, left as it is\n") || !strings.Contains(stderr, "sparkapplication/first:\n") {
		t.Errorf("stderr: %s", stderr)
	}
	bad := write("bad.yaml", app("first", ""), app("second", "  monitoring: {exposeDriverMetrics: true}\n"))
	stdout, stderr, err = runMigrate(t, client, "-f", bad)
	if err == nil || stdout != "" || !strings.Contains(err.Error(), "cannot migrate 1 of the 2 SparkApplications of "+bad+" (second; why above): nothing was printed") ||
		!strings.Contains(stderr, "not carried: spec.monitoring:") {
		t.Errorf("a file with one app that cannot migrate: %v\nstdout %q\nstderr %s", err, stdout, stderr)
	}
	// No cluster at all (no kubeconfig): the file's error comes first.
	_, _, err = runMigrate(t, nil, "-f", two, "--apply", "--yes")
	if err == nil || !strings.Contains(err.Error(), two+" holds 2 SparkApplications (first, second): --apply switches one application at a time; nothing was changed") {
		t.Errorf("--apply of two apps: %v", err)
	}
	if len(client.Actions()) != 0 {
		t.Errorf("the cluster was asked: %v", client.Actions())
	}
	_, _, err = runMigrate(t, client, "-f", write("none.yaml", cm), "--checkpoint-claim", "c")
	if err == nil || !strings.Contains(err.Error(), "it holds no SparkApplication (it holds v1 ConfigMap/settings)") {
		t.Errorf("a file without an app: %v", err)
	}
}
