package sparksubmit

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

var update = flag.Bool("update", false, "rewrite the fixtures of pkg/migrate/testdata")

// fixtureDir is where pkg/migrate's tests read what spark-submit leaves in the cluster.
const fixtureDir = "../../../pkg/migrate/testdata"

// Lines are the spark-submit lines of the fixtures, one per Spark version.
var lines = map[string]struct {
	version string
	args    []string
}{
	"spark-3.5": {"3.5.3", []string{"--master", "k8s://https://10.0.0.1:6443", "--deploy-mode", "cluster", "--name", "Nightly ETL",
		"--conf", "spark.kubernetes.container.image=spark:3.5.3", "--conf", "spark.kubernetes.namespace=etl",
		"--conf", "spark.kubernetes.driver.volumes.persistentVolumeClaim.state.options.claimName=etl-state",
		"--conf", "spark.kubernetes.driver.volumes.persistentVolumeClaim.state.mount.path=/state",
		"--conf", "spark.kubernetes.driver.label.team=data", "--conf", "spark.kubernetes.node.selector.pool=spark",
		"--conf", "spark.kubernetes.authenticate.driver.serviceAccountName=spark",
		"--conf", "spark.kubernetes.submission.waitAppCompletion=false",
		"--packages", "org.postgresql:postgresql:42.7.4", "--num-executors", "1", "--driver-memory", "2g", "--driver-cores", "2",
		"--class", "org.example.Etl", "local:///opt/app/etl.jar", "2026-11-29"}},
	"spark-4.0": {"4.0.0", []string{"--master", "k8s://https://10.0.0.1:6443", "--deploy-mode", "cluster", "--name", "clicks",
		"--conf", "spark.kubernetes.container.image=spark:4.0.0", "--conf", "spark.kubernetes.namespace=streaming",
		"--conf", "spark.kubernetes.driverEnv.TOPIC=clicks", "--conf", "spark.sql.shuffle.partitions=8",
		"--proxy-user", "etl", "--class", "com.example.Clicks", "local:///opt/app/clicks.jar", "--topic", "clicks"}},
}

func options(version string) Options {
	return Options{SparkVersion: version, User: "alice", Now: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC),
		Random: bytes.NewReader(bytes.Repeat([]byte{0xab, 0x12, 0x7f, 0x03}, 64))}
}

// TestBuild pins the objects of each line and writes them as pkg/migrate's fixtures
// (-update rewrites them).
func TestBuild(t *testing.T) {
	for name, l := range lines {
		t.Run(name, func(t *testing.T) {
			objs, err := Build(l.args, options(l.version))
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(objs, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(fixtureDir, name+".json")
			if *update {
				if err := os.WriteFile(file, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if string(want) != string(got)+"\n" {
				t.Errorf("%s is out of date: go test ./sandbox/sparksubmit -update\ngot:\n%s", file, got)
			}
		})
	}
}

// TestBuildFields checks what Spark's feature steps give the driver of the 3.5 line.
func TestBuildFields(t *testing.T) {
	l := lines["spark-3.5"]
	objs, err := Build(l.args, options(l.version))
	if err != nil {
		t.Fatal(err)
	}
	pod, cm, svc := objs.Pod, objs.ConfigMap, objs.Service
	prefix := strings.TrimSuffix(pod.Name, "-driver")
	if !strings.HasPrefix(pod.Name, "nightly-etl-ab127f") || pod.Namespace != "etl" || svc.Name != prefix+"-driver-svc" {
		t.Errorf("names: pod %s/%s, service %s", pod.Namespace, pod.Name, svc.Name)
	}
	if !strings.HasPrefix(cm.Name, "spark-drv-") || !strings.HasSuffix(cm.Name, "-conf-map") || cm.Data["spark.kubernetes.namespace"] != "etl" {
		t.Errorf("configmap %s %v", cm.Name, cm.Data)
	}
	appID := pod.Labels["spark-app-selector"]
	wantLabels := map[string]string{"spark-app-selector": appID, "spark-role": "driver", "spark-app-name": "nightly-etl", "spark-version": "3.5.3", "team": "data"}
	if len(appID) != 38 || !equalMaps(pod.Labels, wantLabels) || !equalMaps(svc.Spec.Selector, wantLabels) {
		t.Errorf("labels %v, selector %v", pod.Labels, svc.Spec.Selector)
	}
	c := pod.Spec.Containers[0]
	wantArgs := "driver --properties-file /opt/spark/conf/spark.properties --class org.example.Etl local:///opt/app/etl.jar 2026-11-29"
	if got := strings.Join(c.Args, " "); got != wantArgs || pod.Spec.RestartPolicy != corev1.RestartPolicyNever || pod.Spec.ServiceAccountName != "spark" {
		t.Errorf("args %q, restart %s, sa %s", got, pod.Spec.RestartPolicy, pod.Spec.ServiceAccountName)
	}
	var env []string
	for _, e := range c.Env {
		env = append(env, e.Name)
	}
	if got := strings.Join(env, ","); got != "SPARK_USER,SPARK_APPLICATION_ID,SPARK_DRIVER_BIND_ADDRESS,SPARK_LOCAL_DIRS,SPARK_CONF_DIR" {
		t.Errorf("env %s", got)
	}
	if m := c.Resources.Requests[corev1.ResourceMemory]; m.Cmp(resource.MustParse("2432Mi")) != 0 {
		t.Errorf("memory %s, want 2g + 384Mi", m.String())
	}
	var vols []string
	for _, v := range pod.Spec.Volumes {
		vols = append(vols, v.Name)
	}
	if got := strings.Join(vols, ","); got != "state,spark-local-dir-1,spark-conf-volume-driver" || pod.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "etl-state" {
		t.Errorf("volumes %s", got)
	}
	props := cm.Data["spark.properties"]
	for _, want := range []string{"#Java properties built from Kubernetes config map with name: " + cm.Name + "\n#Sun Nov 29 10:00:00 UTC 2026\n",
		"spark.app.id=" + appID + "\n", "spark.driver.host=" + svc.Name + ".etl.svc\n", "spark.kubernetes.driver.pod.name=" + pod.Name + "\n",
		"spark.master=k8s://https://10.0.0.1:6443\n", "spark.jars=local:///opt/app/etl.jar\n", "spark.jars.packages=org.postgresql:postgresql:42.7.4\n",
		"spark.app.submitTime=1795946400000\n", "spark.kubernetes.submitInDriver=true\n", "spark.kubernetes.resource.type=java\n"} {
		if !strings.Contains(props, want) {
			t.Errorf("spark.properties lacks %q:\n%s", want, props)
		}
	}
	for _, o := range [][]string{{cm.OwnerReferences[0].Kind, cm.OwnerReferences[0].Name}, {svc.OwnerReferences[0].Kind, svc.OwnerReferences[0].Name}} {
		if o[0] != "Pod" || o[1] != pod.Name {
			t.Errorf("owner %v", o)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
