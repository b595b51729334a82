// Package sparksubmit stands in for spark-submit in Kubernetes cluster mode until the sandbox
// runs real Spark: from a spark-submit command line it creates exactly the objects Spark's
// submission client creates (the bare driver Pod, its spark.properties ConfigMap and its
// headless Service, both owned by the pod), so that tests can migrate and fail over a driver
// as spark-submit leaves it. The simulated kubelet then runs the pod, and its executor
// stand-in (package sparkstandin) creates the executors of a pod labelled spark-role=driver.
//
// The command line is read by kubectl sparkha's own reader (submit.ParseSparkSubmit), which
// follows SparkSubmitOptionParser and SparkSubmitArguments. What is built follows Spark 3.5
// and 4.0 (apache/spark; paths below resource-managers/kubernetes/core/src/main/scala/org/
// apache/spark/deploy/k8s/), by definition since line numbers move between releases:
//
//   - submit/KubernetesClientApplication.scala: KubernetesClientApplication.run (the app ID,
//     KubernetesConf.getKubernetesAppId: "spark-" + a random UUID without dashes), and
//     Client.run: the ConfigMap KubernetesClientUtils.configMapNameDriver holding
//     spark.properties, built with buildConfigMap(name, confFilesMap +
//     (spark.kubernetes.namespace -> namespace)) so that the namespace is a data key too; the
//     env SPARK_CONF_DIR and the volume spark-conf-volume-driver (items from
//     buildKeyToPathObjects, mode 0644) added to the built pod; the pod created first, then
//     the Service and the ConfigMap with addOwnerReference (the pod, controller=true).
//   - submit/KubernetesClientUtils.scala: configMapName ("spark-drv-" + uniqueID +
//     "-conf-map"), buildSparkConfDirFilesMap (spark.properties as Properties.store writes it,
//     with the comment "Java properties built from Kubernetes config map with name: NAME"),
//     buildConfigMap (immutable, no labels).
//   - submit/KubernetesDriverBuilder.scala buildFromFeatures: spark.properties is the whole
//     conf plus each feature step's getAdditionalPodSystemProperties.
//   - KubernetesConf.scala: KubernetesDriverConf (appName = spark.app.name, else "spark";
//     resourceNamePrefix = getResourceNamePrefix(appName); labels: spark-version,
//     spark-app-selector, spark-app-name (getAppNameLabel), spark-role=driver, plus
//     spark.kubernetes.driver.label.*; annotations spark.kubernetes.driver.annotation.*).
//   - features/BasicDriverFeatureStep.scala: pod name spark.kubernetes.driver.pod.name, else
//     PREFIX-driver; container spark-kubernetes-driver with the image, pull policy, the ports
//     driver-rpc-port 7078, blockmanager 7079 and spark-ui 4040, env SPARK_USER,
//     SPARK_APPLICATION_ID, spark.kubernetes.driverEnv.*, SPARK_DRIVER_BIND_ADDRESS (the pod
//     IP), cpu request (spark.kubernetes.driver.request.cores, else spark.driver.cores) and
//     limit, memory request = limit = memory + overhead (max(factor x memory, 384Mi));
//     restartPolicy Never, node selectors, pull secrets; properties
//     spark.kubernetes.driver.pod.name, spark.app.id, spark.kubernetes.submitInDriver and
//     spark.kubernetes.memoryOverheadFactor (the default factor).
//   - features/DriverKubernetesCredentialsFeatureStep.scala: serviceAccountName from
//     spark.kubernetes.authenticate.driver.serviceAccountName.
//   - features/DriverServiceFeatureStep.scala: the headless Service PREFIX-driver-svc
//     ("spark-" + uniqueID + "-driver-svc" beyond 63 characters), labelled spark-app-selector,
//     selecting the driver's labels, ports driver-rpc-port, blockmanager, spark-ui,
//     ipFamilyPolicy SingleStack and ipFamilies IPv4 by default; properties spark.driver.host
//     = SERVICE.NAMESPACE.svc, spark.driver.port, spark.driver.blockManager.port.
//   - features/MountSecretsFeatureStep.scala (SECRET-volume at the path),
//     EnvSecretsFeatureStep.scala, MountVolumesFeatureStep.scala (persistentVolumeClaim,
//     emptyDir and hostPath volumes of spark.kubernetes.driver.volumes.*).
//   - features/DriverCommandFeatureStep.scala baseDriverContainer: args "driver"
//     [--proxy-user USER] --properties-file /opt/spark/conf/spark.properties --class MAIN
//     RESOURCE ARGS...; property spark.kubernetes.resource.type.
//   - features/LocalDirsFeatureStep.scala: the emptyDir spark-local-dir-1 at
//     /var/data/spark-UUID, env SPARK_LOCAL_DIRS.
//   - core/src/main/scala/org/apache/spark/deploy/SparkSubmit.scala prepareSubmitEnvironment:
//     the options' properties (OptionAssigners), spark.app.submitTime, and the primary JVM
//     resource added to spark.jars.
//
// Not modelled: pod templates, file uploads, Kerberos and Hadoop configuration, the
// properties file option, Python and R resources.
package sparksubmit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/sparkstandin"
)

// Spark's names (Constants.scala) that differ from kubectl sparkha's.
const (
	LabelVersion      = "spark-version"
	envSparkUser      = "SPARK_USER"
	envApplicationID  = "SPARK_APPLICATION_ID"
	envBindAddress    = "SPARK_DRIVER_BIND_ADDRESS"
	envLocalDirs      = "SPARK_LOCAL_DIRS"
	envConfDir        = "SPARK_CONF_DIR"
	confFilePath      = submit.SparkConfDir + "/" + submit.SparkConfFile
	dnsLabelMaxLength = 63
)

// Options are what spark-submit takes from its machine rather than its command line.
type Options struct {
	// SparkVersion is the spark-version label: the version of the submitting spark-submit.
	SparkVersion string
	// User is SPARK_USER, Utils.getCurrentUserName on the submitting machine.
	User string
	// Now is the submission time (spark.app.submitTime and the uniqueIDs).
	Now time.Time
	// Random is the source of the app ID and the uniqueIDs; crypto/rand when nil.
	Random io.Reader
}

// Objects are what spark-submit creates for one submission.
type Objects struct {
	Pod       *corev1.Pod
	ConfigMap *corev1.ConfigMap
	Service   *corev1.Service
}

// Build returns the objects spark-submit would create for args (the arguments of a
// spark-submit command line, without the program name), without creating them; the owner
// references of the ConfigMap and the Service name the pod without its UID.
func Build(args []string, o Options) (*Objects, error) {
	s, err := submit.ParseSparkSubmit(args)
	if err != nil {
		return nil, err
	}
	if s.PropertiesFile != "" {
		return nil, fmt.Errorf("the spark-submit stand-in does not read --properties-file")
	}
	random := o.Random
	if random == nil {
		random = rand.Reader
	}
	conf := map[string]string{}
	for _, kv := range s.Conf {
		k, v, _ := strings.Cut(kv, "=")
		conf[k] = v
	}
	namespace := s.Namespace
	if namespace == "" {
		namespace = "default"
	} else {
		conf["spark.kubernetes.namespace"] = namespace
	}
	conf["spark.master"] = "k8s://" + s.MasterURL
	conf["spark.submit.deployMode"] = "cluster"
	conf["spark.app.name"] = s.Name
	conf["spark.app.submitTime"] = strconv.FormatInt(o.Now.UnixMilli(), 10)
	set := func(key, v string) {
		if v != "" {
			conf[key] = v
		}
	}
	itoa := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	}
	set("spark.driver.memory", s.DriverMemory)
	set("spark.executor.memory", s.ExecutorMemory)
	set("spark.driver.cores", itoa(s.DriverCores))
	set("spark.executor.cores", itoa(s.ExecutorCores))
	set("spark.executor.instances", itoa(s.NumExecutors))
	if strings.HasSuffix(s.PrimaryResource, ".py") || strings.HasSuffix(strings.ToLower(s.PrimaryResource), ".r") {
		return nil, fmt.Errorf("the spark-submit stand-in builds JVM applications only")
	}
	jars := splitList(conf["spark.jars"])
	if !slices.Contains(jars, s.PrimaryResource) {
		jars = append(jars, s.PrimaryResource)
	}
	conf["spark.jars"] = strings.Join(jars, ",")

	appID := "spark-" + randomHex(random, 16)
	prefix := sparkstandin.NamePrefix(s.Name, sparkstandin.UniqueID(random, o.Now))
	podName := conf["spark.kubernetes.driver.pod.name"]
	if podName == "" {
		podName = prefix + "-driver"
	}
	svcName := prefix + "-driver-svc"
	if len(svcName) > dnsLabelMaxLength {
		svcName = "spark-" + sparkstandin.UniqueID(random, o.Now) + "-driver-svc"
	}
	cmName := "spark-drv-" + sparkstandin.UniqueID(random, o.Now) + "-conf-map"
	localDir := "/var/data/spark-" + uuid(random)

	labels := prefixed(conf, "spark.kubernetes.driver.label.")
	labels[LabelVersion] = o.SparkVersion
	labels[sparkstandin.LabelAppID] = appID
	labels[sparkstandin.LabelAppName] = appNameLabel(s.Name)
	labels[sparkstandin.LabelRole] = sparkstandin.RoleDriver
	annotations := prefixed(conf, "spark.kubernetes.driver.annotation.")
	for k, v := range annotations {
		annotations[k] = strings.ReplaceAll(v, "{{APP_ID}}", appID)
	}

	memMiB, err := submit.ParseMemoryMiB(orDefault(conf["spark.driver.memory"], "1g"))
	if err != nil {
		return nil, err
	}
	factor := 0.1
	if f, ok := conf["spark.kubernetes.memoryOverheadFactor"]; ok {
		if factor, err = strconv.ParseFloat(f, 64); err != nil {
			return nil, err
		}
	}
	overhead := max(int64(factor*float64(memMiB)), 384)
	if v, ok := conf["spark.driver.memoryOverhead"]; ok {
		if overhead, err = submit.ParseMemoryMiB(v); err != nil {
			return nil, err
		}
	}
	memory := resource.MustParse(fmt.Sprintf("%dMi", memMiB+overhead))
	cpu, err := resource.ParseQuantity(orDefault(conf["spark.kubernetes.driver.request.cores"], orDefault(conf["spark.driver.cores"], "1")))
	if err != nil {
		return nil, err
	}
	image := orDefault(conf["spark.kubernetes.driver.container.image"], conf["spark.kubernetes.container.image"])
	if image == "" {
		return nil, fmt.Errorf("no driver container image: spark-submit refuses it too (\"Must specify the driver container image\")")
	}

	fieldRef := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}
	}
	env := []corev1.EnvVar{{Name: envSparkUser, Value: o.User}, {Name: envApplicationID, Value: appID}}
	for _, k := range slices.Sorted(maps.Keys(prefixed(conf, "spark.kubernetes.driverEnv."))) {
		env = append(env, corev1.EnvVar{Name: k, Value: conf["spark.kubernetes.driverEnv."+k]})
	}
	env = append(env, corev1.EnvVar{Name: envBindAddress, ValueFrom: fieldRef("status.podIP")})
	for _, k := range slices.Sorted(maps.Keys(prefixed(conf, "spark.kubernetes.driver.secretKeyRef."))) {
		secret, key, _ := strings.Cut(conf["spark.kubernetes.driver.secretKeyRef."+k], ":")
		env = append(env, corev1.EnvVar{Name: k, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}}})
	}
	ctr := corev1.Container{
		Name:            submit.DriverContainerName,
		Image:           image,
		ImagePullPolicy: corev1.PullPolicy(orDefault(conf["spark.kubernetes.container.image.pullPolicy"], string(corev1.PullIfNotPresent))),
		Ports: []corev1.ContainerPort{
			{Name: submit.DriverPortName, ContainerPort: submit.DriverPort, Protocol: corev1.ProtocolTCP},
			{Name: submit.BlockManagerPortName, ContainerPort: submit.BlockManagerPort, Protocol: corev1.ProtocolTCP},
			{Name: submit.UIPortName, ContainerPort: submit.UIPort, Protocol: corev1.ProtocolTCP},
		},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: cpu, corev1.ResourceMemory: memory},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: memory},
		},
	}
	if l := conf["spark.kubernetes.driver.limit.cores"]; l != "" {
		q, err := resource.ParseQuantity(l)
		if err != nil {
			return nil, err
		}
		ctr.Resources.Limits[corev1.ResourceCPU] = q
	}
	var volumes []corev1.Volume
	for _, k := range slices.Sorted(maps.Keys(prefixed(conf, "spark.kubernetes.driver.secrets."))) {
		name := k + "-volume"
		volumes = append(volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: k}}})
		ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: conf["spark.kubernetes.driver.secrets."+k]})
	}
	vols, mounts, err := driverVolumes(conf)
	if err != nil {
		return nil, err
	}
	volumes, ctr.VolumeMounts = append(volumes, vols...), append(ctr.VolumeMounts, mounts...)
	ctr.Args = []string{"driver"}
	if s.ProxyUser != "" {
		ctr.Args = append(ctr.Args, "--proxy-user", s.ProxyUser)
	}
	ctr.Args = append(append(ctr.Args, "--properties-file", confFilePath, "--class", s.MainClass, s.PrimaryResource), s.AppArgs...)
	ctr.Env = append(env, corev1.EnvVar{Name: envLocalDirs, Value: localDir})
	volumes = append(volumes, corev1.Volume{Name: submit.LocalDirVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: submit.LocalDirVolume, MountPath: localDir})
	// Client.run adds the conf directory last.
	ctr.Env = append(ctr.Env, corev1.EnvVar{Name: envConfDir, Value: submit.SparkConfDir})
	ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: submit.SparkConfVolume, MountPath: submit.SparkConfDir})
	volumes = append(volumes, corev1.Volume{Name: submit.SparkConfVolume, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: cmName},
		Items:                []corev1.KeyToPath{{Key: submit.SparkConfFile, Path: submit.SparkConfFile, Mode: ptr.To[int32](0o644)}},
	}}})

	nodeSelector := prefixed(conf, "spark.kubernetes.node.selector.")
	for k, v := range prefixed(conf, "spark.kubernetes.driver.node.selector.") {
		nodeSelector[k] = v
	}
	var pullSecrets []corev1.LocalObjectReference
	for _, n := range splitList(conf["spark.kubernetes.container.image.pullSecrets"]) {
		pullSecrets = append(pullSecrets, corev1.LocalObjectReference{Name: n})
	}
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: podName, Namespace: namespace, Labels: labels, Annotations: nilIfEmpty(annotations)},
		Spec: corev1.PodSpec{
			RestartPolicy:      corev1.RestartPolicyNever,
			Containers:         []corev1.Container{ctr},
			Volumes:            volumes,
			NodeSelector:       nilIfEmpty(nodeSelector),
			ImagePullSecrets:   pullSecrets,
			ServiceAccountName: conf["spark.kubernetes.authenticate.driver.serviceAccountName"],
		},
	}

	props := map[string]string{}
	for k, v := range conf {
		props[k] = v
	}
	props["spark.kubernetes.driver.pod.name"] = podName
	props["spark.app.id"] = appID
	props["spark.kubernetes.submitInDriver"] = "true"
	props["spark.kubernetes.memoryOverheadFactor"] = strconv.FormatFloat(factor, 'f', -1, 64)
	props["spark.driver.host"] = svcName + "." + namespace + ".svc"
	props["spark.driver.port"] = strconv.Itoa(submit.DriverPort)
	props["spark.driver.blockManager.port"] = strconv.Itoa(submit.BlockManagerPort)
	props["spark.kubernetes.resource.type"] = "java"
	// Properties.store: the comment, the date, then the entries (escaped as kubectl sparkha
	// escapes them, which Properties.load reads back the same).
	text := "#Java properties built from Kubernetes config map with name: " + cmName + "\n#" +
		o.Now.UTC().Format("Mon Jan 02 15:04:05 MST 2006") + "\n" + submit.RenderProperties("", props)
	owner := []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: podName, Controller: ptr.To(true)}}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: cmName, Namespace: namespace, OwnerReferences: owner},
		Immutable:  ptr.To(true),
		Data:       map[string]string{submit.SparkConfFile: text, "spark.kubernetes.namespace": namespace},
	}
	port := func(name string, p int32) corev1.ServicePort {
		return corev1.ServicePort{Name: name, Port: p, TargetPort: intstr.FromInt32(p)}
	}
	svc := &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: svcName, Namespace: namespace, OwnerReferences: owner,
			Labels: map[string]string{sparkstandin.LabelAppID: appID}, Annotations: nilIfEmpty(prefixed(conf, "spark.kubernetes.driver.service.annotation."))},
		Spec: corev1.ServiceSpec{
			ClusterIP:      corev1.ClusterIPNone,
			Selector:       labels,
			IPFamilyPolicy: ptr.To(corev1.IPFamilyPolicySingleStack),
			IPFamilies:     []corev1.IPFamily{corev1.IPv4Protocol},
			Ports: []corev1.ServicePort{
				port(submit.DriverPortName, submit.DriverPort),
				port(submit.BlockManagerPortName, submit.BlockManagerPort),
				port(submit.UIPortName, submit.UIPort),
			},
		},
	}
	return &Objects{Pod: pod, ConfigMap: cm, Service: svc}, nil
}

// Submit creates the objects of a spark-submit line as Client.run does: the driver pod, then
// the Service and the ConfigMap owned by it. The pod waits for its ConfigMap volume meanwhile.
func Submit(ctx context.Context, c kubernetes.Interface, args []string, o Options) (*Objects, error) {
	objs, err := Build(args, o)
	if err != nil {
		return nil, err
	}
	ns := objs.Pod.Namespace
	if objs.Pod, err = c.CoreV1().Pods(ns).Create(ctx, objs.Pod, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	for _, ref := range []*[]metav1.OwnerReference{&objs.Service.OwnerReferences, &objs.ConfigMap.OwnerReferences} {
		(*ref)[0].UID = objs.Pod.UID
	}
	if objs.Service, err = c.CoreV1().Services(ns).Create(ctx, objs.Service, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	if objs.ConfigMap, err = c.CoreV1().ConfigMaps(ns).Create(ctx, objs.ConfigMap, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	return objs, nil
}

// driverVolumes are MountVolumesFeatureStep's volumes of spark.kubernetes.driver.volumes.
// TYPE.NAME.{mount.path,mount.readOnly,mount.subPath,options.*}.
func driverVolumes(conf map[string]string) ([]corev1.Volume, []corev1.VolumeMount, error) {
	const prefix = "spark.kubernetes.driver.volumes."
	type spec struct{ kind, name string }
	seen := map[spec]bool{}
	var order []spec
	for _, k := range slices.Sorted(maps.Keys(conf)) {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		parts := strings.SplitN(rest, ".", 3)
		if len(parts) < 3 {
			return nil, nil, fmt.Errorf("invalid volume key %s", k)
		}
		if s := (spec{parts[0], parts[1]}); !seen[s] {
			seen[s] = true
			order = append(order, s)
		}
	}
	var vols []corev1.Volume
	var mounts []corev1.VolumeMount
	for _, s := range order {
		get := func(key string) string { return conf[prefix+s.kind+"."+s.name+"."+key] }
		v := corev1.Volume{Name: s.name}
		switch s.kind {
		case "persistentVolumeClaim":
			v.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: get("options.claimName"), ReadOnly: get("mount.readOnly") == "true"}
		case "emptyDir":
			v.EmptyDir = &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMedium(get("options.medium"))}
		case "hostPath":
			v.HostPath = &corev1.HostPathVolumeSource{Path: get("options.path"), Type: ptr.To(corev1.HostPathType(get("options.type")))}
		default:
			return nil, nil, fmt.Errorf("the spark-submit stand-in does not build %s volumes", s.kind)
		}
		vols = append(vols, v)
		mounts = append(mounts, corev1.VolumeMount{Name: s.name, MountPath: get("mount.path"), SubPath: get("mount.subPath"), ReadOnly: get("mount.readOnly") == "true"})
	}
	return vols, mounts, nil
}

var (
	notNameChar = regexp.MustCompile(`[^a-z0-9-]`)
	dashes      = regexp.MustCompile(`-+`)
)

// appNameLabel is KubernetesConf.getAppNameLabel: lower case, every other character '-', runs
// of '-' squeezed, at most 63 characters, trimmed of '-' at the ends.
func appNameLabel(name string) string {
	s := dashes.ReplaceAllString(notNameChar.ReplaceAllString(strings.ToLower(strings.TrimSpace(name)), "-"), "-")
	if len(s) > dnsLabelMaxLength {
		s = s[:dnsLabelMaxLength]
	}
	return strings.Trim(s, "-")
}

func randomHex(r io.Reader, n int) string {
	b := make([]byte, n)
	_, _ = io.ReadFull(r, b)
	return hex.EncodeToString(b)
}

// uuid is a random UUID's text (LocalDirsFeatureStep's directory name).
func uuid(r io.Reader) string {
	h := randomHex(r, 16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func prefixed(conf map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range conf {
		if name, ok := strings.CutPrefix(k, prefix); ok && name != "" {
			out[name] = v
		}
	}
	return out
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
