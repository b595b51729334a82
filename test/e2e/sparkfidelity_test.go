package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubernetes/third_party/forked/golang/expansion"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/sparkrt"
)

// sparkReleases are the newest release of every Spark line the project names
// (pkg/submit/testdata/sparkkeys; test/hack/fetch-spark.sh pins them).
var sparkReleases = []string{"3.5.9", "4.0.5", "4.1.4", "4.2.1", "4.3.0"}

// TestSparkSubmitFidelity: Spark's own spark-submit of every line (its newest release, run as a
// client of the sandbox, in cluster mode) and `kubectl sparkha submit --spark-submit` of the
// same line build the same driver, Service and spark.properties, but for the differences
// docs/spark-conf.md gives reasons for: every other field of what spark-submit builds must be
// in what kubectl sparkha builds, with the same value.
func TestSparkSubmitFidelity(t *testing.T) {
	for _, version := range sparkReleases {
		t.Run(version, func(t *testing.T) {
			home := sparkSubmitHome(t, version)
			e := start(t, twoNodes)
			const ns = "fidelity"
			e.namespace(ns)
			if _, err := e.client().CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "spark"}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			t.Setenv("SPARK_USER", "alice") // the submitting user, for both (Utils.getCurrentUserName)
			line := []string{"--master", fmt.Sprintf("k8s://https://127.0.0.1:%d", e.sb.State.APIPort), "--deploy-mode", "cluster",
				"--name", "Fidelity Check", "--proxy-user", "etl", "--driver-memory", "2g", "--driver-cores", "2",
				"--conf", "spark.kubernetes.container.image=apache/spark:" + version, "--conf", "spark.kubernetes.namespace=" + ns,
				"--conf", "spark.kubernetes.submission.waitAppCompletion=false",
				"--conf", "spark.kubernetes.authenticate.driver.serviceAccountName=spark",
				"--conf", "spark.kubernetes.container.image.pullSecrets=regcred",
				"--conf", "spark.kubernetes.driver.label.team=data", "--conf", "spark.kubernetes.driver.annotation.owner=data-eng",
				"--conf", "spark.kubernetes.driverEnv.TOPIC=clicks", "--conf", "spark.kubernetes.driver.secretKeyRef.DB_PASSWORD=db:password",
				"--conf", "spark.kubernetes.driver.secrets.tls=/etc/tls", "--conf", "spark.kubernetes.node.selector.pool=spark",
				"--conf", "spark.kubernetes.driver.request.cores=500m", "--conf", "spark.kubernetes.driver.limit.cores=2",
				"--conf", "spark.kubernetes.driver.service.label.tier=gold", "--conf", "spark.kubernetes.driver.service.annotation.scrape=yes",
				"--conf", "spark.kubernetes.driver.volumes.emptyDir.scratch.mount.path=/scratch",
				"--conf", "spark.ui.port=4050", "--conf", "spark.sql.shuffle.partitions=8",
				// $(VAR) in the application's arguments: Kubernetes expands it in the driver's
				// args, from the driver container's env, under both ("expanded app args").
				"--class", "org.example.Etl", "local:///opt/app/etl.jar", "2026-11-29", "$(TOPIC)", "$$(TOPIC)", "$(SPARK_DRIVER_POD_NAME)", "cost=$5"}
			if version >= "4.3" {
				line = slices.Insert(line, 4, "--conf", "spark.kubernetes.driver.service.publishNotReadyAddresses=true")
			}

			began := time.Now()
			if _, stderr, err := e.runAll(home+"/bin/spark-submit", line...); err != nil {
				t.Fatalf("spark-submit %s: %v\n%s", version, err, stderr)
			}
			t.Logf("spark-submit %s created its driver in %.1fs", version, time.Since(began).Seconds())
			theirs := sparkSubmitted(t, e, ns)

			out, stderr, code := e.cli(append([]string{"submit", "--spark-submit", "--dry-run=server", "-o", "json", "--"}, line...)...)
			if code != 0 {
				t.Fatalf("submit --spark-submit: exit %d\n%s", code, stderr)
			}
			ours := sparkhaSubmitted(t, out)

			got := diffFacts(theirs, ours)
			want := fidelityDifferences(version)
			var unexpected, missing []string
			for k, d := range got {
				if w, ok := want[k]; !ok || w != d {
					unexpected = append(unexpected, fmt.Sprintf("%s: %s", k, d))
				}
			}
			for k, d := range want {
				if _, ok := got[k]; !ok {
					missing = append(missing, fmt.Sprintf("%s: %s", k, d))
				}
			}
			sort.Strings(unexpected)
			sort.Strings(missing)
			if len(unexpected) > 0 || len(missing) > 0 {
				t.Errorf("Spark %s's spark-submit and kubectl sparkha differ beyond the documented differences:\n  unexpected:\n    %s\n  documented but not seen:\n    %s",
					version, strings.Join(unexpected, "\n    "), strings.Join(missing, "\n    "))
			}
			t.Logf("Spark %s: %d facts of spark-submit's driver compared, %d documented differences", version, len(theirs), len(got))
		})
	}
}

// sparkSubmitHome is the Spark distribution of version for its spark-submit client: it needs a
// JVM, not root, but the distribution is fetched only where the real-Spark scenarios run.
func sparkSubmitHome(t *testing.T, version string) string {
	t.Helper()
	if _, err := exec.LookPath("java"); err != nil {
		t.Skip("spark-submit needs a JVM (java on PATH)")
	}
	if why := sparkrt.Supported(); why != "" {
		if err := exec.Command("../hack/fetch-spark.sh", "--cached", version).Run(); err != nil {
			t.Skipf("%s, and Spark %s is not cached (make spark-dist)", why, version)
		}
	}
	out, err := exec.Command("../hack/fetch-spark.sh", version).Output()
	if err != nil {
		t.Fatalf("fetch-spark.sh %s: %v", version, err)
	}
	return strings.TrimSpace(string(out))
}

// facts are the comparable fields of what one client built, "what" → value.
type facts map[string]string

// sparkSubmitted reads what spark-submit created in ns: its driver pod, the Service and the
// ConfigMap it owns, and any NetworkPolicy.
func sparkSubmitted(t *testing.T, e *env, ns string) facts {
	t.Helper()
	c := e.client()
	pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "spark-role=driver"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("spark-submit's driver pods: %v %v", describePods(pods.Items), err)
	}
	pod := pods.Items[0]
	f := facts{}
	podFacts(f, pod.ObjectMeta, pod.Spec)
	svcs, err := c.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(svcs.Items) != 1 {
		t.Fatalf("spark-submit's Services: %v %v", svcs, err)
	}
	serviceFacts(f, &svcs.Items[0])
	for _, v := range pod.Spec.Volumes {
		if v.ConfigMap != nil && v.Name == submit.SparkConfVolume {
			cm, err := c.CoreV1().ConfigMaps(ns).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			propertiesFacts(t, f, cm.Data[submit.SparkConfFile])
		}
	}
	nps, err := c.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, np := range nps.Items {
		f["networkpolicy"] = fmt.Sprintf("podSelector %v", np.Spec.PodSelector.MatchLabels)
	}
	return f
}

// sparkhaSubmitted reads the objects `submit -o json` printed (a v1 List).
func sparkhaSubmitted(t *testing.T, out string) facts {
	t.Helper()
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("submit -o json: %v\n%s", err, out)
	}
	f := facts{}
	for _, raw := range list.Items {
		var meta metav1.TypeMeta
		_ = json.Unmarshal(raw, &meta)
		switch meta.Kind {
		case "Job":
			var job batchv1.Job
			if err := json.Unmarshal(raw, &job); err != nil {
				t.Fatal(err)
			}
			podFacts(f, job.Spec.Template.ObjectMeta, job.Spec.Template.Spec)
		case "Service":
			var svc corev1.Service
			if err := json.Unmarshal(raw, &svc); err != nil {
				t.Fatal(err)
			}
			serviceFacts(f, &svc)
		case "NetworkPolicy":
			var np networkingv1.NetworkPolicy
			if err := json.Unmarshal(raw, &np); err != nil {
				t.Fatal(err)
			}
			f["networkpolicy"] = fmt.Sprintf("podSelector %v", np.Spec.PodSelector.MatchLabels)
		case "ConfigMap":
			var cm corev1.ConfigMap
			if err := json.Unmarshal(raw, &cm); err != nil {
				t.Fatal(err)
			}
			propertiesFacts(t, f, cm.Data[submit.SparkConfFile])
		}
	}
	return f
}

func podFacts(f facts, meta metav1.ObjectMeta, spec corev1.PodSpec) {
	for k, v := range meta.Labels {
		f["pod label "+k] = v
	}
	for k, v := range meta.Annotations {
		f["pod annotation "+k] = v
	}
	for k, v := range spec.NodeSelector {
		f["nodeSelector "+k] = v
	}
	f["serviceAccountName"] = spec.ServiceAccountName
	f["restartPolicy"] = string(spec.RestartPolicy)
	for _, s := range spec.ImagePullSecrets {
		f["imagePullSecret "+s.Name] = "yes"
	}
	c := spec.Containers[0]
	f["containers"] = fmt.Sprint(len(spec.Containers))
	f["image"], f["imagePullPolicy"] = c.Image, string(c.ImagePullPolicy)
	f["args"] = strings.Join(c.Args, " ")
	// What the application receives of its arguments (the last four of the line), as the
	// kubelet expands them with the container's env (ExpandContainerCommandAndArgs).
	vars := map[string]string{}
	for _, e := range c.Env {
		vars[e.Name] = e.Value
		if e.ValueFrom != nil {
			vars[e.Name] = "<" + e.Name + ">"
		}
	}
	var expanded []string
	for _, a := range c.Args[max(0, len(c.Args)-4):] {
		expanded = append(expanded, expansion.Expand(a, expansion.MappingFuncFor(vars)))
	}
	f["expanded app args"] = strings.Join(expanded, " ")
	for _, p := range c.Ports {
		f["port "+p.Name] = fmt.Sprintf("%d/%s", p.ContainerPort, p.Protocol)
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
			f["env "+e.Name] = "fieldRef " + e.ValueFrom.FieldRef.FieldPath
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			f["env "+e.Name] = "secret " + e.ValueFrom.SecretKeyRef.Name + ":" + e.ValueFrom.SecretKeyRef.Key
		default:
			f["env "+e.Name] = e.Value
		}
	}
	for name, q := range c.Resources.Requests {
		f["request "+string(name)] = q.String()
	}
	for name, q := range c.Resources.Limits {
		f["limit "+string(name)] = q.String()
	}
	if sc := c.SecurityContext; sc != nil {
		b, _ := json.Marshal(sc)
		f["securityContext"] = string(b)
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	for _, m := range c.VolumeMounts {
		if strings.HasPrefix(m.Name, "kube-api-access-") {
			continue // the API server's service account token, on every admitted pod
		}
		v := volumes[m.Name]
		kind := "?"
		switch {
		case v.ConfigMap != nil:
			kind = "configMap"
		case v.Secret != nil:
			kind = "secret " + v.Secret.SecretName
		case v.EmptyDir != nil:
			kind = "emptyDir"
		}
		f["mount "+m.Name] = m.MountPath + " " + kind
	}
}

func serviceFacts(f facts, svc *corev1.Service) {
	for k, v := range svc.Labels {
		f["service label "+k] = v
	}
	for k, v := range svc.Annotations {
		f["service annotation "+k] = v
	}
	f["service clusterIP"] = svc.Spec.ClusterIP
	f["service publishNotReadyAddresses"] = fmt.Sprint(svc.Spec.PublishNotReadyAddresses)
	if p := svc.Spec.IPFamilyPolicy; p != nil {
		f["service ipFamilyPolicy"] = string(*p)
	}
	f["service ipFamilies"] = fmt.Sprint(svc.Spec.IPFamilies)
	for _, p := range svc.Spec.Ports {
		proto := ""
		if p.AppProtocol != nil {
			proto = " " + *p.AppProtocol
		}
		f["service port "+p.Name] = fmt.Sprintf("%d→%s%s", p.Port, p.TargetPort.String(), proto)
	}
	for k, v := range svc.Spec.Selector {
		f["service selector "+k] = v
	}
}

func propertiesFacts(t *testing.T, f facts, text string) {
	t.Helper()
	props, err := submit.ReadProperties("spark.properties", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range props {
		f["property "+k] = v
	}
}

// perRun are the values spark-submit makes anew for every run, masked so that the
// differences are the same from one run to the next.
var perRun = []struct {
	re   *regexp.Regexp
	mask string
}{
	{regexp.MustCompile(`spark-[0-9a-f]{32}`), "spark-APPID"},
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "UUID"},
	{regexp.MustCompile(`fidelity-check-[0-9a-f]{16}`), "fidelity-check-PREFIX"},
	{regexp.MustCompile(`^[0-9]{13}$`), "MILLIS"},
	{regexp.MustCompile(`https://127\.0\.0\.1:[0-9]+`), "https://APISERVER"},
}

func maskRun(v string) string {
	for _, p := range perRun {
		v = p.re.ReplaceAllString(v, p.mask)
	}
	return v
}

// diffFacts lists every fact of theirs that ours lacks or differs in, and every fact ours adds:
// "what" → "spark-submit X, sparkha Y" (a missing side is "-").
func diffFacts(theirs, ours facts) map[string]string {
	out := map[string]string{}
	for k, v := range theirs {
		v = maskRun(v)
		if o, ok := ours[k]; !ok {
			out[k] = fmt.Sprintf("spark-submit %s, sparkha -", v)
		} else if o = maskRun(o); o != v {
			out[k] = fmt.Sprintf("spark-submit %s, sparkha %s", v, o)
		}
	}
	for k, o := range ours {
		if _, ok := theirs[k]; !ok {
			out[k] = "spark-submit -, sparkha " + maskRun(o)
		}
	}
	return out
}

// fidelityDifferences are the differences docs/spark-conf.md explains, per Spark line ("-" is
// a side without the fact; APPID, UUID and PREFIX stand for values made anew by every run).
func fidelityDifferences(version string) map[string]string {
	d := map[string]string{
		// Each generation's identity and address, passed per pod ("Application ID", "One
		// generation, one driver address").
		// sparkha's own variables, which spark-submit's pod lacks, are escaped in the user's
		// arguments, so that they stay as written there too.
		"args": "spark-submit driver --proxy-user etl --properties-file /opt/spark/conf/spark.properties --class org.example.Etl local:///opt/app/etl.jar 2026-11-29 $(TOPIC) $$(TOPIC) $(SPARK_DRIVER_POD_NAME) cost=$5, " +
			"sparkha driver --proxy-user etl --properties-file /opt/spark/conf/spark.properties --conf spark.kubernetes.driver.pod.name=$(SPARK_DRIVER_POD_NAME) --conf spark.app.id=spark-$(SPARK_DRIVER_POD_UID) --conf spark.driver.host=$(SPARK_DRIVER_POD_IP) --class org.example.Etl local:///opt/app/etl.jar 2026-11-29 $(TOPIC) $$(TOPIC) $$(SPARK_DRIVER_POD_NAME) cost=$5",
		"env SPARK_APPLICATION_ID":                  "spark-submit spark-APPID, sparkha spark-$(SPARK_DRIVER_POD_UID)",
		"env SPARK_DRIVER_POD_IP":                   "spark-submit -, sparkha fieldRef status.podIP",
		"env SPARK_DRIVER_POD_NAME":                 "spark-submit -, sparkha fieldRef metadata.name",
		"env SPARK_DRIVER_POD_UID":                  "spark-submit -, sparkha fieldRef metadata.uid",
		"property spark.app.id":                     "spark-submit spark-APPID, sparkha -",
		"property spark.driver.host":                "spark-submit fidelity-check-PREFIX-driver-svc.fidelity.svc, sparkha -",
		"property spark.kubernetes.driver.pod.name": "spark-submit fidelity-check-PREFIX-driver, sparkha -",
		"property spark.app.submitTime":             "spark-submit MILLIS, sparkha -",
		// The local dir is named after the app's ID, not a random UUID.
		"env SPARK_LOCAL_DIRS":    "spark-submit /var/data/spark-UUID, sparkha /var/data/spark-APPID",
		"mount spark-local-dir-1": "spark-submit /var/data/spark-UUID emptyDir, sparkha /var/data/spark-APPID emptyDir",
		// Labels ("Labels"): the app's ID instead of a run's, no Spark version; the Job's own.
		"pod label spark-app-selector":                               "spark-submit spark-APPID, sparkha -",
		"pod label spark-version":                                    "spark-submit " + version + ", sparkha -",
		"pod label sparkha.io/app-id":                                "spark-submit -, sparkha spark-APPID",
		"pod label app.kubernetes.io/managed-by":                     "spark-submit -, sparkha kubectl-sparkha",
		"pod label app.kubernetes.io/name":                           "spark-submit -, sparkha fidelity-check",
		"pod label batch.kubernetes.io/controller-uid":               "spark-submit -, sparkha UUID",
		"pod label batch.kubernetes.io/job-name":                     "spark-submit -, sparkha fidelity-check",
		"pod label controller-uid":                                   "spark-submit -, sparkha UUID",
		"pod label job-name":                                         "spark-submit -, sparkha fidelity-check",
		"property spark.kubernetes.executor.label.sparkha.io/app-id": "spark-submit -, sparkha spark-APPID",
		"service label spark-app-selector":                           "spark-submit spark-APPID, sparkha -",
		"service label sparkha.io/app-id":                            "spark-submit -, sparkha spark-APPID",
		"service label spark-app-name":                               "spark-submit -, sparkha fidelity-check",
		"service label app.kubernetes.io/managed-by":                 "spark-submit -, sparkha kubectl-sparkha",
		"service label app.kubernetes.io/name":                       "spark-submit -, sparkha fidelity-check",
		// The Service selects every generation's driver by the app's ID and role, where Spark's
		// selects its one pod by all its labels.
		"service selector spark-app-selector": "spark-submit spark-APPID, sparkha -",
		"service selector spark-app-name":     "spark-submit fidelity-check, sparkha -",
		"service selector spark-version":      "spark-submit " + version + ", sparkha -",
		"service selector team":               "spark-submit data, sparkha -",
		"service selector sparkha.io/app-id":  "spark-submit -, sparkha spark-APPID",
		// In the pod, not the submitting machine: the API server and the Job's settings.
		"property spark.master":                             "spark-submit k8s://https://APISERVER, sparkha k8s://https://kubernetes.default.svc",
		"property spark.kubernetes.driver.job.backofflimit": "spark-submit -, sparkha 6",
		// Values written in full: what Spark would take by default, memory in MiB, and no
		// empty spark.submit.pyFiles (SparkSubmit writes it for every JVM app).
		"property spark.driver.memory":   "spark-submit 2g, sparkha 2048m",
		"property spark.executor.cores":  "spark-submit -, sparkha 1",
		"property spark.executor.memory": "spark-submit -, sparkha 1024m",
		"property spark.submit.pyFiles":  "spark-submit , sparkha -",
	}
	switch {
	case version < "4.1":
		// The newest line's driver, whatever Spark the image runs: Spark Connect's port (4.1)...
		d["port spark-connect"] = "spark-submit -, sparkha 15002/TCP"
		d["service port spark-connect"] = "spark-submit -, sparkha 15002→15002 grpc"
	case version < "4.2":
		// ... with its appProtocol (4.2).
		d["service port spark-connect"] = "spark-submit 15002→15002, sparkha 15002→15002 grpc"
	}
	if version < "4.3" {
		// ... and 4.3's security context and SPARK_USER (the proxy user).
		d["securityContext"] = `spark-submit -, sparkha {"allowPrivilegeEscalation":false}`
		d["env SPARK_USER"] = "spark-submit alice, sparkha etl"
	}
	if version >= "4.2" {
		// The NetworkPolicy selects every generation's executors by the app's label.
		d["networkpolicy"] = "spark-submit podSelector map[spark-app-selector:spark-APPID spark-role:executor], sparkha podSelector map[spark-role:executor sparkha.io/app-id:spark-APPID]"
	} else {
		d["networkpolicy"] = "spark-submit -, sparkha podSelector map[spark-role:executor sparkha.io/app-id:spark-APPID]"
	}
	return d
}
