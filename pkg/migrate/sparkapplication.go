package migrate

// FromSparkApplication reads a SparkApplication of either Spark operator, without their Go
// types: the Kubeflow Spark Operator's sparkoperator.k8s.io/v1beta2 (api/v1beta2/
// sparkapplication_types.go) and Apache's spark-kubernetes-operator's spark.apache.org
// (spark-operator-api's ApplicationSpec, resolved as spark-submission-worker's
// SparkAppSubmissionWorker.getResolvedSparkConf does).

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

// FromSparkApplication converts obj, a SparkApplication, into the submit request that runs the same
// application (name, namespace, image, class, resource, arguments, Spark conf, sizes, service
// account, proxy user, retries, the checkpoint claim), and the fields it could not carry over.
// An object that is not a SparkApplication of either operator, or one that runs in client mode,
// is an error.
func FromSparkApplication(obj *unstructured.Unstructured) (submit.Input, []Dropped, error) {
	gv := obj.GroupVersionKind()
	if gv.Kind != "SparkApplication" || (gv.Group != sparkapp.OperatorKubeflow && gv.Group != sparkapp.OperatorApache) {
		return submit.Input{}, nil, fmt.Errorf("%s %s is not a SparkApplication of %s or %s", obj.GetAPIVersion(), obj.GetKind(), sparkapp.OperatorKubeflow, sparkapp.OperatorApache)
	}
	c := &appConverter{in: submit.Input{Namespace: obj.GetNamespace()}, conf: map[string]string{}}
	c.in.Name = submit.JobName(obj.GetName())
	if c.in.Name == "" {
		return submit.Input{}, nil, fmt.Errorf("cannot make a Job name of the SparkApplication name %q", obj.GetName())
	}
	spec, _, _ := unstructured.NestedMap(obj.Object, "spec")
	var err error
	if gv.Group == sparkapp.OperatorKubeflow {
		err = c.kubeflow(spec)
	} else {
		err = c.apache(spec)
	}
	if err != nil {
		return submit.Input{}, nil, fmt.Errorf("SparkApplication %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	for _, k := range sortedKeys(c.conf) {
		c.in.Conf = append(c.in.Conf, k+"="+c.conf[k])
	}
	sort.Slice(c.dropped, func(i, j int) bool { return c.dropped[i].Field < c.dropped[j].Field })
	return c.in, c.dropped, nil
}

type appConverter struct {
	in      submit.Input
	conf    map[string]string
	dropped []Dropped
}

// drop records a field not carried; fatal as Dropped.Fatal defines it.
func (c *appConverter) drop(fatal bool, field, why string) {
	c.dropped = append(c.dropped, Dropped{Field: field, Why: why, Fatal: fatal})
}

// podTemplateWhy is why a pod-level field cannot be carried: submit builds the pods from Spark
// conf keys and pod template files, which migrate does not write.
const podTemplateWhy = "no Spark conf key sets it: put it in a pod template file and pass it with --conf spark.kubernetes.driver.podTemplateFile (or executor)"

// kubeflow reads a sparkoperator.k8s.io/v1beta2 spec (SparkApplicationSpec).
func (c *appConverter) kubeflow(spec map[string]any) error {
	if mode := strAt(spec, "mode"); mode != "" && mode != "cluster" {
		return fmt.Errorf("spec.mode %s: kubectl sparkha runs the driver in the cluster; only mode cluster can be migrated", mode)
	}
	c.in.Image = strAt(spec, "image")
	c.in.MainClass = strAt(spec, "mainClass")
	c.in.AppResource = strAt(spec, "mainApplicationFile")
	c.in.AppArgs = strs(spec, "arguments")
	c.in.ProxyUser = strAt(spec, "proxyUser")
	c.set("spark.kubernetes.container.image.pullPolicy", strAt(spec, "imagePullPolicy"))
	c.set("spark.kubernetes.container.image.pullSecrets", strings.Join(strs(spec, "imagePullSecrets"), ","))
	for k, v := range strMap(spec, "sparkConf") {
		c.set(k, v)
	}
	// The operator prefixes hadoopConf keys with spark.hadoop. (SparkApplicationSpec.HadoopConf).
	for k, v := range strMap(spec, "hadoopConf") {
		c.set("spark.hadoop."+k, v)
	}
	deps := mapAt(spec, "deps")
	for field, key := range map[string]string{"jars": "spark.jars", "files": "spark.files", "pyFiles": "spark.submit.pyFiles",
		"packages": "spark.jars.packages", "excludePackages": "spark.jars.excludes", "repositories": "spark.jars.repositories",
		"archives": "spark.archives"} {
		c.set(key, strings.Join(strs(deps, field), ","))
	}
	c.set("spark.kubernetes.memoryOverheadFactor", strAt(spec, "memoryOverheadFactor"))
	for k, v := range strMap(spec, "nodeSelector") {
		c.set("spark.kubernetes.node.selector."+k, v)
	}
	switch rp := mapAt(spec, "restartPolicy"); strAt(rp, "type") {
	case "", "Never":
		c.in.BackoffLimit = ptrInt(0)
	case "OnFailure":
		c.in.BackoffLimit = ptrInt(int(num(rp, "onFailureRetries")))
	case "Always":
		c.drop(false, "spec.restartPolicy.type", "Always restarts the app after it succeeded too; a Job retries failures only (its backoff limit, left at kubectl sparkha's default)")
	}
	if da := mapAt(spec, "dynamicAllocation"); da != nil {
		c.set("spark.dynamicAllocation.enabled", strconv.FormatBool(boolean(da, "enabled")))
		for field, key := range map[string]string{"initialExecutors": "spark.dynamicAllocation.initialExecutors",
			"minExecutors": "spark.dynamicAllocation.minExecutors", "maxExecutors": "spark.dynamicAllocation.maxExecutors"} {
			if _, ok := da[field]; ok {
				c.set(key, strconv.FormatInt(num(da, field), 10))
			}
		}
		if _, ok := da["shuffleTrackingEnabled"]; ok {
			c.set("spark.dynamicAllocation.shuffleTracking.enabled", strconv.FormatBool(boolean(da, "shuffleTrackingEnabled")))
		}
	}
	if v := strAt(spec, "pythonVersion"); v != "" && v != "3" {
		c.drop(false, "spec.pythonVersion", "Spark 3 and later run Python 3 only")
	}
	for _, f := range []string{"sparkConfigMap", "hadoopConfigMap"} {
		if strAt(spec, f) != "" {
			c.drop(true, "spec."+f, "the operator mounts this ConfigMap and points SPARK_CONF_DIR/HADOOP_CONF_DIR at it; "+podTemplateWhy)
		}
	}
	for _, f := range []string{"monitoring", "batchScheduler", "batchSchedulerOptions", "sparkUIOptions", "driverIngressOptions", "timeToLiveSeconds", "failureRetries", "retryInterval"} {
		if _, ok := spec[f]; ok {
			c.drop(false, "spec."+f, "an operator feature: kubectl sparkha has no equivalent")
		}
	}
	volumes := c.volumes(spec)
	c.kubeflowPod("driver", mapAt(spec, "driver"), volumes)
	c.kubeflowPod("executor", mapAt(spec, "executor"), volumes)
	return nil
}

// kubeflowPod reads a DriverSpec or ExecutorSpec (SparkPodSpec and its own fields).
func (c *appConverter) kubeflowPod(role string, p map[string]any, volumes map[string]corev1.Volume) {
	if p == nil {
		return
	}
	field := func(f string) string { return "spec." + role + "." + f }
	k8s := "spark.kubernetes." + role + "."
	if _, ok := p["cores"]; ok {
		n := int(num(p, "cores"))
		if role == "driver" {
			c.in.DriverCores = &n
		} else {
			c.in.ExecutorCores = &n
		}
	}
	if m := strAt(p, "memory"); m != "" {
		if role == "driver" {
			c.in.DriverMemory = m
		} else {
			c.in.ExecutorMemory = m
		}
	}
	if role == "executor" {
		if _, ok := p["instances"]; ok {
			n := int(num(p, "instances"))
			c.in.ExecutorInstances = &n
		}
		if _, ok := p["deleteOnTermination"]; ok {
			c.set("spark.kubernetes.executor.deleteOnTermination", strconv.FormatBool(boolean(p, "deleteOnTermination")))
		}
	}
	c.set("spark."+role+".memoryOverhead", strAt(p, "memoryOverhead"))
	c.set(k8s+"limit.cores", strAt(p, "coreLimit"))
	c.set(k8s+"request.cores", strAt(p, "coreRequest"))
	c.set("spark."+role+".extraJavaOptions", strAt(p, "javaOptions"))
	c.set(k8s+"container.image", strAt(p, "image"))
	c.set(k8s+"scheduler.name", strAt(p, "schedulerName"))
	if sa := strAt(p, "serviceAccount"); sa != "" {
		if role == "driver" {
			c.in.ServiceAccount = sa
		} else {
			c.set("spark.kubernetes.authenticate.executor.serviceAccountName", sa)
		}
	}
	for k, v := range strMap(p, "labels") {
		c.set(k8s+"label."+k, v)
	}
	for k, v := range strMap(p, "annotations") {
		c.set(k8s+"annotation."+k, v)
	}
	for k, v := range strMap(p, "nodeSelector") {
		c.set(k8s+"node.selector."+k, v)
	}
	envKey := func(name string) string {
		if role == "driver" {
			return "spark.kubernetes.driverEnv." + name
		}
		return "spark.executorEnv." + name
	}
	for k, v := range strMap(p, "envVars") {
		c.set(envKey(k), v)
	}
	for i, e := range slice(p, "env") {
		em, _ := e.(map[string]any)
		if _, ok := em["valueFrom"]; ok {
			c.drop(true, fmt.Sprintf("%s[%d] (%s)", field("env"), i, strAt(em, "name")), "an env var from a field or resource reference: "+podTemplateWhy)
			continue
		}
		c.set(envKey(strAt(em, "name")), strAt(em, "value"))
	}
	for name, ref := range mapAt(p, "envSecretKeyRefs") {
		rm, _ := ref.(map[string]any)
		c.set(k8s+"secretKeyRef."+name, strAt(rm, "name")+":"+strAt(rm, "key"))
	}
	for i, s := range slice(p, "secrets") {
		sm, _ := s.(map[string]any)
		switch t := strAt(sm, "secretType"); t {
		case "", "Generic":
			c.set(k8s+"secrets."+strAt(sm, "name"), strAt(sm, "path"))
		default:
			c.drop(true, fmt.Sprintf("%s[%d] (%s)", field("secrets"), i, strAt(sm, "name")), "secret type "+t+" sets an environment variable the operator adds; mount it as Generic and set the variable with --conf spark.kubernetes.driverEnv.*")
		}
	}
	for _, m := range slice(p, "volumeMounts") {
		c.mount(role, m, volumes)
	}
	// Fatal: the driver would run differently without it (its containers, files, environment,
	// identity, resources or network); the others change where it is scheduled or how it is
	// labelled, as Dropped.Fatal says.
	for _, f := range []string{"template", "configMaps", "envFrom", "podSecurityContext", "securityContext", "sidecars",
		"initContainers", "hostNetwork", "dnsConfig", "hostAliases", "shareProcessNamespace", "runtimeClassName", "lifecycle",
		"gpu", "kubernetesMaster", "podName"} {
		if v, ok := p[f]; ok && !empty(v) {
			c.drop(true, field(f), podTemplateWhy)
		}
	}
	for _, f := range []string{"affinity", "tolerations", "terminationGracePeriodSeconds", "ports", "priorityClassName",
		"serviceAnnotations", "serviceLabels"} {
		if v, ok := p[f]; ok && !empty(v) {
			why := podTemplateWhy
			if f == "tolerations" {
				why = "kubectl sparkha sets the driver's tolerations of node loss itself (--node-lost-timeout); other tolerations: " + podTemplateWhy
			}
			c.drop(false, field(f), why)
		}
	}
}

// volumes indexes spec.volumes by name.
func (c *appConverter) volumes(spec map[string]any) map[string]corev1.Volume {
	out := map[string]corev1.Volume{}
	for _, v := range slice(spec, "volumes") {
		var vol corev1.Volume
		if m, ok := v.(map[string]any); ok && runtime.DefaultUnstructuredConverter.FromUnstructured(m, &vol) == nil {
			out[vol.Name] = vol
		}
	}
	return out
}

// mount carries a volume mount as Spark's volume keys (spark.kubernetes.<role>.volumes.*), the
// driver's first claim as the checkpoint claim.
func (c *appConverter) mount(role string, m any, volumes map[string]corev1.Volume) {
	var vm corev1.VolumeMount
	if mm, ok := m.(map[string]any); !ok || runtime.DefaultUnstructuredConverter.FromUnstructured(mm, &vm) != nil {
		return
	}
	vol, ok := volumes[vm.Name]
	field := "spec." + role + ".volumeMounts (" + vm.Name + ")"
	if !ok {
		c.drop(true, field, "it names no volume of spec.volumes")
		return
	}
	prefix := "spark.kubernetes." + role + ".volumes."
	var kind string
	opts := map[string]string{}
	switch {
	case vol.PersistentVolumeClaim != nil:
		if role == "driver" && c.in.CheckpointClaim == "" {
			c.in.CheckpointClaim, c.in.CheckpointMount, c.in.CheckpointMountSet = vol.PersistentVolumeClaim.ClaimName, vm.MountPath, true
			return
		}
		kind, opts["claimName"] = "persistentVolumeClaim", vol.PersistentVolumeClaim.ClaimName
	case vol.EmptyDir != nil:
		kind = "emptyDir"
		if vol.EmptyDir.Medium != "" {
			opts["medium"] = string(vol.EmptyDir.Medium)
		}
		if vol.EmptyDir.SizeLimit != nil {
			opts["sizeLimit"] = vol.EmptyDir.SizeLimit.String()
		}
	case vol.HostPath != nil:
		kind, opts["path"] = "hostPath", vol.HostPath.Path
	case vol.NFS != nil:
		kind, opts["server"], opts["path"] = "nfs", vol.NFS.Server, vol.NFS.Path
	default:
		c.drop(true, field, "Spark's volume keys mount claims, emptyDir, hostPath and NFS only; "+podTemplateWhy)
		return
	}
	base := prefix + kind + "." + vm.Name + "."
	c.set(base+"mount.path", vm.MountPath)
	if vm.ReadOnly {
		c.set(base+"mount.readOnly", "true")
	}
	c.set(base+"mount.subPath", vm.SubPath)
	for k, v := range opts {
		c.set(base+"options."+k, v)
	}
}

// apache reads a spark.apache.org spec (ApplicationSpec, BaseSpec).
func (c *appConverter) apache(spec map[string]any) error {
	if mode := strAt(spec, "deploymentMode"); mode != "" && mode != "ClusterMode" {
		return fmt.Errorf("spec.deploymentMode %s: kubectl sparkha runs the driver in the cluster; only ClusterMode can be migrated", mode)
	}
	for k, v := range strMap(spec, "sparkConf") {
		c.set(k, v)
	}
	delete(c.conf, "spark.kubernetes.namespace")
	c.in.Image = c.conf["spark.kubernetes.container.image"]
	delete(c.conf, "spark.kubernetes.container.image")
	c.in.MainClass = strAt(spec, "mainClass")
	c.in.AppArgs = strs(spec, "driverArgs")
	c.in.ProxyUser = strAt(spec, "proxyUser")
	// The primary resource, as SparkAppSubmissionWorker picks it: jars, else pyFiles, else
	// sparkRFiles (the first entry of the list is the resource).
	for _, f := range []string{"jars", "pyFiles", "sparkRFiles"} {
		if v := strAt(spec, f); v != "" {
			res, rest, _ := strings.Cut(v, ",")
			c.in.AppResource = res
			if rest != "" {
				c.set(map[string]string{"jars": "spark.jars", "pyFiles": "spark.submit.pyFiles", "sparkRFiles": "spark.files"}[f], rest)
			}
			break
		}
	}
	c.set("spark.files", strAt(spec, "files"))
	restart := mapAt(mapAt(spec, "applicationTolerations"), "restartConfig")
	switch p := strAt(restart, "restartPolicy"); p {
	case "", "Never":
		c.in.BackoffLimit = ptrInt(0)
	case "OnFailure", "OnInfrastructureFailure":
		c.in.BackoffLimit = ptrInt(int(num(restart, "maxRestartAttempts")))
	case "Always":
		c.drop(false, "spec.applicationTolerations.restartConfig.restartPolicy", "Always restarts the app after it succeeded too; a Job retries failures only (its backoff limit, left at kubectl sparkha's default)")
	}
	for _, f := range []string{"driverSpec", "executorSpec"} {
		if t := mapAt(mapAt(spec, f), "podTemplateSpec"); !empty(t) {
			c.drop(true, "spec."+f+".podTemplateSpec", "pass the template with --conf spark.kubernetes."+strings.TrimSuffix(f, "Spec")+".podTemplateFile=FILE")
		}
	}
	if v, ok := spec["driverServiceIngressList"]; ok && !empty(v) {
		c.drop(false, "spec.driverServiceIngressList", "an operator feature: kubectl sparkha has no equivalent")
	}
	if v, ok := spec["configMapSpecs"]; ok && !empty(v) {
		c.drop(true, "spec.configMapSpecs", "the operator creates and mounts these ConfigMaps; "+podTemplateWhy)
	}
	return nil
}

func (c *appConverter) set(key, value string) {
	if value != "" {
		c.conf[key] = value
	}
}

func mapAt(m map[string]any, key string) map[string]any {
	v, _ := m[key].(map[string]any)
	return v
}

func strAt(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case string:
		return v
	case int64, float64, bool:
		return fmt.Sprint(v)
	}
	return ""
}

func num(m map[string]any, key string) int64 {
	switch v := m[key].(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

func boolean(m map[string]any, key string) bool { b, _ := m[key].(bool); return b }

func slice(m map[string]any, key string) []any { s, _ := m[key].([]any); return s }

func strs(m map[string]any, key string) []string {
	var out []string
	for _, v := range slice(m, key) {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

func strMap(m map[string]any, key string) map[string]string {
	out := map[string]string{}
	for k, v := range mapAt(m, key) {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	case string:
		return x == ""
	}
	return false
}

func ptrInt(n int) *int { return &n }
