// Package sparkstandin stands in for the part of a Spark driver that the
// partition story needs until the sandbox runs real Spark: the executor pods
// that Spark's ExecutorPodsAllocator creates. The simulated kubelet runs it
// "inside" the driver process of a driver pod it runs, so it talks to the API
// server from the driver's machine: a partitioned machine's driver requests
// nothing.
//
// Everything here follows Spark's source (apache/spark; paths below
// resource-managers/kubernetes/core/src/main/scala/org/apache/spark/). The
// copies read were ExecutorPodsAllocator.scala at 0132955c (3.x),
// BasicExecutorFeatureStep.scala at 00012ecc, KubernetesConf.scala at
// 0c93459e, KubernetesUtils.uniqueID and KubernetesClusterManager's prefix
// code as in 3.x; the places are named by definition (grep for them), since
// their line numbers move from release to release:
//
//   - scheduler/cluster/k8s/ExecutorPodsAllocator.scala: onNewSnapshots counts
//     the app's executor pods (running + pending + created but not yet seen)
//     against spark.executor.instances and, when none it created is still
//     unseen, requests the missing ones, at most
//     spark.kubernetes.allocation.batch.size (10) per round, one round per
//     spark.kubernetes.allocation.batch.delay (1s); requestNewExecutors numbers
//     them from an AtomicInteger starting at 1. start() first waits for the
//     driver pod to be Ready.
//   - deploy/k8s/features/BasicExecutorFeatureStep.scala configurePod: name
//     "<prefix>-exec-<id>", hostname (the name's last 63 characters), the
//     container's image, pull policy, memory/cpu requests and limits, env
//     (SPARK_DRIVER_URL, SPARK_EXECUTOR_ID, SPARK_APPLICATION_ID, ...), the
//     blockmanager port, args "executor", the controller owner reference to
//     the driver pod, restartPolicy Never, node selectors, image pull secrets,
//     all added onto the pod built so far (the template).
//   - deploy/k8s/KubernetesConf.scala: KubernetesExecutorConf.labels
//     (spark-exec-id, spark-app-selector, spark-role=executor,
//     spark-exec-resourceprofile-id, plus spark.kubernetes.executor.label.*);
//     resourceNamePrefix = spark.kubernetes.executor.podNamePrefix, else
//     getResourceNamePrefix(spark.app.name) = "<appName>-<uniqueID>" lowercased,
//     non [a-z0-9-] replaced by "-", runs of "-" squeezed; the driver's
//     KubernetesClusterManager.createSchedulerBackend fixes it once per driver
//     run when the key is unset, so each run (each generation) has a fresh one.
//   - deploy/k8s/KubernetesUtils.scala: uniqueID = 3 random bytes in hex then
//     the clock's milliseconds (& 0xFFFFFFFFFF) in hex; loadPodFromTemplate and
//     selectSparkContainer: the template pod is the base, its container named
//     spark.kubernetes.executor.podTemplateContainerName (else its first) is
//     the Spark container, the others stay.
//   - scheduler/cluster/k8s/KubernetesExecutorBuilder.scala: the template, then
//     the feature steps (basic, local dirs, secrets, env secrets, volumes).
//   - executor/CoarseGrainedExecutorBackend.scala onDisconnected (core): an
//     executor exits with code 1 when its driver goes away (see the kubelet).
//
// Not modelled: the executor ConfigMap (spark.kubernetes.executor.disableConfigMap
// behaviour), dynamic allocation, decommissioning, PVC reuse and OnDemand claims.
package sparkstandin

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubernetes/third_party/forked/golang/expansion"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// Spark's labels and defaults (deploy/k8s/Constants.scala, Config.scala).
const (
	LabelRole          = "spark-role"
	LabelAppID         = "spark-app-selector"
	LabelAppName       = "spark-app-name"
	LabelExecID        = "spark-exec-id"
	LabelResProfile    = "spark-exec-resourceprofile-id" // Constants.scala SPARK_RESOURCE_PROFILE_ID_LABEL
	RoleDriver         = "driver"
	RoleExecutor       = "executor"
	confDir            = "/opt/spark/conf"
	defaultProperties  = confDir + "/spark.properties"
	executorContainer  = "spark-kubernetes-executor"
	defaultInstances   = 2
	defaultDriverPort  = 7078
	defaultBlockMgr    = 7079
	minMemoryOverhead  = 384
	defaultOverheadFac = 0.1
	dnsLabelMax        = 63
)

// Driver is one run of a Spark driver process, as the allocator sees it.
type Driver struct {
	Pod *corev1.Pod
	// Conf is the effective conf: spark.properties overlaid by the argv's --conf.
	Conf map[string]string
	// AppID is the run's spark.app.id: its executors' spark-app-selector.
	AppID string
	// Prefix names the executors: Prefix-exec-N.
	Prefix string
	// Template is the executor pod template, if spark.kubernetes.executor.podTemplateFile is set.
	Template *corev1.Pod
}

// ConfigMapGetter reads a ConfigMap of the driver's namespace.
type ConfigMapGetter func(name string) (*corev1.ConfigMap, error)

// NewDriver derives a driver run from its pod, as the driver process would
// from its argv, environment and mounted files, at the moment it starts.
func NewDriver(pod *corev1.Pod, podIP string, cms ConfigMapGetter, now time.Time) (*Driver, error) {
	ctr := sparkContainer(pod)
	if ctr == nil {
		return nil, fmt.Errorf("no container")
	}
	args := expandArgs(pod, ctr, podIP)
	propsFile, confArgs := defaultProperties, map[string]string{}
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--properties-file":
			if i+1 < len(args) {
				propsFile = args[i+1]
				i++
			}
		case "--conf":
			if i+1 < len(args) {
				if k, v, ok := strings.Cut(args[i+1], "="); ok {
					confArgs[k] = v
				}
				i++
			}
		}
	}
	conf := map[string]string{}
	text, err := MountedFile(pod, ctr, propsFile, cms)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", propsFile, err)
	}
	for k, v := range ParseProperties(text) {
		conf[k] = v
	}
	// SparkSubmitArguments: --conf wins over the properties file.
	for k, v := range confArgs {
		conf[k] = v
	}
	d := &Driver{Pod: pod, Conf: conf}
	// KubernetesClusterSchedulerBackend.applicationId: spark.app.id, which
	// spark-submit also put on the driver pod as spark-app-selector.
	d.AppID = conf["spark.app.id"]
	if d.AppID == "" {
		d.AppID = pod.Labels[LabelAppID]
	}
	d.Prefix = conf["spark.kubernetes.executor.podNamePrefix"]
	if d.Prefix == "" {
		d.Prefix = ResourceNamePrefix(d.get("spark.app.name", "spark"), now)
	}
	if f := conf["spark.kubernetes.executor.podTemplateFile"]; f != "" {
		text, err := MountedFile(pod, ctr, f, cms)
		if err != nil {
			return nil, fmt.Errorf("executor pod template %s: %w", f, err)
		}
		var t corev1.Pod
		if err := yaml.Unmarshal([]byte(text), &t); err != nil {
			return nil, fmt.Errorf("could not load pod from template file %s: %w", f, err)
		}
		d.Template = &t
	}
	return d, nil
}

func (d *Driver) get(key, def string) string {
	if v, ok := d.Conf[key]; ok && v != "" {
		return v
	}
	return def
}

// Instances is spark.executor.instances (2 by default).
func (d *Driver) Instances() int {
	n, err := strconv.Atoi(d.get("spark.executor.instances", strconv.Itoa(defaultInstances)))
	if err != nil || n < 0 {
		return defaultInstances
	}
	return n
}

// BatchSize is spark.kubernetes.allocation.batch.size (10).
func (d *Driver) BatchSize() int {
	n, err := strconv.Atoi(d.get("spark.kubernetes.allocation.batch.size", "10"))
	if err != nil || n < 1 {
		return 10
	}
	return n
}

// sparkContainer is the driver's container: the one running `driver`, else the first.
func sparkContainer(pod *corev1.Pod) *corev1.Container {
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		if len(c.Args) > 0 && c.Args[0] == "driver" {
			return c
		}
	}
	if len(pod.Spec.Containers) == 0 {
		return nil
	}
	return &pod.Spec.Containers[0]
}

// expandArgs resolves $(VAR) in the container's args the way the kubelet
// does (its own expansion code), from the container's env: literal values
// (themselves expanded in order) and the downward API fields a driver uses.
func expandArgs(pod *corev1.Pod, c *corev1.Container, podIP string) []string {
	env := map[string]string{}
	mapping := expansion.MappingFuncFor(env)
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = expansion.Expand(e.Value, mapping)
		case e.ValueFrom.FieldRef != nil:
			switch e.ValueFrom.FieldRef.FieldPath {
			case "metadata.name":
				env[e.Name] = pod.Name
			case "metadata.namespace":
				env[e.Name] = pod.Namespace
			case "metadata.uid":
				env[e.Name] = string(pod.UID)
			case "status.podIP":
				env[e.Name] = podIP
			case "spec.nodeName":
				env[e.Name] = pod.Spec.NodeName
			}
		}
	}
	out := make([]string, len(c.Args))
	for i, a := range c.Args {
		out[i] = expansion.Expand(a, mapping)
	}
	return out
}

// MountedFile reads the file at path inside container c, when a ConfigMap
// volume mounted there provides it (by its items' paths, or by key).
func MountedFile(pod *corev1.Pod, c *corev1.Container, file string, cms ConfigMapGetter) (string, error) {
	for _, m := range c.VolumeMounts {
		dir := strings.TrimSuffix(m.MountPath, "/")
		if path.Dir(file) != dir {
			continue
		}
		name := path.Base(file)
		for _, v := range pod.Spec.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil {
				continue
			}
			key := name
			if len(v.ConfigMap.Items) > 0 {
				key = ""
				for _, it := range v.ConfigMap.Items {
					if it.Path == name {
						key = it.Key
					}
				}
				if key == "" {
					return "", fmt.Errorf("configmap volume %s has no item for %s", v.Name, name)
				}
			}
			cm, err := cms(v.ConfigMap.Name)
			if err != nil {
				return "", err
			}
			if s, ok := cm.Data[key]; ok {
				return s, nil
			}
			return "", fmt.Errorf("configmap %s has no key %s", cm.Name, key)
		}
	}
	return "", fmt.Errorf("no ConfigMap volume is mounted at %s", path.Dir(file))
}

// ParseProperties reads a Java properties file as Spark's
// Utils.getPropertiesFromFile does (java.util.Properties.load): key=value,
// key: value or key value lines, # and ! comments, values trimmed. Line
// continuations and escapes are not needed by the files submit writes.
func ParseProperties(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=: \t")
		if i < 0 {
			out[line] = ""
			continue
		}
		k, v := line[:i], strings.TrimSpace(line[i+1:])
		if line[i] == ' ' || line[i] == '\t' {
			v = strings.TrimLeft(v, "=:")
			v = strings.TrimSpace(v)
		}
		out[k] = v
	}
	return out
}

var (
	notNameChar = regexp.MustCompile(`[^a-z0-9\-]`)
	dashes      = regexp.MustCompile(`-+`)
)

// ResourceNamePrefix is KubernetesConf.getResourceNamePrefix(appName).
func ResourceNamePrefix(appName string, now time.Time) string {
	return NamePrefix(appName, UniqueID(rand.Reader, now))
}

// NamePrefix is KubernetesConf.getResourceNamePrefix(appName) with the uniqueID given.
func NamePrefix(appName, id string) string {
	s := strings.ToLower(strings.TrimSpace(appName + "-" + id))
	s = notNameChar.ReplaceAllString(s, "-")
	s = dashes.ReplaceAllString(s, "-")
	s = strings.TrimPrefix(s, "-")
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "x" + s[1:]
	}
	return s
}

// UniqueID is KubernetesUtils.uniqueID: 3 random bytes, then the time.
func UniqueID(random io.Reader, now time.Time) string {
	b := make([]byte, 3)
	_, _ = io.ReadFull(random, b)
	return hex.EncodeToString(b) + strconv.FormatInt(now.UnixMilli()&0xFFFFFFFFFF, 16)
}

// ExecutorName is BasicExecutorFeatureStep's "$prefix-exec-$id".
func (d *Driver) ExecutorName(id int) string { return fmt.Sprintf("%s-exec-%d", d.Prefix, id) }

// Executor builds executor id's pod as requestNewExecutors would create it.
func (d *Driver) Executor(id int) *corev1.Pod {
	pod := &corev1.Pod{}
	var ctr corev1.Container
	if d.Template != nil {
		pod = d.Template.DeepCopy()
		// selectSparkContainer: the named container, else the first.
		idx := 0
		if n := d.Conf["spark.kubernetes.executor.podTemplateContainerName"]; n != "" {
			idx = -1
			for i, c := range pod.Spec.Containers {
				if c.Name == n {
					idx = i
				}
			}
		}
		if idx >= 0 && idx < len(pod.Spec.Containers) {
			ctr = pod.Spec.Containers[idx]
			pod.Spec.Containers = append(pod.Spec.Containers[:idx:idx], pod.Spec.Containers[idx+1:]...)
		}
	}
	pod.TypeMeta = metav1.TypeMeta{}
	pod.Status = corev1.PodStatus{}
	pod.ResourceVersion, pod.UID, pod.GenerateName, pod.CreationTimestamp = "", "", "", metav1.Time{}
	name := d.ExecutorName(id)
	execID := strconv.Itoa(id)
	pod.Name, pod.Namespace = name, d.Pod.Namespace

	labels := prefixed(d.Conf, "spark.kubernetes.executor.label.")
	labels[LabelExecID] = execID
	labels[LabelAppID] = d.AppID
	labels[LabelRole] = RoleExecutor
	labels[LabelResProfile] = "0"
	if v := d.Pod.Labels[LabelAppName]; v != "" {
		labels[LabelAppName] = v
	}
	pod.Labels = merge(pod.Labels, labels)
	ann := prefixed(d.Conf, "spark.kubernetes.executor.annotation.")
	for k, v := range ann {
		ann[k] = strings.NewReplacer("{{APP_ID}}", d.AppID, "{{EXECUTOR_ID}}", execID).Replace(v)
	}
	pod.Annotations = merge(pod.Annotations, ann)
	pod.OwnerReferences = append(pod.OwnerReferences, metav1.OwnerReference{
		APIVersion: "v1", Kind: "Pod", Name: d.Pod.Name, UID: d.Pod.UID, Controller: ptr.To(true),
	})

	host := name
	if len(host) > dnsLabelMax {
		host = host[len(host)-dnsLabelMax:]
	}
	host = regexp.MustCompile(`^[^\w]+`).ReplaceAllString(host, "")
	host = regexp.MustCompile(`[^\w-]+`).ReplaceAllString(host, "_")
	pod.Spec.Hostname = host
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	pod.Spec.NodeSelector = merge(pod.Spec.NodeSelector, prefixed(d.Conf, "spark.kubernetes.node.selector."))
	pod.Spec.NodeSelector = merge(pod.Spec.NodeSelector, prefixed(d.Conf, "spark.kubernetes.executor.node.selector."))
	if len(pod.Spec.NodeSelector) == 0 {
		pod.Spec.NodeSelector = nil
	}
	for _, s := range strings.Split(d.Conf["spark.kubernetes.container.image.pullSecrets"], ",") {
		if s = strings.TrimSpace(s); s != "" {
			pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
		}
	}
	if s := d.Conf["spark.kubernetes.scheduler.name"]; s != "" {
		pod.Spec.SchedulerName = s
	}

	// The container, as BasicExecutorFeatureStep builds it onto the template's.
	if ctr.Name == "" {
		ctr.Name = executorContainer
	}
	ctr.Image = d.get("spark.kubernetes.executor.container.image", d.Conf["spark.kubernetes.container.image"])
	ctr.ImagePullPolicy = corev1.PullPolicy(d.get("spark.kubernetes.container.image.pullPolicy", "IfNotPresent"))
	mem := d.executorMemoryMiB()
	total := mem + d.overheadMiB(mem)
	cores := d.get("spark.executor.cores", "1")
	cpuReq := d.get("spark.kubernetes.executor.request.cores", cores)
	if ctr.Resources.Requests == nil {
		ctr.Resources.Requests = corev1.ResourceList{}
	}
	if ctr.Resources.Limits == nil {
		ctr.Resources.Limits = corev1.ResourceList{}
	}
	memQ := resource.MustParse(fmt.Sprintf("%dMi", total))
	ctr.Resources.Requests[corev1.ResourceMemory] = memQ
	ctr.Resources.Limits[corev1.ResourceMemory] = memQ
	if q, err := resource.ParseQuantity(cpuReq); err == nil {
		ctr.Resources.Requests[corev1.ResourceCPU] = q
	}
	if l := d.Conf["spark.kubernetes.executor.limit.cores"]; l != "" {
		if q, err := resource.ParseQuantity(l); err == nil {
			ctr.Resources.Limits[corev1.ResourceCPU] = q
		}
	}
	driverURL := fmt.Sprintf("spark://CoarseGrainedScheduler@%s:%s", d.Conf["spark.driver.host"], d.get("spark.driver.port", strconv.Itoa(defaultDriverPort)))
	env := []corev1.EnvVar{
		{Name: "SPARK_USER", Value: "spark"},
		{Name: "SPARK_DRIVER_URL", Value: driverURL},
		{Name: "SPARK_EXECUTOR_CORES", Value: cores},
		{Name: "SPARK_EXECUTOR_MEMORY", Value: fmt.Sprintf("%dm", mem)},
		{Name: "SPARK_APPLICATION_ID", Value: d.AppID},
		{Name: "SPARK_CONF_DIR", Value: confDir},
		{Name: "SPARK_EXECUTOR_ID", Value: execID},
		{Name: "SPARK_RESOURCE_PROFILE_ID", Value: "0"},
	}
	for _, k := range slices.Sorted(maps.Keys(prefixed(d.Conf, "spark.executorEnv."))) {
		env = append(env, corev1.EnvVar{Name: k, Value: d.Conf["spark.executorEnv."+k]})
	}
	env = append(env,
		corev1.EnvVar{Name: "SPARK_EXECUTOR_POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}}},
		corev1.EnvVar{Name: "SPARK_EXECUTOR_POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
	)
	ctr.Env = append(ctr.Env, env...)
	bm := d.get("spark.blockManager.port", strconv.Itoa(defaultBlockMgr))
	ctr.Ports = nil // withPorts replaces the template's
	if p, err := strconv.Atoi(bm); err == nil && p != 0 {
		ctr.Ports = []corev1.ContainerPort{{Name: "blockmanager", ContainerPort: int32(p)}}
	}
	ctr.Args = append(ctr.Args, "executor")

	// LocalDirsFeatureStep: one emptyDir scratch dir unless SPARK_LOCAL_DIRS is set.
	localDir := "/var/data/spark-" + strings.TrimPrefix(d.AppID, "spark-")
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "spark-local-dir-1", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: "spark-local-dir-1", MountPath: localDir})
	ctr.Env = append(ctr.Env, corev1.EnvVar{Name: "SPARK_LOCAL_DIRS", Value: localDir})
	// MountSecretsFeatureStep and EnvSecretsFeatureStep.
	secrets := prefixed(d.Conf, "spark.kubernetes.executor.secrets.")
	for _, s := range slices.Sorted(maps.Keys(secrets)) {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: s + "-volume", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: s}}})
		ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: s + "-volume", MountPath: secrets[s]})
	}
	refs := prefixed(d.Conf, "spark.kubernetes.executor.secretKeyRef.")
	for _, e := range slices.Sorted(maps.Keys(refs)) {
		if name, key, ok := strings.Cut(refs[e], ":"); ok {
			ctr.Env = append(ctr.Env, corev1.EnvVar{Name: e, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}}})
		}
	}
	d.mountVolumes(pod, &ctr, execID)
	// requestNewExecutors: the Spark container goes after the template's others.
	pod.Spec.Containers = append(pod.Spec.Containers, ctr)
	return pod
}

// mountVolumes is MountVolumesFeatureStep for the executor volume keys
// spark.kubernetes.executor.volumes.TYPE.NAME.{mount.path,mount.readOnly,
// mount.subPath,options.*} of types persistentVolumeClaim, emptyDir, hostPath.
func (d *Driver) mountVolumes(pod *corev1.Pod, ctr *corev1.Container, execID string) {
	type vol struct{ typ, name string }
	seen := map[vol]bool{}
	var vols []vol
	const pfx = "spark.kubernetes.executor.volumes."
	for k := range d.Conf {
		rest, ok := strings.CutPrefix(k, pfx)
		if !ok {
			continue
		}
		parts := strings.SplitN(rest, ".", 3)
		if len(parts) == 3 && parts[2] == "mount.path" {
			v := vol{parts[0], parts[1]}
			if !seen[v] {
				seen[v] = true
				vols = append(vols, v)
			}
		}
	}
	sort.Slice(vols, func(i, j int) bool { return vols[i].name < vols[j].name })
	for _, v := range vols {
		key := func(s string) string { return d.Conf[pfx+v.typ+"."+v.name+"."+s] }
		var src corev1.VolumeSource
		switch v.typ {
		case "persistentVolumeClaim":
			claim := strings.ReplaceAll(key("options.claimName"), "SPARK_EXECUTOR_ID", execID)
			src.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim, ReadOnly: key("mount.readOnly") == "true"}
		case "emptyDir":
			src.EmptyDir = &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMedium(key("options.medium"))}
			if s := key("options.sizeLimit"); s != "" {
				if q, err := resource.ParseQuantity(s); err == nil {
					src.EmptyDir.SizeLimit = &q
				}
			}
		case "hostPath":
			src.HostPath = &corev1.HostPathVolumeSource{Path: key("options.path")}
		default:
			continue
		}
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: v.name, VolumeSource: src})
		ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: v.name, MountPath: key("mount.path"),
			SubPath: key("mount.subPath"), ReadOnly: key("mount.readOnly") == "true"})
	}
}

// executorMemoryMiB is spark.executor.memory in MiB (a bare number is MiB).
func (d *Driver) executorMemoryMiB() int64 {
	return parseMiB(d.get("spark.executor.memory", "1g"), 1024)
}

// overheadMiB is spark.executor.memoryOverhead, else max(384, factor × memory).
func (d *Driver) overheadMiB(mem int64) int64 {
	if v := d.Conf["spark.executor.memoryOverhead"]; v != "" {
		return parseMiB(v, minMemoryOverhead)
	}
	f := defaultOverheadFac
	for _, k := range []string{"spark.kubernetes.memoryOverheadFactor", "spark.executor.memoryOverheadFactor"} {
		if v, err := strconv.ParseFloat(d.Conf[k], 64); err == nil {
			f = v
		}
	}
	return max(minMemoryOverhead, int64(f*float64(mem)))
}

func parseMiB(s string, def int64) int64 {
	s = strings.ToLower(strings.TrimSpace(s))
	mult := map[string]float64{"k": 1.0 / 1024, "kb": 1.0 / 1024, "m": 1, "mb": 1, "g": 1024, "gb": 1024, "t": 1 << 20, "tb": 1 << 20}
	num := strings.TrimRight(s, "kmgtb")
	unit := s[len(num):]
	n, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return def
	}
	if unit == "" {
		return int64(n)
	}
	m, ok := mult[unit]
	if !ok {
		return def
	}
	return int64(n * m)
}

// prefixed is KubernetesUtils.parsePrefixedKeyValuePairs.
func prefixed(conf map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range conf {
		if rest, ok := strings.CutPrefix(k, prefix); ok && rest != "" {
			out[rest] = v
		}
	}
	return out
}

func merge(base, over map[string]string) map[string]string {
	if base == nil {
		base = map[string]string{}
	}
	for k, v := range over {
		base[k] = v
	}
	return base
}

// DriverOf returns the UID of an executor pod's driver: its controller owner
// of kind Pod.
func DriverOf(pod *corev1.Pod) string {
	for _, o := range pod.OwnerReferences {
		if o.Kind == "Pod" && ptr.Deref(o.Controller, false) {
			return string(o.UID)
		}
	}
	return ""
}
