package plugin

import (
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// migrateFixture is the driver of pkg/migrate's spark-3.5 fixture (what the sandbox's
// spark-submit stand-in creates), its ConfigMap and its claim.
func migrateFixture(t *testing.T) (*corev1.Pod, *corev1.ConfigMap, *corev1.PersistentVolumeClaim) {
	t.Helper()
	pod, cm := fixture.SparkSubmitDriver(t, "spark-3.5")
	pod.UID = "old-uid"
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "etl-state", Namespace: "etl"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}}}
	return pod, cm, pvc
}

func runMigrate(t *testing.T, client *fake.Clientset, args ...string) (string, string, error) {
	t.Helper()
	return runMigrateDynamic(t, client, nil, args...)
}

// fakeDynamic is a fake dynamic client that serves every kind inspect lists, holding objs.
func fakeDynamic(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	listKinds := map[schema.GroupVersionResource]string{}
	for _, gvr := range sparkapp.SparkApplicationResources {
		listKinds[gvr] = "SparkApplicationList"
	}
	for _, k := range inspect.RemediationKinds {
		listKinds[k.GVR] = k.Kind + "List"
	}
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objs...)
}

// runMigrateDynamic runs migrate with a fake dynamic client holding apps (SparkApplications).
func runMigrateDynamic(t *testing.T, client *fake.Clientset, apps []runtime.Object, args ...string) (string, string, error) {
	t.Helper()
	return runMigrateWith(t, client, fakeDynamic(apps...), args...)
}

func runMigrateWith(t *testing.T, client *fake.Clientset, dyn dynamic.Interface, args ...string) (string, string, error) {
	t.Helper()
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "no-kubeconfig"))
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	o := NewMigrateOptions(genericclioptions.NewConfigFlags(true), streams)
	o.newAppID = func() string { return fixedAppID }
	if client != nil {
		o.client = client
	}
	o.dynamic = dyn
	cmd := newCmdMigrate(o)
	o.configFlags.AddFlags(cmd.PersistentFlags())
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func writes(c *fake.Clientset) []string {
	var out []string
	for _, a := range c.Actions() {
		if v := a.GetVerb(); v != "get" && v != "list" && v != "watch" {
			out = append(out, v+" "+a.GetResource().Resource)
		}
	}
	return out
}

func TestMigratePrints(t *testing.T) {
	pod, cm, pvc := migrateFixture(t)
	client := fake.NewClientset(pod, cm, pvc)
	stdout, stderr, err := runMigrate(t, client, "pod/"+pod.Name, "-n", "etl")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: List\n", "  kind: Job\n", "    name: nightly-etl\n", "claimName: etl-state\n", "mountPath: /state\n",
		"image: spark:3.5.3\n",
		"spark.jars.packages=org.postgresql:postgresql:42.7.4\n", "spark.app.name=Nightly ETL\n", "serviceAccountName: spark\n", "pool: spark\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if args := strings.Join(strings.Fields(stdout), " "); !strings.Contains(args, "- --class - org.example.Etl - local:///opt/app/etl.jar - \"2026-11-29\" ") {
		t.Errorf("the driver's class, resource and arguments are not carried:\n%s", stdout)
	}
	for _, gone := range []string{"spark.app.submitTime", "spark.driver.host=nightly-etl", "spark.kubernetes.driver.pod.name=nightly-etl", "spark.app.id=spark-ab12", "waitAppCompletion", "persistentVolumeClaim.state"} {
		if strings.Contains(stdout, gone) {
			t.Errorf("stdout carries %q:\n%s", gone, stdout)
		}
	}
	// SPARK_USER is carried, so the only warning of the properties is spark-submit's own key.
	wantErr := "warning: spark.properties spark.kubernetes.submission.waitAppCompletion: read by spark-submit on the submitting machine only; kubectl sparkha does not need it\n" +
		"Warning: checkpoint claim etl-state is ReadWriteOnce: only the driver mounts it"
	if !strings.HasPrefix(stderr, wantErr) {
		t.Errorf("stderr\n got: %s\nwant: %s...", stderr, wantErr)
	}
	if w := writes(client); len(w) != 0 {
		t.Errorf("printing wrote: %v", w)
	}
}

func TestMigrateRefuses(t *testing.T) {
	pod, cm, pvc := migrateFixture(t)
	// An executor pod template whose ConfigMap is gone: the one field that cannot be carried.
	lostTemplate := pod.DeepCopy()
	lostTemplate.Spec.Volumes = append(lostTemplate.Spec.Volumes, corev1.Volume{Name: "pod-template-volume",
		VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "etl-driver-podspec-conf"}}}})
	templateConf := cm.DeepCopy()
	templateConf.Data["spark.properties"] += "spark.kubernetes.executor.podTemplateFile=/opt/spark/pod-template/pod-spec-template.yml\n"
	tests := []struct {
		name string
		pod  *corev1.Pod
		args []string
		want string
	}{
		{"another source", pod, []string{"deployment/etl"}, `cannot migrate "deployment/etl": give pod/NAME (the driver pod of a spark-submit application), sparkapplication/NAME or -f FILE (a Spark operator's application)`},
		{"another group", pod, []string{"sparkapplication.example.com/etl"}, `cannot migrate "sparkapplication.example.com/etl": SparkApplications are of sparkoperator.k8s.io or spark.apache.org`},
		{"source and file", pod, []string{"pod/" + pod.Name, "-f", "x.yaml"}, "give either a source (pod/" + pod.Name + ") or -f FILE, not both"},
		{"no such app", pod, []string{"sparkapplication/etl"}, `sparkapplication "etl" not found in namespace etl`},
		{"no source", pod, nil, "missing the source: kubectl sparkha migrate (pod/NAME | sparkapplication/NAME | -f FILE) [-n NAMESPACE]"},
		{"wait without apply", pod, []string{"pod/" + pod.Name, "--wait"}, "--wait needs --apply: without it nothing starts"},
		{"a lost executor template", lostTemplate, []string{"pod/" + pod.Name, "--apply", "--yes"}, "cannot migrate pod/" + pod.Name + ": 1 field(s) of it have no equivalent in a sparkha Job (listed above): spark.properties spark.kubernetes.executor.podTemplateFile; nothing was changed"},
		{"a lost executor template, printed", lostTemplate, []string{"pod/" + pod.Name}, "cannot migrate pod/" + pod.Name + ": 1 field(s) of it have no equivalent in a sparkha Job (listed above): spark.properties spark.kubernetes.executor.podTemplateFile; nothing was changed"},
		{"another claim", pod, []string{"pod/" + pod.Name, "--checkpoint-claim", "other"}, "--checkpoint-claim other: the driver's checkpoint claim is etl-state, its only claim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := cm
			if tt.pod == lostTemplate {
				conf = templateConf
			}
			client := fake.NewClientset(tt.pod, conf, pvc)
			_, _, err := runMigrate(t, client, append(tt.args, "-n", "etl")...)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v\nwant %s", err, tt.want)
			}
			if w := writes(client); len(w) != 0 {
				t.Errorf("a refused migrate wrote: %v", w)
			}
		})
	}
}

// TestMigrateApplyNeedsYes: without a terminal, --apply stops nothing unless --yes says so.
func TestMigrateApplyNeedsYes(t *testing.T) {
	pod, cm, pvc := migrateFixture(t)
	client := fake.NewClientset(pod, cm, pvc)
	_, _, err := runMigrate(t, client, "pod/"+pod.Name, "-n", "etl", "--apply")
	if err == nil || !strings.Contains(err.Error(), "confirm with --yes (there is no terminal to ask on); nothing was changed") {
		t.Fatalf("got %v", err)
	}
	var w []string
	for _, a := range client.Actions() {
		if _, ok := a.(k8stesting.CreateAction); ok {
			w = append(w, a.GetResource().Resource)
		}
	}
	if len(w) != 0 || len(writes(client)) != 0 {
		t.Errorf("wrote %v", writes(client))
	}
}
