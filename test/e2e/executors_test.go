package e2e

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

// executors lists the executor pods of one spark-app-selector, by executor id.
func (e *env) executors(ns, appID string) []corev1.Pod {
	e.t.Helper()
	list, err := e.client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "spark-role=executor,spark-app-selector=" + appID})
	if err != nil {
		e.t.Fatal(err)
	}
	pods := list.Items
	sort.Slice(pods, func(i, j int) bool { return pods[i].Labels["spark-exec-id"] < pods[j].Labels["spark-exec-id"] })
	return pods
}

func (e *env) runningExecutors(ns, appID string, n int) []corev1.Pod {
	e.t.Helper()
	var pods []corev1.Pod
	e.eventually(60*time.Second, fmt.Sprintf("%d executors of %s Running", n, appID), func() (bool, string) {
		pods = e.executors(ns, appID)
		running := 0
		for _, p := range pods {
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				running++
			}
		}
		return len(pods) == n && running == n, describePods(pods)
	})
	return pods
}

// TestExecutorsOfSubmittedApp: the driver of `kubectl sparkha submit` gets
// its executors as Spark's allocator creates them (the sandbox's stand-in):
// named from a fresh prefix, labelled with the generation's app id
// spark-<driver pod UID>, owned by the driver pod; inspect lists them under
// their generation. A new generation gets new executors; the garbage
// collector removes the old ones, which stopped before the new driver started.
func TestExecutorsOfSubmittedApp(t *testing.T) {
	e := start(t, twoNodes)
	const ns, app = "ex", "etl"
	e.namespace(ns)
	e.submit(app, "-n", ns, "--image", "spark:3.5.3", "--class", "org.example.Etl", "local:///opt/app/etl.jar",
		"--conf", "spark.executor.instances=3", "--conf", "spark.kubernetes.container.image.pullSecrets=regcred",
		"--conf", "spark.kubernetes.executor.label.tier=batch", "--conf", "spark.kubernetes.executor.annotation.team=data",
		"--node-lost-timeout", "5s", "--wait", "--timeout", "60s")
	driver := e.runningDriver(ns, app)
	appID := "spark-" + string(driver.UID)
	execs := e.runningExecutors(ns, appID, 3)
	name := regexp.MustCompile(`^etl-[0-9a-f]{6}[0-9a-f]{1,10}-exec-([1-3])$`)
	prefix := ""
	for i, p := range execs {
		m := name.FindStringSubmatch(p.Name)
		if m == nil || m[1] != fmt.Sprint(i+1) {
			t.Errorf("executor %d named %s, want etl-<uniqueID>-exec-%d", i+1, p.Name, i+1)
			continue
		}
		if pfx := strings.TrimSuffix(p.Name, "-exec-"+m[1]); prefix == "" {
			prefix = pfx
		} else if pfx != prefix {
			t.Errorf("executors of one driver run with two prefixes: %s, %s", prefix, pfx)
		}
		// Its generation's spark.app.id, and the app's ID that every generation's executors share.
		for k, v := range map[string]string{"spark-role": "executor", "spark-app-selector": appID, "spark-exec-id": m[1],
			"spark-exec-resourceprofile-id": "0", "spark-app-name": app, "tier": "batch", sparkapp.LabelAppID: driver.Labels[sparkapp.LabelAppID]} {
			if p.Labels[k] != v {
				t.Errorf("%s: label %s=%q, want %q", p.Name, k, p.Labels[k], v)
			}
		}
		if p.Annotations["team"] != "data" {
			t.Errorf("%s: annotations %v", p.Name, p.Annotations)
		}
		refs := p.OwnerReferences
		if len(refs) != 1 || refs[0].UID != driver.UID || refs[0].Kind != "Pod" || refs[0].Name != driver.Name || refs[0].Controller == nil || !*refs[0].Controller {
			t.Errorf("%s: owner references %+v, want the driver pod %s (%s) as controller", p.Name, refs, driver.Name, driver.UID)
		}
		c := p.Spec.Containers
		if p.Spec.RestartPolicy != corev1.RestartPolicyNever || len(c) != 1 || c[0].Image != "spark:3.5.3" ||
			len(p.Spec.ImagePullSecrets) != 1 || p.Spec.ImagePullSecrets[0].Name != "regcred" {
			t.Errorf("%s: restartPolicy %s containers %+v pull secrets %v", p.Name, p.Spec.RestartPolicy, c, p.Spec.ImagePullSecrets)
		}
	}

	got := e.verdict(ns, app, "e1-executors-running", analysis.Healthy)
	if len(got.Drivers) != 1 {
		t.Fatalf("inspect: %s (%s), %d drivers", got.Verdict, got.Reason, len(got.Drivers))
	}
	d := got.Drivers[0]
	var listed []string
	for _, x := range d.Executors {
		listed = append(listed, x.Pod+"/"+x.Phase)
	}
	var want []string
	for _, p := range execs {
		want = append(want, p.Name+"/Running")
	}
	if strings.Join(listed, ",") != strings.Join(want, ",") || d.ExecutorCounts == nil || d.ExecutorCounts.Running != 3 || d.ExecutorCounts.Total != 3 {
		t.Errorf("inspect lists executors %v (counts %+v), want %v", listed, d.ExecutorCounts, want)
	}
	table, err := e.run(bins.Plugin, "inspect", app, "-n", ns)
	if err != nil || !strings.Contains(table, " 3/3 ") {
		t.Errorf("inspect table has no EXEC 3/3 (%v):\n%s", err, table)
	}

	// A new generation: the driver pod is deleted (as an eviction would).
	e.kubectl("delete", "pod", driver.Name, "-n", ns, "--wait=false")
	var next *corev1.Pod
	e.eventually(60*time.Second, "the next driver Running", func() (bool, string) {
		var pods []corev1.Pod
		next, pods = e.replacement(ns, app, driver.Name)
		return next != nil && next.Status.Phase == corev1.PodRunning, describePods(pods)
	})
	nextExecs := e.runningExecutors(ns, "spark-"+string(next.UID), 3)
	if strings.HasPrefix(nextExecs[0].Name, prefix+"-") {
		t.Errorf("the next generation reuses the prefix %s", prefix)
	}
	e.eventually(30*time.Second, "old executors garbage-collected", func() (bool, string) {
		old := e.executors(ns, appID)
		return len(old) == 0, describePods(old)
	})
	ivs := e.allTruth(ns)
	var gen1, gen2 truth.Interval
	for _, iv := range ivs {
		switch iv.UID {
		case string(driver.UID):
			gen1 = iv
		case string(next.UID):
			gen2 = iv
		}
	}
	n := 0
	for _, iv := range ivs {
		if iv.Role != "executor" || iv.Driver != string(driver.UID) {
			continue
		}
		n++
		if iv.Running() || iv.AppID != appID {
			t.Errorf("executor %s of generation 1: still running or app id %q", iv, iv.AppID)
			continue
		}
		t.Logf("executor %s stopped %s after its driver stopped, %s before the next driver started",
			iv.Pod, iv.End.Sub(gen1.End).Round(time.Millisecond), gen2.Start.Sub(iv.End).Round(time.Millisecond))
		if iv.End.After(gen2.Start.Add(executorBound)) {
			t.Errorf("executor %s ran past the next driver's start %s by more than %s", iv, gen2.Start, executorBound)
		}
	}
	if n != 3 {
		t.Errorf("ground truth: %d executor runs of generation 1, want 3: %v", n, ivs)
	}

	// The second driver's machine is cut off: the driver runs on, and so do
	// its executors on the other machine, while the API shows the driver
	// evicted. inspect says so beside the stuck driver's verdict.
	lost := next.Spec.NodeName
	var away []string
	for _, p := range nextExecs {
		if p.Spec.NodeName != lost {
			away = append(away, p.Name)
		}
	}
	if len(away) == 0 {
		t.Logf("every executor of %s landed on its driver's node %s: no stray executors to show", next.Name, lost)
		return
	}
	must(t, e.sb.Partition(lost))
	e.waitNodeLost(lost)
	e.waitEvicted(ns, next.Name)
	stuck := e.verdict(ns, app, "e2-partitioned-driver-executors", analysis.StuckTerminating)
	if len(stuck.Warnings) != 1 || !strings.Contains(stuck.Warnings[0], "("+next.Name+", deleted) still run") ||
		!strings.Contains(stuck.Warnings[0], "kubectl delete pod -n ex -l spark-role=executor,spark-app-selector=spark-"+string(next.UID)) {
		t.Errorf("inspect warnings %q: want executors %v of the deleted driver %s flagged", stuck.Warnings, away, next.Name)
	}
	for _, name := range away {
		if !strings.Contains(stuck.Warnings[0], name) {
			t.Errorf("warning does not name executor %s: %q", name, stuck.Warnings)
		}
	}
	must(t, e.sb.Rejoin(lost))
	e.eventually(60*time.Second, "generation 3 Running with its executors", func() (bool, string) {
		pods := e.jobPods(ns, app)
		if len(pods) == 0 {
			return false, "no driver pod"
		}
		last := pods[len(pods)-1]
		return last.UID != next.UID && last.UID != driver.UID && last.Status.Phase == corev1.PodRunning &&
			len(e.executors(ns, "spark-"+string(last.UID))) == 3, describePods(pods)
	})
	ivs = e.allTruth(ns)
	gen2, _ = truth.Process(ivs, string(next.UID))
	for _, iv := range ivs {
		if iv.Role == "executor" && iv.Driver == string(next.UID) {
			if iv.Running() || iv.End.Before(gen2.End) {
				t.Errorf("executor %s of the partitioned driver: want it stopped when its driver stopped (%s)", iv, gen2.End)
				continue
			}
			t.Logf("executor %s stopped %s after its partitioned driver stopped", iv.Pod, iv.End.Sub(gen2.End).Round(time.Millisecond))
		}
	}
}

// executorTemplate is the executor pod template as submit ships it (key
// pod-spec-template.yml of NAME-spark-conf, mounted at /opt/spark/pod-template).
const executorTemplate = `apiVersion: v1
kind: Pod
metadata:
  labels:
    team: data
  annotations:
    example.com/owner: alice
spec:
  nodeSelector:
    kubernetes.io/os: linux
  containers:
  - name: log-shipper
    image: busybox:1.36
  - name: spark
    image: ignored-by-spark
    env:
    - name: FROM_TEMPLATE
      value: "yes"
`

// TestExecutorPodTemplate: a driver whose spark.properties names an executor
// pod template gets executors built on it as Spark merges them: the
// template's labels, annotations, node selector and other containers stay;
// the container named by podTemplateContainerName is the Spark container.
// Without spark.app.id (a spark-submit driver) the executors carry the
// driver's own spark-app-selector.
func TestExecutorPodTemplate(t *testing.T) {
	e := start(t, twoNodes)
	const ns = "tpl"
	e.namespace(ns)
	c := e.client()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "pi-spark-conf", Namespace: ns}, Data: map[string]string{
		"spark.properties": strings.Join([]string{"spark.app.name=pi", "spark.driver.host=pi-driver-svc.tpl.svc",
			"spark.kubernetes.container.image=spark:3.5.3", "spark.executor.instances=2",
			"spark.kubernetes.executor.podTemplateFile=/opt/spark/pod-template/pod-spec-template.yml",
			"spark.kubernetes.executor.podTemplateContainerName=spark", ""}, "\n"),
		"pod-spec-template.yml": executorTemplate,
	}}
	if _, err := c.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	driver := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pi-driver", Namespace: ns,
			Labels: map[string]string{"spark-role": "driver", "spark-app-selector": "spark-0123456789abcdef", "spark-app-name": "pi"}},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: "spark-kubernetes-driver", Image: "spark:3.5.3",
				Args: []string{"driver", "--properties-file", "/opt/spark/conf/spark.properties", "--class", "Pi", "local:///pi.jar"},
				VolumeMounts: []corev1.VolumeMount{{Name: "spark-conf-volume-driver", MountPath: "/opt/spark/conf"},
					{Name: "pod-template-volume", MountPath: "/opt/spark/pod-template"}}}},
			Volumes: []corev1.Volume{
				{Name: "spark-conf-volume-driver", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}, Items: []corev1.KeyToPath{{Key: "spark.properties", Path: "spark.properties"}}}}},
				{Name: "pod-template-volume", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}, Items: []corev1.KeyToPath{{Key: "pod-spec-template.yml", Path: "pod-spec-template.yml"}}}}},
			},
		},
	}
	created, err := c.CoreV1().Pods(ns).Create(ctx, driver, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	execs := e.runningExecutors(ns, "spark-0123456789abcdef", 2)
	for _, p := range execs {
		if !strings.HasPrefix(p.Name, "pi-") || p.Labels["team"] != "data" || p.Annotations["example.com/owner"] != "alice" ||
			p.Spec.NodeSelector["kubernetes.io/os"] != "linux" || p.OwnerReferences[0].UID != created.UID {
			t.Errorf("%s: labels %v annotations %v nodeSelector %v owners %+v", p.Name, p.Labels, p.Annotations, p.Spec.NodeSelector, p.OwnerReferences)
		}
		cs := p.Spec.Containers
		if len(cs) != 2 || cs[0].Name != "log-shipper" || cs[0].Image != "busybox:1.36" || cs[1].Name != "spark" || cs[1].Image != "spark:3.5.3" {
			t.Fatalf("%s: containers %+v, want log-shipper then the Spark container spark", p.Name, cs)
		}
		env := map[string]string{}
		for _, v := range cs[1].Env {
			env[v.Name] = v.Value
		}
		if env["FROM_TEMPLATE"] != "yes" || env["SPARK_APPLICATION_ID"] != "spark-0123456789abcdef" || env["SPARK_EXECUTOR_ID"] != p.Labels["spark-exec-id"] ||
			cs[1].Args[len(cs[1].Args)-1] != "executor" {
			t.Errorf("%s: Spark container env %v args %v", p.Name, env, cs[1].Args)
		}
	}
	// The bare driver's executors exit when it does (its pod is deleted: the
	// kubelet kills it, then the garbage collector removes the executors).
	e.kubectl("delete", "pod", driver.Name, "-n", ns, "--wait=true")
	e.eventually(30*time.Second, "executors stopped and collected", func() (bool, string) {
		left := e.executors(ns, "spark-0123456789abcdef")
		stopped := true
		for _, iv := range e.executorTruth(ns) {
			stopped = stopped && !iv.Running()
		}
		return len(left) == 0 && stopped, describePods(left)
	})
}
