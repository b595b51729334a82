package submit

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/expansion"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// containerRuntime resolves a container's env and args the way the kubelet does for a pod
// with this name, UID and IP (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables, then
// pkg/kubelet/container/helpers.go ExpandContainerCommandAndArgs), with Kubernetes' own
// expansion rules (internal/expansion): env in order, a value seeing only the variables
// listed before it; then args with the whole environment. secretKeyRef values come from
// secrets[name][key].
func containerRuntime(t *testing.T, c corev1.Container, name string, uid types.UID, ip string) (map[string]string, []string) {
	t.Helper()
	return kubeletRuntime(t, c, podRuntime{name: name, uid: uid, ip: ip})
}

type podRuntime struct {
	name    string
	uid     types.UID
	ip      string
	secrets map[string]map[string]string
}

func kubeletRuntime(t *testing.T, c corev1.Container, rt podRuntime) (map[string]string, []string) {
	t.Helper()
	fields := map[string]string{"metadata.name": rt.name, "metadata.uid": string(rt.uid), "status.podIP": rt.ip}
	env := map[string]string{}
	mapping := expansion.MappingFuncFor(env)
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
			v, ok := fields[e.ValueFrom.FieldRef.FieldPath]
			if !ok {
				t.Fatalf("env %s: unexpected fieldRef %s", e.Name, e.ValueFrom.FieldRef.FieldPath)
			}
			env[e.Name] = v
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			v, ok := rt.secrets[ref.Name][ref.Key]
			if !ok {
				t.Fatalf("env %s: no key %s in secret %s", e.Name, ref.Key, ref.Name)
			}
			env[e.Name] = v
		case e.ValueFrom != nil:
			t.Fatalf("env %s: unexpected valueFrom %+v", e.Name, e.ValueFrom)
		default:
			env[e.Name] = expansion.Expand(e.Value, mapping)
		}
	}
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = expansion.Expand(a, mapping)
	}
	return env, args
}

// confArg returns the value of the `--conf KEY=VALUE` argument for key.
func confArg(args []string, key string) (string, bool) {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--conf" {
			if v, ok := strings.CutPrefix(args[i+1], key+"="); ok {
				return v, true
			}
		}
	}
	return "", false
}

// TestDriverGenerationAppID checks that every driver generation runs with its own
// spark.app.id (Spark finds its executors by it), while the app keeps one identity label.
func TestDriverGenerationAppID(t *testing.T) {
	app := resolveT(t, Input{CheckpointSize: "1Gi"})
	objs := Build(app, "job-uid")
	c := objs.Job.Spec.Template.Spec.Containers[0]

	// As written in the pod template: passed per pod, never in the shared properties file.
	if v, ok := confArg(c.Args, "spark.app.id"); !ok || v != "spark-$(SPARK_DRIVER_POD_UID)" {
		t.Errorf("args %q: want --conf spark.app.id=spark-$(SPARK_DRIVER_POD_UID)", c.Args)
	}
	if i := slices.Index(c.Args, "--class"); i < 0 || slices.Index(c.Args, "spark.app.id="+DriverAppIDRef) > i {
		t.Errorf("args %q: spark.app.id must come before --class (later arguments belong to the app)", c.Args)
	}
	if v, ok := app.Properties["spark.app.id"]; ok {
		t.Errorf("spark.properties has spark.app.id=%s; every generation reads that file", v)
	}
	if strings.Contains(objs.ConfigMap.Data[SparkConfFile], "spark.app.id") {
		t.Errorf("ConfigMap has spark.app.id:\n%s", objs.ConfigMap.Data[SparkConfFile])
	}

	// The app's identity label is on every object, on the driver pods and, through Spark's
	// executor label key, on every generation's executors; spark-app-selector is Spark's alone
	// (a generation's spark.app.id on its executors), so no object of the app carries it.
	for _, o := range objs.List() {
		if got := o.GetLabels()[sparkapp.LabelAppID]; got != testAppID {
			t.Errorf("%s: %s=%q, want the submit-time ID %s", o.GetName(), sparkapp.LabelAppID, got, testAppID)
		}
		if got, ok := o.GetLabels()[sparkapp.LabelAppSelector]; ok {
			t.Errorf("%s: %s=%q: that label is a generation's spark.app.id", o.GetName(), sparkapp.LabelAppSelector, got)
		}
	}
	if got := objs.Job.Spec.Template.Labels[sparkapp.LabelAppID]; got != testAppID {
		t.Errorf("pod template %s=%q, want %s", sparkapp.LabelAppID, got, testAppID)
	}
	if got, ok := objs.Job.Spec.Template.Labels[sparkapp.LabelAppSelector]; ok {
		t.Errorf("pod template %s=%q: no driver generation's spark.app.id is known before its pod exists", sparkapp.LabelAppSelector, got)
	}
	if got := app.Properties[ExecutorLabelPrefix+sparkapp.LabelAppID]; got != testAppID {
		t.Errorf("spark.properties %s%s=%q, want %s: executors of every generation carry the app's label", ExecutorLabelPrefix, sparkapp.LabelAppID, got, testAppID)
	}
	if got := objs.Service.Spec.Selector[sparkapp.LabelAppID]; got != testAppID || objs.Service.Spec.Selector[sparkapp.LabelSparkRole] != sparkapp.RoleDriver {
		t.Errorf("Service selects %v, want %s=%s and the driver role: it must reach every generation's driver", objs.Service.Spec.Selector, sparkapp.LabelAppID, testAppID)
	}

	// Spark 4.2's NetworkPolicy, by the app's label: every generation's executors admit every
	// generation's driver and executors, and nothing else.
	np := objs.NetworkPolicy
	if np == nil || np.Name != "clicks-policy" || len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) != 1 ||
		!reflect.DeepEqual(np.Spec.PodSelector.MatchLabels, map[string]string{sparkapp.LabelSparkRole: sparkapp.RoleExecutor, sparkapp.LabelAppID: testAppID}) ||
		!reflect.DeepEqual(np.Spec.Ingress[0].From[0].PodSelector.MatchLabels, map[string]string{sparkapp.LabelAppID: testAppID}) ||
		np.Spec.Ingress[0].From[0].NamespaceSelector != nil || len(np.Spec.Ingress[0].Ports) != 0 {
		t.Errorf("network policy %+v", np)
	}

	// As the kubelet runs it: two generations of the Job, two pod UIDs, two IDs.
	seen := map[string]bool{}
	for i, uid := range []types.UID{uuid.NewUUID(), uuid.NewUUID()} {
		name := []string{"clicks-abcde", "clicks-fghij"}[i]
		env, args := containerRuntime(t, c, name, uid, "10.0.0.1")
		id, _ := confArg(args, "spark.app.id")
		if want := sparkapp.GenerationAppID(uid); id != want || id != "spark-"+string(uid) {
			t.Errorf("generation %d: spark.app.id=%q, want %q", i, id, want)
		}
		if env[EnvApplicationID] != id {
			t.Errorf("generation %d: %s=%q, want spark.app.id %q", i, EnvApplicationID, env[EnvApplicationID], id)
		}
		if pod, _ := confArg(args, "spark.kubernetes.driver.pod.name"); pod != name {
			t.Errorf("generation %d: spark.kubernetes.driver.pod.name=%q, want %q", i, pod, name)
		}
		// Spark puts it on its executors as the spark-app-selector label.
		if errs := validation.IsValidLabelValue(id); len(errs) > 0 {
			t.Errorf("generation %d: spark.app.id %q is not a valid label value: %v", i, id, errs)
		}
		if id == testAppID || seen[id] {
			t.Errorf("generation %d: spark.app.id %q is not unique", i, id)
		}
		seen[id] = true
	}

	// The longest UID the API server can assign (a UUID, 36 characters) still fits a label.
	longest := sparkapp.GenerationAppID("ffffffff-ffff-ffff-ffff-ffffffffffff")
	if len(longest) > validation.LabelValueMaxLength {
		t.Errorf("%q has %d characters, more than a label value allows", longest, len(longest))
	}
}

func TestResolveRefusesAppID(t *testing.T) {
	for _, in := range []Input{
		{Conf: []string{"spark.app.id=spark-fixed"}},
		{PropertiesFile: "app.conf", PropertiesData: []byte("spark.app.id = spark-fixed\n")},
	} {
		in.Name, in.Namespace, in.AppID = "clicks", "streaming", testAppID
		in.Image, in.MainClass, in.AppResource = "apache/spark:4.0.0", "com.example.Clicks", "local:///app.jar"
		_, err := Resolve(in)
		if err == nil || !strings.HasPrefix(err.Error(), "spark.app.id in ") || !strings.Contains(err.Error(), "each driver generation gets its own") {
			t.Errorf("Resolve(%v, %q): error %v, want spark.app.id refused", in.Conf, in.PropertiesData, err)
		}
	}
}

const testAppID = "spark-0123456789abcdef0123456789abcdef"

// resolveT resolves the test app clicks in streaming, with in's other fields.
func resolveT(t *testing.T, in Input) *App {
	t.Helper()
	in.Name, in.Namespace, in.AppID = "clicks", "streaming", testAppID
	in.Image, in.MainClass, in.AppResource = "apache/spark:4.0.0", "com.example.Clicks", "local:///app.jar"
	app, err := Resolve(in)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func ptrTo[T any](v T) *T { return &v }
