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

	"k8s.io/apimachinery/pkg/util/sets"

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
	if gv.Group == sparkapp.OperatorKubeflow && gv.Version != "v1beta2" {
		return submit.Input{}, nil, fmt.Errorf("SparkApplication %s/%s is %s: kubectl sparkha reads the Kubeflow Spark Operator's v1beta2 only (v1beta1 and v1alpha1 are no longer served by the operator): convert it to v1beta2 first", obj.GetNamespace(), obj.GetName(), obj.GetAPIVersion())
	}
	c := &appConverter{in: submit.Input{Namespace: obj.GetNamespace(), NodeLostTimeout: submit.DefaultNodeLostTimeout},
		conf: map[string]string{}, templateMounts: map[string][]corev1.VolumeMount{}}
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
	if c.templates != nil {
		c.in.ReadFile = templateReader(c.templates)
	}
	sort.Slice(c.dropped, func(i, j int) bool { return c.dropped[i].Field < c.dropped[j].Field })
	return c.in, c.dropped, nil
}

type appConverter struct {
	in      submit.Input
	conf    map[string]string
	dropped []Dropped
	// templates are the generated pod template files by path; templateMounts the volume
	// mounts of each role that no Spark volume key describes.
	templates      map[string][]byte
	templateMounts map[string][]corev1.VolumeMount
}

// drop records a field not carried; fatal as Dropped.Fatal defines it.
func (c *appConverter) drop(fatal bool, field, why string) {
	c.dropped = append(c.dropped, Dropped{Field: field, Why: why, Fatal: fatal})
}

// kubeflowSpecFields are the fields of SparkApplicationSpec (api/v1beta2/sparkapplication_types.go);
// any other is refused, so that nothing is dropped unread.
var kubeflowSpecFields = sets.New("suspend", "type", "sparkVersion", "mode", "proxyUser", "image", "imagePullPolicy",
	"imagePullSecrets", "mainClass", "mainApplicationFile", "arguments", "sparkConf", "hadoopConf", "sparkConfigMap",
	"hadoopConfigMap", "volumes", "driver", "executor", "deps", "restartPolicy", "nodeSelector", "failureRetries",
	"retryInterval", "pythonVersion", "memoryOverheadFactor", "monitoring", "batchScheduler", "timeToLiveSeconds",
	"batchSchedulerOptions", "sparkUIOptions", "driverIngressOptions", "dynamicAllocation", "driverPodDisruptionBudget")

// kubeflowPodSpecFields are the fields of SparkPodSpec, DriverSpec and ExecutorSpec.
var kubeflowPodSpecFields = sets.New("template", "cores", "coreLimit", "memory", "memoryLimit", "memoryOverhead", "gpu",
	"image", "configMaps", "secrets", "env", "envVars", "envFrom", "envSecretKeyRefs", "labels", "annotations",
	"volumeMounts", "affinity", "tolerations", "podSecurityContext", "securityContext", "schedulerName", "sidecars",
	"initContainers", "hostNetwork", "nodeSelector", "dnsConfig", "terminationGracePeriodSeconds", "serviceAccount",
	"hostAliases", "shareProcessNamespace",
	// DriverSpec
	"podName", "coreRequest", "javaOptions", "lifecycle", "kubernetesMaster", "serviceAnnotations", "serviceLabels",
	"ports", "priorityClassName",
	// ExecutorSpec
	"instances", "deleteOnTermination")

// unknownFields refuses the fields of m that known does not list.
func (c *appConverter) unknownFields(m map[string]any, known sets.Set[string], field, what string) {
	for _, k := range sortedKeys(m) {
		if !known.Has(k) {
			c.drop(true, field+"."+k, "not a field of "+what+" that kubectl sparkha knows: it cannot say what it does, so it does not drop it silently")
		}
	}
}

// kubeflow reads a sparkoperator.k8s.io/v1beta2 spec (SparkApplicationSpec), with the
// operator's defaults (api/v1beta2/defaults.go SetSparkApplicationDefaults).
func (c *appConverter) kubeflow(spec map[string]any) error {
	if mode := strAt(spec, "mode"); mode != "" && mode != "cluster" {
		return fmt.Errorf("spec.mode %s: kubectl sparkha runs the driver in the cluster; only mode cluster can be migrated", mode)
	}
	c.unknownFields(spec, kubeflowSpecFields, "spec", "the Kubeflow operator's v1beta2 SparkApplicationSpec")
	c.in.Image = strAt(spec, "image")
	c.in.MainClass = strAt(spec, "mainClass")
	c.in.AppResource = strAt(spec, "mainApplicationFile")
	c.in.AppArgs = strs(spec, "arguments")
	c.in.ProxyUser = strAt(spec, "proxyUser")
	c.set("spark.kubernetes.container.image.pullPolicy", strAt(spec, "imagePullPolicy"))
	c.set("spark.kubernetes.container.image.pullSecrets", strings.Join(strs(spec, "imagePullSecrets"), ","))
	sparkConf := strMap(spec, "sparkConf")
	for k, v := range sparkConf {
		c.set(k, v)
	}
	c.fileTemplateKeys(sparkConf, "spec.sparkConf")
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
	c.kubeflowRestart(mapAt(spec, "restartPolicy"))
	c.kubeflowAllocation(spec)
	if v := strAt(spec, "pythonVersion"); v != "" && v != "3" {
		c.drop(false, "spec.pythonVersion", "Spark 3 and later run Python 3 only")
	}
	if strAt(spec, "sparkConfigMap") != "" {
		c.drop(true, "spec.sparkConfigMap", "the operator mounts this ConfigMap over the driver's conf directory and points SPARK_CONF_DIR at it, which would hide the spark.properties kubectl sparkha writes: put its properties in spec.sparkConf")
	}
	// The operator mounts it and sets HADOOP_CONF_DIR (addHadoopConfigMap); Spark's own key does
	// the same (HadoopConfDriverFeatureStep), for the executors too.
	c.set("spark.kubernetes.hadoop.configMapName", strAt(spec, "hadoopConfigMap"))
	c.kubeflowOperatorFeatures(spec)
	volumes := c.volumes(spec)
	for _, role := range []string{"driver", "executor"} {
		p := mapAt(spec, role)
		c.unknownFields(p, kubeflowPodSpecFields, "spec."+role, "the Kubeflow operator's "+role+" spec")
		c.kubeflowPod(role, p, volumes)
		if err := c.kubeflowTemplate(role, p, volumes); err != nil {
			return err
		}
	}
	return nil
}

// kubeflowRestart maps spec.restartPolicy onto the Job's backoff limit: Never (the default) is
// no retry; OnFailure retries onFailureRetries times (none when unset: the operator retries
// only while ExecutionAttempts <= onFailureRetries, pkg/util/sparkapplication.go ShouldRetry).
func (c *appConverter) kubeflowRestart(rp map[string]any) {
	switch strAt(rp, "type") {
	case "", "Never":
		c.in.BackoffLimit = ptrInt(0)
	case "OnFailure":
		c.in.BackoffLimit = ptrInt(int(num(rp, "onFailureRetries")))
		c.drop(false, "spec.restartPolicy.onFailureRetryInterval", "the operator waits a fixed interval (default 5 s) before a retry; a Job waits 10 s, doubling up to 6 minutes")
	case "Always":
		c.drop(false, "spec.restartPolicy.type", "Always restarts the app after it succeeded too; a Job retries failures only (its backoff limit, left at kubectl sparkha's default)")
	}
	if _, ok := rp["onSubmissionFailureRetries"]; ok {
		c.drop(false, "spec.restartPolicy.onSubmissionFailureRetries", "a sparkha Job has no submission step that can fail on its own: the driver starts in the Job's pod")
	}
}

// kubeflowAllocation carries spec.dynamicAllocation and the operator's executor defaults: one
// executor when neither instances nor dynamic allocation is set (Spark's default is two),
// shuffle tracking on with dynamic allocation unless set.
func (c *appConverter) kubeflowAllocation(spec map[string]any) {
	da := mapAt(spec, "dynamicAllocation")
	enabled := boolean(da, "enabled")
	if da == nil {
		// isDynamicAllocationEnabled reads this key in lower case: with dynamic allocation set
		// only in sparkConf, the operator still sets one executor, and so does migrate.
		enabled, _ = strconv.ParseBool(c.conf["spark.dynamicallocation.enabled"])
	}
	if da != nil {
		c.set("spark.dynamicAllocation.enabled", strconv.FormatBool(enabled))
		for field, key := range map[string]string{"initialExecutors": "spark.dynamicAllocation.initialExecutors",
			"minExecutors": "spark.dynamicAllocation.minExecutors", "maxExecutors": "spark.dynamicAllocation.maxExecutors",
			"shuffleTrackingTimeout": "spark.dynamicAllocation.shuffleTracking.timeout"} {
			if _, ok := da[field]; ok {
				c.set(key, strconv.FormatInt(num(da, field), 10))
			}
		}
		tracking := enabled
		if _, ok := da["shuffleTrackingEnabled"]; ok {
			tracking = boolean(da, "shuffleTrackingEnabled")
		}
		if enabled || tracking {
			c.set("spark.dynamicAllocation.shuffleTracking.enabled", strconv.FormatBool(tracking))
		}
	}
	_, instances := mapAt(spec, "executor")["instances"]
	if !instances && c.conf["spark.executor.instances"] == "" && !enabled {
		c.in.ExecutorInstances = ptrInt(1)
	}
}

// kubeflowOperatorFeatures reports what the operator does around the pods.
func (c *appConverter) kubeflowOperatorFeatures(spec map[string]any) {
	notCarried := map[string]string{
		"monitoring":     "the operator adds a Prometheus JMX exporter agent and its port to the driver and executors; put the agent in spark.driver.extraJavaOptions and the port in spec.driver.ports",
		"batchScheduler": "the operator has " + strAt(spec, "batchScheduler") + " gang-schedule the driver and executors in a pod group it creates; kubectl sparkha refuses Spark's own scheduler feature steps (spark.kubernetes.driver.pod.featureSteps), so the Job's driver would be scheduled alone: remove it, or name a scheduler with spec.driver.schedulerName",
	}
	warnings := map[string]string{
		"sparkUIOptions":            "the operator creates a Service and Ingress for the UI; the sparkha driver Service NAME-driver-svc serves the UI port",
		"driverIngressOptions":      "the operator creates Services and Ingresses for the driver; create them for NAME-driver-svc",
		"timeToLiveSeconds":         "the operator deletes the app this long after it ends; the Job stays until deleted",
		"failureRetries":            "an operator field of no effect on the pods; retries are spec.restartPolicy",
		"retryInterval":             "an operator field of no effect on the pods; retries are spec.restartPolicy",
		"driverPodDisruptionBudget": "the operator creates a PodDisruptionBudget for the driver; create one selecting sparkha.io/app-id=ID,spark-role=driver",
		"suspend":                   "the operator holds a suspended app; the Job starts when created (migrate --apply switches a running app)",
	}
	if _, ok := spec["batchScheduler"]; ok {
		notCarried["batchSchedulerOptions"] = "the queue and pod group of spec.batchScheduler"
	} else {
		warnings["batchSchedulerOptions"] = "of no effect without spec.batchScheduler"
	}
	for _, f := range sortedKeys(notCarried) {
		if v, ok := spec[f]; ok && !empty(v) {
			c.drop(true, "spec."+f, notCarried[f])
		}
	}
	for _, f := range sortedKeys(warnings) {
		if v, ok := spec[f]; ok && !empty(v) && v != false {
			c.drop(false, "spec."+f, warnings[f])
		}
	}
}

// kubeflowPod reads the Spark conf of a DriverSpec or ExecutorSpec (SparkPodSpec and its own
// fields), as the operator's submission.go turns them into spark-submit options; the pod
// fields no key sets are kubeflowTemplate's.
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
	for k, v := range strMap(p, "serviceAnnotations") {
		c.set("spark.kubernetes.driver.service.annotation."+k, v)
	}
	for k, v := range strMap(p, "serviceLabels") {
		c.set("spark.kubernetes.driver.service.label."+k, v)
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
	for _, e := range slice(p, "env") {
		em, _ := e.(map[string]any)
		if _, ok := em["valueFrom"]; !ok {
			c.set(envKey(strAt(em, "name")), strAt(em, "value"))
		}
	}
	for name, ref := range mapAt(p, "envSecretKeyRefs") {
		rm, _ := ref.(map[string]any)
		c.set(k8s+"secretKeyRef."+name, strAt(rm, "name")+":"+strAt(rm, "key"))
	}
	for i, s := range slice(p, "secrets") {
		sm, _ := s.(map[string]any)
		path := strAt(sm, "path")
		c.set(k8s+"secrets."+strAt(sm, "name"), path)
		// driverSecretOption/executorSecretOption: the variable the secret's type implies.
		switch t := strAt(sm, "secretType"); t {
		case "", "Generic":
		case "GCPServiceAccount":
			c.set(envKey("GOOGLE_APPLICATION_CREDENTIALS"), strings.TrimSuffix(path, "/")+"/key.json")
		case "HadoopDelegationToken":
			c.set(envKey("HADOOP_TOKEN_FILE_LOCATION"), strings.TrimSuffix(path, "/")+"/hadoop.token")
		default:
			c.drop(true, fmt.Sprintf("%s[%d] (%s)", field("secrets"), i, strAt(sm, "name")), "secret type "+t+" is not one the operator knows (Generic, GCPServiceAccount, HadoopDelegationToken)")
		}
	}
	for _, m := range slice(p, "volumeMounts") {
		c.mount(role, m, volumes)
	}
	if strAt(p, "podName") != "" {
		c.drop(false, field("podName"), "the Job names each driver generation's pod itself (NAME-XXXXX)")
	}
	if strAt(p, "kubernetesMaster") != "" {
		c.drop(false, field("kubernetesMaster"), "a sparkha driver talks to the API server of the cluster it runs in ("+submit.KubernetesMasterInPod+")")
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
		// Spark's volume keys mount claims, emptyDir, hostPath and NFS only; the others go in
		// the pod template, as the operator's webhook adds them (addVolumes).
		c.templateMounts[role] = append(c.templateMounts[role], vm)
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

// apacheSpecFields are the fields of ApplicationSpec and BaseSpec (spark-operator-api
// spec/ApplicationSpec.java); any other is refused.
var apacheSpecFields = sets.New("sparkConf", "mainClass", "runtimeVersions", "jars", "pyFiles", "sparkRFiles", "files",
	"deploymentMode", "proxyUser", "driverArgs", "applicationTolerations", "driverSpec", "executorSpec",
	"driverServiceIngressList", "driverHttpRouteList", "driverGrpcRouteList", "configMapSpecs")

// apacheServers are the main classes of the long-running servers Apache's examples run as
// SparkApplications: not an application with a checkpoint, and the driver is the server.
var apacheServers = map[string]string{
	"org.apache.spark.sql.connect.service.SparkConnectServer":  "a Spark Connect server",
	"org.apache.spark.deploy.history.HistoryServer":            "the Spark History Server",
	"org.apache.spark.sql.hive.thriftserver.HiveThriftServer2": "the Spark Thrift Server",
}

// apache reads a spark.apache.org spec (ApplicationSpec, BaseSpec) as SparkAppSubmissionWorker's
// buildDriverConf resolves it.
func (c *appConverter) apache(spec map[string]any) error {
	if mode := strAt(spec, "deploymentMode"); mode != "" && mode != "ClusterMode" {
		return fmt.Errorf("spec.deploymentMode %s: kubectl sparkha runs the driver in the cluster; only ClusterMode can be migrated", mode)
	}
	if what, ok := apacheServers[strAt(spec, "mainClass")]; ok {
		return fmt.Errorf("spec.mainClass %s: this SparkApplication runs %s, not a Spark application: its driver is the server, which keeps no checkpoint and is restarted by its restartPolicy; kubectl sparkha migrates applications only, run the server as a Deployment", strAt(spec, "mainClass"), what)
	}
	c.unknownFields(spec, apacheSpecFields, "spec", "Apache's ApplicationSpec")
	sparkVersion := strAt(mapAt(spec, "runtimeVersions"), "sparkVersion")
	sparkConf := strMap(spec, "sparkConf")
	for k, v := range sparkConf {
		// The operator puts runtimeVersions.sparkVersion in place of {{SPARK_VERSION}} in the
		// image keys, and nowhere else.
		if strings.HasPrefix(k, "spark.kubernetes.") && strings.HasSuffix(k, "container.image") && strings.Contains(v, "{{SPARK_VERSION}}") {
			if sparkVersion == "" {
				return fmt.Errorf("spec.sparkConf[%s] %s: {{SPARK_VERSION}} needs spec.runtimeVersions.sparkVersion, which the operator puts in its place", k, v)
			}
			v = strings.ReplaceAll(v, "{{SPARK_VERSION}}", sparkVersion)
		}
		c.set(k, v)
	}
	c.fileTemplateKeys(sparkConf, "spec.sparkConf")
	delete(c.conf, "spark.kubernetes.namespace")
	c.in.Image = c.conf["spark.kubernetes.container.image"]
	delete(c.conf, "spark.kubernetes.container.image")
	c.in.MainClass = strAt(spec, "mainClass")
	c.in.AppArgs = strs(spec, "driverArgs")
	c.in.ProxyUser = strAt(spec, "proxyUser")
	c.apacheResource(spec)
	c.set("spark.files", strAt(spec, "files"))
	tolerations := mapAt(spec, "applicationTolerations")
	restart := mapAt(tolerations, "restartConfig")
	c.apacheRestart(restart)
	c.apacheTolerations(tolerations)
	// buildDriverConf's setIfMissing defaults: what the operator's drivers run with.
	for k, v := range map[string]string{"spark.authenticate": "true", "spark.io.encryption.enabled": "true",
		"spark.kubernetes.driver.annotateExitException": "true"} {
		if _, ok := c.conf[k]; !ok {
			c.conf[k] = v
		}
	}
	// Static allocation without restarts: the operator leaves the executors to the garbage
	// collector (they are owned by the driver pod).
	policy := strAt(restart, "restartPolicy")
	if !strings.EqualFold(c.conf["spark.dynamicAllocation.enabled"], "true") && (policy == "" || policy == "Never") {
		if _, ok := c.conf["spark.kubernetes.executor.deleteOnTermination"]; !ok {
			c.conf["spark.kubernetes.executor.deleteOnTermination"] = "false"
		}
	}
	for _, role := range []string{"driver", "executor"} {
		if err := c.apacheTemplate(role, spec); err != nil {
			return err
		}
	}
	for _, f := range []string{"driverServiceIngressList", "driverHttpRouteList", "driverGrpcRouteList"} {
		if v, ok := spec[f]; ok && !empty(v) {
			c.drop(false, "spec."+f, "the operator creates these for the driver Service; create them for NAME-driver-svc")
		}
	}
	if v, ok := spec["configMapSpecs"]; ok && !empty(v) {
		c.drop(true, "spec.configMapSpecs", "the operator creates these ConfigMaps with the app and deletes them with it: create them yourself and mount them with a pod template in spec.driverSpec.podTemplateSpec")
	}
	return nil
}

// apacheResource picks the primary resource as buildDriverConf does: jars, else pyFiles (its
// first entry for org.apache.spark.deploy.PythonRunner), else sparkRFiles.
func (c *appConverter) apacheResource(spec map[string]any) {
	for _, f := range []string{"jars", "pyFiles", "sparkRFiles"} {
		if v := strAt(spec, f); v != "" {
			res, rest, _ := strings.Cut(v, ",")
			c.in.AppResource = res
			if rest != "" {
				c.set(map[string]string{"jars": "spark.jars", "pyFiles": "spark.submit.pyFiles", "sparkRFiles": "spark.files"}[f], rest)
			}
			if f == "pyFiles" && c.in.MainClass == "org.apache.spark.deploy.PythonRunner" {
				c.in.MainClass = ""
			}
			return
		}
	}
}

// apacheRestart maps restartConfig (spec/RestartConfig.java: Never by default, at most
// maxRestartAttempts 3) onto the Job: OnFailure retries maxRestartOnFailure times when set,
// else maxRestartAttempts; OnInfrastructureFailure retries no failure of the app, and the Job
// never counts a driver lost with its node (DisruptionTarget) as a failure.
func (c *appConverter) apacheRestart(restart map[string]any) {
	attempts := 3
	if _, ok := restart["maxRestartAttempts"]; ok {
		attempts = int(min(num(restart, "maxRestartAttempts"), 1<<20))
	}
	field := "spec.applicationTolerations.restartConfig."
	switch p := strAt(restart, "restartPolicy"); p {
	case "", "Never":
		c.in.BackoffLimit = ptrInt(0)
	case "OnFailure":
		if _, ok := restart["maxRestartOnFailure"]; ok {
			attempts = int(min(num(restart, "maxRestartOnFailure"), 1<<20))
		}
		c.in.BackoffLimit = ptrInt(attempts)
	case "OnInfrastructureFailure":
		c.in.BackoffLimit = ptrInt(0)
		c.drop(false, field+"restartPolicy", fmt.Sprintf("OnInfrastructureFailure: the Job retries no failure of the app (backoff limit 0) and starts a new driver whenever one is lost with its node, without the operator's limit of %d", attempts))
	case "Always":
		c.drop(false, field+"restartPolicy", "Always restarts the app after it succeeded too; a Job retries failures only (its backoff limit, left at kubectl sparkha's default)")
	}
	for _, f := range []string{"restartBackoffMillis", "restartBackoffMillisForFailure", "restartBackoffMillisForSchedulingFailure", "restartCounterResetMillis"} {
		if _, ok := restart[f]; ok {
			c.drop(false, field+f, "the operator's wait between attempts; a Job waits 10 s, doubling up to 6 minutes, and keeps its count")
		}
	}
	if _, ok := restart["maxRestartOnSchedulingFailure"]; ok {
		c.drop(false, field+"maxRestartOnSchedulingFailure", "a Job's driver that cannot be scheduled stays Pending; it is not a failure")
	}
}

// apacheTolerations reports the operator's other tolerations, which act on the app's
// resources after it ends or on how the operator judges its state.
func (c *appConverter) apacheTolerations(t map[string]any) {
	field := "spec.applicationTolerations."
	why := map[string]string{
		"ttlAfterStopMillis":           "the operator deletes the app this long after it stops; the Job stays until deleted",
		"resourceRetainPolicy":         "the operator deletes the driver and its resources after the app ends unless retained; the Job keeps its ended driver pod, for its logs",
		"resourceRetainDurationMillis": "the operator deletes the app's resources this long after it ends; the Job keeps them until deleted",
		"instanceConfig":               "the operator's count of executors an app needs to be Running; kubectl sparkha inspect reads the driver and executors themselves",
		"applicationTimeoutConfig":     "the operator stops an app whose driver or executors do not start in time; a Job's driver waits until scheduled",
	}
	for _, f := range sortedKeys(why) {
		if v, ok := t[f]; ok && !empty(v) {
			c.drop(false, field+f, why[f])
		}
	}
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
