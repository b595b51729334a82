package submit

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/expansion"
)

// DriverPod is what the Spark conf asks of the driver pod, resolved the way upstream's driver
// feature steps resolve it (see KeyRules for the step of each key).
type DriverPod struct {
	Image       string
	PullPolicy  corev1.PullPolicy
	PullSecrets []corev1.LocalObjectReference
	// Env comes after Spark's own variables: driverEnv, secretKeyRef, PySpark and Hadoop.
	Env          []corev1.EnvVar
	Labels       map[string]string
	Annotations  map[string]string
	NodeSelector map[string]string
	// SchedulerName is empty for the cluster's default scheduler.
	SchedulerName string
	CPURequest    resource.Quantity
	CPULimit      *resource.Quantity
	// ExtraLimits are spark.driver.resource.* (e.g. nvidia.com/gpu).
	ExtraLimits corev1.ResourceList
	// Volumes and Mounts are the secrets, user volumes and the Hadoop conf.
	Volumes []corev1.Volume
	Mounts  []corev1.VolumeMount
	// LocalDirs are Spark's scratch directories, one emptyDir each unless LocalDirsMounted;
	// none when LocalDirsFeatureStep is left out.
	LocalDirs      []string
	LocalDirsTmpfs bool
	// LocalDirsMounted says the local dirs are the user's own volumes named spark-local-dir-*
	// (a driver volume key or the template's container), which replace the emptyDirs.
	LocalDirsMounted bool
	UIPort           int32
	// ConnectPort is Spark Connect's port, which Spark 4.1 and later expose on the driver.
	ConnectPort int32
	// AllowPrivilegeEscalation is the Spark container's (Spark 4.3; default false).
	AllowPrivilegeEscalation bool
	// Excluded are the feature steps spark.kubernetes.driver.pod.excludedFeatureSteps leaves
	// out, by class name without the package.
	Excluded map[string]bool
	// Template is spark.kubernetes.driver.podTemplateFile, parsed; nil without one.
	Template *corev1.Pod
	// TemplateContainer names the template's container that runs the driver ("" = the first).
	TemplateContainer string
}

// DriverService is what the Spark conf asks of the driver Service.
type DriverService struct {
	Labels         map[string]string
	Annotations    map[string]string
	IPFamilyPolicy *corev1.IPFamilyPolicy
	IPFamilies     []corev1.IPFamily
	// PublishNotReadyAddresses is spark.kubernetes.driver.service.publishNotReadyAddresses.
	PublishNotReadyAddresses bool
}

// Paths and names of upstream's feature steps (Constants.scala).
const (
	// PodTemplateConfigMapStep.
	ExecutorTemplateDir  = "/opt/spark/pod-template"
	ExecutorTemplateFile = "pod-spec-template.yml"
	ExecutorTemplateKey  = "spark.kubernetes.executor.podTemplateFile"
	DriverTemplateKey    = "spark.kubernetes.driver.podTemplateFile"
	PodTemplateVolume    = "pod-template-volume"
	// HadoopConfDriverFeatureStep.
	HadoopConfVolume = "hadoop-properties"
	HadoopConfDir    = "/opt/hadoop/conf"
	// LocalDirsFeatureStep.
	localDirVolumePrefix = "spark-local-dir-"
)

// envSetBySparkha are the driver container's variables that carry the generation's identity
// or that the image's entrypoint reads; driverEnv cannot override them.
var envSetBySparkha = map[string]bool{
	EnvDriverPodName: true, EnvDriverPodUID: true, EnvDriverPodIP: true, EnvApplicationID: true,
	"SPARK_DRIVER_BIND_ADDRESS": true, "SPARK_LOCAL_DIRS": true, "SPARK_CONF_DIR": true,
}

// EnvSparkUser is Spark's ENV_SPARK_USER: the user the driver acts as.
const EnvSparkUser = "SPARK_USER"

// Spark Connect's port (Constants.scala, Spark 4.1: CONNECT_GRPC_BINDING_PORT,
// DEFAULT_SPARK_CONNECT_SERVER_PORT, SPARK_CONNECT_SERVER_PORT_NAME).
const (
	ConnectPortKey  = "spark.connect.grpc.binding.port"
	ConnectPort     = 15002
	ConnectPortName = "spark-connect"
)

// Spark 4.1 substitutes {{SPARK_VERSION}} in image names with the submitting Spark's version
// (KubernetesConf.image, Utils.substituteSparkVersion); kubectl sparkha has no Spark version.
const (
	sparkVersionPlaceholder = "{{SPARK_VERSION}}"
	sparkVersionRefusal     = "spark-submit replaces {{SPARK_VERSION}} with its own Spark version, and kubectl sparkha has none: write the version, e.g. apache/spark:4.3.0"
)

func keysWithPrefix(conf map[string]confEntry, prefix string) []string {
	var out []string
	for k := range conf {
		if strings.HasPrefix(k, prefix) && len(k) > len(prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func invalid(key string, e confEntry, format string, args ...any) error {
	return fmt.Errorf("invalid %s %q in %s: %s", key, e.value, e.source, fmt.Sprintf(format, args...))
}

// driverStep is one of upstream's driver feature steps as kubectl sparkha applies it: it reads
// the conf into d and svc. The order is KubernetesDriverBuilder's.
type driverStep struct {
	// class is the step's class in org.apache.spark.deploy.k8s.features, as
	// spark.kubernetes.driver.pod.excludedFeatureSteps names it.
	class string
	// required says kubectl sparkha cannot build a driver without the step, and why.
	required string
	resolve  func(r *driverResolver) error
}

// driverResolver carries the conf and the driver being built through the steps.
type driverResolver struct {
	conf     map[string]confEntry
	app      *App
	readFile func(string) ([]byte, error)
	d        DriverPod
	svc      DriverService
}

func (r *driverResolver) get(key string) (confEntry, bool) { e, ok := r.conf[key]; return e, ok }

// The driver steps other code asks about, as DriverPod.Excluded names them.
const (
	stepNetworkPolicy        = "NetworkPolicyFeatureStep"
	stepHadoopConf           = "HadoopConfDriverFeatureStep"
	stepPodTemplateConfigMap = "PodTemplateConfigMapStep"
	stepLocalDirs            = "LocalDirsFeatureStep"
)

// driverSteps are KubernetesDriverBuilder's steps (Spark 4.3; NetworkPolicyFeatureStep since
// 4.2), each with what kubectl sparkha does with its keys.
var driverSteps = []driverStep{
	{class: "BasicDriverFeatureStep", required: "it builds the driver container (image, resources, ports, environment)", resolve: (*driverResolver).basic},
	{class: "DriverKubernetesCredentialsFeatureStep", required: "it sets the driver's service account, which --service-account sets"},
	{class: "DriverServiceFeatureStep", required: "kubectl sparkha's driver Service NAME-driver-svc serves every driver generation", resolve: (*driverResolver).service},
	{class: stepNetworkPolicy}, // buildNetworkPolicy
	{class: "MountSecretsFeatureStep", resolve: (*driverResolver).secrets},
	{class: "EnvSecretsFeatureStep", resolve: (*driverResolver).envSecrets},
	{class: "MountVolumesFeatureStep", resolve: (*driverResolver).volumes},
	{class: "DriverCommandFeatureStep", required: "it builds the driver's command line, which carries each generation's identity", resolve: (*driverResolver).command},
	{class: stepHadoopConf, resolve: (*driverResolver).hadoopConf},
	{class: "KerberosConfDriverFeatureStep"},
	{class: stepPodTemplateConfigMap},
	{class: stepLocalDirs, resolve: (*driverResolver).localDirs},
}

// FeatureStepPackage is the package of Spark's feature steps.
const FeatureStepPackage = "org.apache.spark.deploy.k8s.features."

// ExcludedStepsKey is spark.kubernetes.driver.pod.excludedFeatureSteps (Spark 4.1).
const ExcludedStepsKey = "spark.kubernetes.driver.pod.excludedFeatureSteps"

// excludedSteps reads spark.kubernetes.driver.pod.excludedFeatureSteps as Config.scala does
// (comma-separated class names) and refuses a step kubectl sparkha cannot leave out, or a name
// that is not one of Spark's driver steps (Spark would ignore it silently).
func excludedSteps(conf map[string]confEntry) (map[string]bool, error) {
	e, ok := conf[ExcludedStepsKey]
	if !ok {
		return nil, nil
	}
	out := map[string]bool{}
	for _, name := range strings.Split(e.value, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		class, _ := strings.CutPrefix(name, FeatureStepPackage)
		i := slices.IndexFunc(driverSteps, func(s driverStep) bool { return s.class == class })
		switch {
		case i < 0 || !strings.HasPrefix(name, FeatureStepPackage):
			return nil, invalid(ExcludedStepsKey, e, "%s is not one of Spark's driver feature steps; name steps of %s: %s", name, strings.TrimSuffix(FeatureStepPackage, "."), strings.Join(optionalDriverSteps(), ", "))
		case driverSteps[i].required != "":
			return nil, invalid(ExcludedStepsKey, e, "kubectl sparkha cannot leave out %s: %s", class, driverSteps[i].required)
		}
		out[class] = true
	}
	return out, nil
}

// optionalDriverSteps are the driver steps kubectl sparkha can leave out.
func optionalDriverSteps() []string {
	var names []string
	for _, s := range driverSteps {
		if s.required == "" {
			names = append(names, s.class)
		}
	}
	return names
}

// resolveDriverPod reads the driver-side pod settings of conf, step by step as upstream's
// driver feature steps read them. readFile reads a file on this machine (pod templates); it
// may be nil when no template key is set.
func resolveDriverPod(conf map[string]confEntry, app *App, readFile func(string) ([]byte, error)) (DriverPod, DriverService, error) {
	r := &driverResolver{conf: conf, app: app, readFile: readFile,
		d: DriverPod{Image: app.Image, PullPolicy: corev1.PullIfNotPresent, UIPort: UIPort, ConnectPort: ConnectPort}}
	excluded, err := excludedSteps(conf)
	if err != nil {
		return r.d, r.svc, err
	}
	r.d.Excluded = excluded
	for _, s := range driverSteps {
		if s.resolve == nil || excluded[s.class] {
			continue
		}
		if err := s.resolve(r); err != nil {
			return r.d, r.svc, err
		}
	}
	// The template is not a step: KubernetesDriverBuilder loads it first and the steps build on it.
	if err := r.template(); err != nil {
		return r.d, r.svc, err
	}
	if !excluded[stepLocalDirs] {
		r.ownLocalDirs()
	}
	return r.d, r.svc, nil
}

// basic is BasicDriverFeatureStep: image, environment, labels, annotations, node selection,
// resources, ports and the container's security context.
func (r *driverResolver) basic() error {
	for _, f := range []func() error{r.image, r.env, r.podMeta, r.nodeSelection, r.cpu, r.ports, r.securityContext} {
		if err := f(); err != nil {
			return err
		}
	}
	var err error
	r.d.ExtraLimits, err = driverResources(r.conf)
	return err
}

func (r *driverResolver) image() error {
	d := &r.d
	if e, ok := r.get("spark.kubernetes.driver.container.image"); ok {
		if strings.TrimSpace(e.value) == "" || strings.ContainsAny(e.value, " \t\n") {
			return invalid("spark.kubernetes.driver.container.image", e, "give an image reference without whitespace")
		}
		if strings.Contains(e.value, sparkVersionPlaceholder) {
			return invalid("spark.kubernetes.driver.container.image", e, "%s", sparkVersionRefusal)
		}
		d.Image = e.value
	}
	if e, ok := r.get("spark.kubernetes.container.image.pullPolicy"); ok {
		switch p := corev1.PullPolicy(e.value); p {
		case corev1.PullAlways, corev1.PullNever, corev1.PullIfNotPresent:
			d.PullPolicy = p
		default:
			return invalid("spark.kubernetes.container.image.pullPolicy", e, "use Always, Never or IfNotPresent")
		}
	}
	if e, ok := r.get("spark.kubernetes.container.image.pullSecrets"); ok {
		for _, s := range strings.Split(e.value, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			if errs := validation.IsDNS1123Subdomain(s); len(errs) > 0 {
				return invalid("spark.kubernetes.container.image.pullSecrets", e, "%q is not a Secret name: %s", s, strings.Join(errs, "; "))
			}
			d.PullSecrets = append(d.PullSecrets, corev1.LocalObjectReference{Name: s})
		}
	}
	return nil
}

// env: SPARK_USER (the proxy user, else the submitting user, as BasicDriverFeatureStep sets
// it), then spark.kubernetes.driverEnv.*.
func (r *driverResolver) env() error {
	if u := r.app.SparkUser; u != "" {
		r.d.Env = append(r.d.Env, corev1.EnvVar{Name: EnvSparkUser, Value: expansion.Escape(u)})
	}
	for _, k := range keysWithPrefix(r.conf, "spark.kubernetes.driverEnv.") {
		name := strings.TrimPrefix(k, "spark.kubernetes.driverEnv.")
		if errs := validation.IsEnvVarName(name); len(errs) > 0 {
			return fmt.Errorf("invalid %s in %s: %q is not an environment variable name: %s", k, r.conf[k].source, name, strings.Join(errs, "; "))
		}
		if r.envReserved(name) {
			return fmt.Errorf("%s in %s cannot be set: kubectl sparkha sets %s for every driver generation; remove it", k, r.conf[k].source, name)
		}
		r.d.Env = append(r.d.Env, corev1.EnvVar{Name: name, Value: r.conf[k].value})
	}
	return nil
}

// envReserved says whether kubectl sparkha sets the variable name itself.
func (r *driverResolver) envReserved(name string) bool {
	return envSetBySparkha[name] && !(name == "SPARK_LOCAL_DIRS" && r.d.Excluded[stepLocalDirs])
}

// podMeta: the driver pods' labels and annotations (KubernetesDriverConf).
func (r *driverResolver) podMeta() error {
	var err error
	if r.d.Labels, err = confLabels(r.conf, "spark.kubernetes.driver.label."); err != nil {
		return err
	}
	r.d.Annotations, err = confAnnotations(r.conf, "spark.kubernetes.driver.annotation.", r.app.AppID)
	return err
}

// nodeSelection: node selectors, the general ones then the driver's (BasicDriverFeatureStep
// adds both, the driver's last), and the scheduler.
func (r *driverResolver) nodeSelection() error {
	r.d.NodeSelector = map[string]string{}
	for _, prefix := range []string{"spark.kubernetes.node.selector.", "spark.kubernetes.driver.node.selector."} {
		for _, k := range keysWithPrefix(r.conf, prefix) {
			name := strings.TrimPrefix(k, prefix)
			if errs := validation.IsQualifiedName(name); len(errs) > 0 {
				return fmt.Errorf("invalid %s in %s: %q is not a label key: %s", k, r.conf[k].source, name, strings.Join(errs, "; "))
			}
			if errs := validation.IsValidLabelValue(r.conf[k].value); len(errs) > 0 {
				return invalid(k, r.conf[k], "%s", strings.Join(errs, "; "))
			}
			r.d.NodeSelector[name] = r.conf[k].value
		}
	}
	for _, key := range []string{"spark.kubernetes.scheduler.name", "spark.kubernetes.driver.scheduler.name"} {
		if e, ok := r.get(key); ok {
			if errs := validation.IsDNS1123Subdomain(e.value); len(errs) > 0 {
				return invalid(key, e, "%s", strings.Join(errs, "; "))
			}
			r.d.SchedulerName = e.value
		}
	}
	return nil
}

func (r *driverResolver) cpu() error {
	r.d.CPURequest = *resource.NewQuantity(int64(r.app.DriverCores), resource.DecimalSI)
	if e, ok := r.get("spark.kubernetes.driver.request.cores"); ok {
		q, err := parseQuantity(e.value)
		if err != nil || q.Sign() <= 0 {
			return invalid("spark.kubernetes.driver.request.cores", e, "use a CPU quantity greater than zero, e.g. 0.5 or 500m")
		}
		r.d.CPURequest = q
	}
	if e, ok := r.get("spark.kubernetes.driver.limit.cores"); ok {
		q, err := parseQuantity(e.value)
		if err != nil || q.Sign() <= 0 {
			return invalid("spark.kubernetes.driver.limit.cores", e, "use a CPU quantity greater than zero, e.g. 2 or 1500m")
		}
		r.d.CPULimit = &q
	}
	return nil
}

// ports: the UI's and, since Spark 4.1, Spark Connect's (spark.connect.grpc.binding.port,
// default 15002), which the container and the Service expose beside the driver's two.
func (r *driverResolver) ports() error {
	taken := map[int32]string{DriverPort: "spark.driver.port", BlockManagerPort: "spark.driver.blockManager.port"}
	for _, p := range []struct {
		key string
		to  *int32
	}{{"spark.ui.port", &r.d.UIPort}, {ConnectPortKey, &r.d.ConnectPort}} {
		if e, ok := r.get(p.key); ok {
			n, err := strconv.Atoi(strings.TrimSpace(e.value))
			if err != nil || n < 1 || n > 65535 {
				return invalid(p.key, e, "use a port from 1 to 65535 (the driver Service exposes it)")
			}
			*p.to = int32(n)
		}
		if other, dup := taken[*p.to]; dup {
			return fmt.Errorf("invalid %s: port %d is %s's, and the driver Service exposes each port once: set another with --conf %s=PORT", p.key, *p.to, other, p.key)
		}
		taken[*p.to] = p.key
	}
	return nil
}

// securityContext: the Spark container's allowPrivilegeEscalation, Spark 4.3's
// spark.kubernetes.driver.securityContext.allowPrivilegeEscalation, falling back to
// spark.kubernetes.securityContext.allowPrivilegeEscalation, default false.
func (r *driverResolver) securityContext() error {
	for _, key := range []string{"spark.kubernetes.securityContext.allowPrivilegeEscalation", "spark.kubernetes.driver.securityContext.allowPrivilegeEscalation"} {
		if e, ok := r.get(key); ok {
			b, err := strconv.ParseBool(strings.TrimSpace(e.value))
			if err != nil {
				return invalid(key, e, "use true or false")
			}
			r.d.AllowPrivilegeEscalation = b
		}
	}
	return nil
}

// service is DriverServiceFeatureStep: the Service's labels, annotations, IP families and,
// since Spark 4.3, publishNotReadyAddresses.
func (r *driverResolver) service() error {
	svc := &r.svc
	var err error
	if svc.Labels, err = confLabels(r.conf, "spark.kubernetes.driver.service.label."); err != nil {
		return err
	}
	// DriverServiceFeatureStep copies the Service's annotations as they are.
	if svc.Annotations, err = confAnnotations(r.conf, "spark.kubernetes.driver.service.annotation.", ""); err != nil {
		return err
	}
	if e, ok := r.get("spark.kubernetes.driver.service.ipFamilyPolicy"); ok {
		switch p := corev1.IPFamilyPolicy(e.value); p {
		case corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack:
			svc.IPFamilyPolicy = &p
		default:
			return invalid("spark.kubernetes.driver.service.ipFamilyPolicy", e, "use SingleStack, PreferDualStack or RequireDualStack")
		}
	}
	if e, ok := r.get("spark.kubernetes.driver.service.ipFamilies"); ok {
		// Config.scala's checkValues: IPv4, IPv6, IPv4,IPv6 or IPv6,IPv4.
		switch e.value {
		case "IPv4", "IPv6", "IPv4,IPv6", "IPv6,IPv4":
			for _, f := range strings.Split(e.value, ",") {
				svc.IPFamilies = append(svc.IPFamilies, corev1.IPFamily(f))
			}
		default:
			return invalid("spark.kubernetes.driver.service.ipFamilies", e, "use IPv4, IPv6, IPv4,IPv6 or IPv6,IPv4")
		}
	}
	if e, ok := r.get("spark.kubernetes.driver.service.publishNotReadyAddresses"); ok {
		b, err := strconv.ParseBool(strings.TrimSpace(e.value))
		if err != nil {
			return invalid("spark.kubernetes.driver.service.publishNotReadyAddresses", e, "use true or false")
		}
		svc.PublishNotReadyAddresses = b
	}
	return nil
}

// secrets is MountSecretsFeatureStep: SECRET=PATH mounts the Secret (volume SECRET-volume).
func (r *driverResolver) secrets() error {
	for _, k := range keysWithPrefix(r.conf, "spark.kubernetes.driver.secrets.") {
		secret := strings.TrimPrefix(k, "spark.kubernetes.driver.secrets.")
		if errs := validation.IsDNS1123Subdomain(secret); len(errs) > 0 {
			return fmt.Errorf("invalid %s in %s: %q is not a Secret name: %s", k, r.conf[k].source, secret, strings.Join(errs, "; "))
		}
		if !path.IsAbs(r.conf[k].value) {
			return invalid(k, r.conf[k], "use the absolute directory where the Secret's keys appear, e.g. --conf %s=/etc/secrets", k)
		}
		vol := secret + "-volume"
		r.d.Volumes = append(r.d.Volumes, corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}})
		r.d.Mounts = append(r.d.Mounts, corev1.VolumeMount{Name: vol, MountPath: r.conf[k].value})
	}
	return nil
}

// envSecrets is EnvSecretsFeatureStep: ENV=SECRET:KEY.
func (r *driverResolver) envSecrets() error {
	for _, k := range keysWithPrefix(r.conf, "spark.kubernetes.driver.secretKeyRef.") {
		name := strings.TrimPrefix(k, "spark.kubernetes.driver.secretKeyRef.")
		// EnvSecretsFeatureStep: split(":") must give exactly NAME and KEY.
		secret, key, _ := strings.Cut(r.conf[k].value, ":")
		if strings.Count(r.conf[k].value, ":") != 1 || secret == "" || key == "" {
			return invalid(k, r.conf[k], "use SECRET:KEY, e.g. --conf %s=db-credentials:password", k)
		}
		if errs := validation.IsEnvVarName(name); len(errs) > 0 || r.envReserved(name) {
			return fmt.Errorf("invalid %s in %s: %q cannot be an environment variable of the driver", k, r.conf[k].source, name)
		}
		r.d.Env = append(r.d.Env, corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}}})
	}
	return nil
}

// volumes is MountVolumesFeatureStep: spark.kubernetes.driver.volumes.*.
func (r *driverResolver) volumes() error {
	vols, mounts, err := driverVolumes(r.conf)
	r.d.Volumes, r.d.Mounts = append(r.d.Volumes, vols...), append(r.d.Mounts, mounts...)
	return err
}

// command is DriverCommandFeatureStep's environment: the driver's Python comes from
// spark.pyspark.driver.python, else spark.pyspark.python (configureForPython).
func (r *driverResolver) command() error {
	if r.app.ResourceType != "python" {
		return nil
	}
	py, hasPy := r.get("spark.pyspark.python")
	if hasPy {
		r.d.Env = append(r.d.Env, corev1.EnvVar{Name: "PYSPARK_PYTHON", Value: py.value})
	}
	if e, ok := r.get("spark.pyspark.driver.python"); ok {
		r.d.Env = append(r.d.Env, corev1.EnvVar{Name: "PYSPARK_DRIVER_PYTHON", Value: e.value})
	} else if hasPy {
		r.d.Env = append(r.d.Env, corev1.EnvVar{Name: "PYSPARK_DRIVER_PYTHON", Value: py.value})
	}
	return nil
}

// hadoopConf is HadoopConfDriverFeatureStep: the named ConfigMap at /opt/hadoop/conf.
func (r *driverResolver) hadoopConf() error {
	e, ok := r.get("spark.kubernetes.hadoop.configMapName")
	if !ok {
		return nil
	}
	if errs := validation.IsDNS1123Subdomain(e.value); len(errs) > 0 {
		return invalid("spark.kubernetes.hadoop.configMapName", e, "%s", strings.Join(errs, "; "))
	}
	r.d.Volumes = append(r.d.Volumes, corev1.Volume{Name: HadoopConfVolume, VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: e.value}}}})
	r.d.Mounts = append(r.d.Mounts, corev1.VolumeMount{Name: HadoopConfVolume, MountPath: HadoopConfDir})
	r.d.Env = append(r.d.Env, corev1.EnvVar{Name: "HADOOP_CONF_DIR", Value: HadoopConfDir})
	return nil
}

// localDirs is LocalDirsFeatureStep: spark.local.dir, else one generated directory; the user's
// own volumes named spark-local-dir-* replace them (ownLocalDirs, once the template is read).
func (r *driverResolver) localDirs() error {
	if e, ok := r.get("spark.local.dir"); ok {
		for _, dir := range strings.Split(e.value, ",") {
			dir = strings.TrimSpace(dir)
			if !path.IsAbs(dir) || path.Clean(dir) == "/" {
				return invalid("spark.local.dir", e, "use absolute directories other than /, comma-separated")
			}
			r.d.LocalDirs = append(r.d.LocalDirs, path.Clean(dir))
		}
	} else {
		r.d.LocalDirs = []string{"/var/data/spark-" + strings.TrimPrefix(r.app.AppID, "spark-")}
	}
	if e, ok := r.get("spark.kubernetes.local.dirs.tmpfs"); ok {
		b, err := strconv.ParseBool(strings.TrimSpace(e.value))
		if err != nil {
			return invalid("spark.kubernetes.local.dirs.tmpfs", e, "use true or false")
		}
		r.d.LocalDirsTmpfs = b
	}
	return nil
}

// template reads spark.kubernetes.driver.podTemplateFile (KubernetesUtils.loadPodFromTemplate).
func (r *driverResolver) template() error {
	e, ok := r.get(DriverTemplateKey)
	if !ok {
		return nil
	}
	pod, _, err := readPodTemplate(DriverTemplateKey, e, r.readFile)
	if err != nil {
		return err
	}
	r.d.Template = pod
	if c, ok := r.get("spark.kubernetes.driver.podTemplateContainerName"); ok {
		r.d.TemplateContainer = c.value
	}
	return checkTemplate(pod, r.d.TemplateContainer, e)
}

// ownLocalDirs: volumes named spark-local-dir-* mounted in the driver (a driver volume key or
// the template's container) are the local dirs, and replace the emptyDirs.
func (r *driverResolver) ownLocalDirs() {
	mounts := r.d.Mounts
	if r.d.Template != nil {
		if c := sparkContainer(r.d.Template, r.d.TemplateContainer); c != nil {
			mounts = append(append([]corev1.VolumeMount(nil), c.VolumeMounts...), mounts...)
		}
	}
	var own []string
	for _, m := range mounts {
		if strings.HasPrefix(m.Name, localDirVolumePrefix) {
			own = append(own, m.MountPath)
		}
	}
	if len(own) > 0 {
		r.d.LocalDirs, r.d.LocalDirsMounted = own, true
	}
}

func confLabels(conf map[string]confEntry, prefix string) (map[string]string, error) {
	out := map[string]string{}
	for _, k := range keysWithPrefix(conf, prefix) {
		name := strings.TrimPrefix(k, prefix)
		if errs := validation.IsQualifiedName(name); len(errs) > 0 {
			return nil, fmt.Errorf("invalid %s in %s: %q is not a label key: %s", k, conf[k].source, name, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(conf[k].value); len(errs) > 0 {
			return nil, invalid(k, conf[k], "%s", strings.Join(errs, "; "))
		}
		for _, r := range reservedLabels {
			if name == r {
				return nil, fmt.Errorf("%s in %s cannot be set: kubectl sparkha sets the label %s on every object of the app; choose another key", k, conf[k].source, name)
			}
		}
		out[name] = conf[k].value
	}
	return out, nil
}

// confAnnotations reads the annotations under prefix; with an appID, {{APP_ID}} in a value
// becomes it, as Utils.substituteAppNExecIds substitutes the application's ID.
func confAnnotations(conf map[string]confEntry, prefix, appID string) (map[string]string, error) {
	out := map[string]string{}
	for _, k := range keysWithPrefix(conf, prefix) {
		name := strings.TrimPrefix(k, prefix)
		if errs := validation.IsQualifiedName(name); len(errs) > 0 {
			return nil, fmt.Errorf("invalid %s in %s: %q is not an annotation key: %s", k, conf[k].source, name, strings.Join(errs, "; "))
		}
		out[name] = conf[k].value
		if appID != "" {
			out[name] = strings.ReplaceAll(out[name], "{{APP_ID}}", appID)
		}
	}
	return out, nil
}

// driverResources builds the limits of spark.driver.resource.NAME.{amount,vendor} as
// KubernetesUtils.buildResourcesQuantities does: VENDOR/NAME = amount, vendor required.
func driverResources(conf map[string]confEntry) (corev1.ResourceList, error) {
	out := corev1.ResourceList{}
	const prefix = "spark.driver.resource."
	for _, k := range keysWithPrefix(conf, prefix) {
		name, ok := strings.CutSuffix(strings.TrimPrefix(k, prefix), ".amount")
		if !ok || name == "" || strings.Contains(name, ".") {
			continue // NAME.vendor, NAME.discoveryScript: read with the amount, or by Spark
		}
		vendor, ok := conf[prefix+name+".vendor"]
		if !ok || vendor.value == "" {
			return nil, fmt.Errorf("%s in %s needs %s%s.vendor: on Kubernetes the resource is requested as VENDOR/%s (e.g. nvidia.com), as Spark requires", k, conf[k].source, prefix, name, name)
		}
		q, err := parseQuantity(conf[k].value)
		if err != nil || q.Sign() <= 0 {
			return nil, invalid(k, conf[k], "use a whole amount greater than zero")
		}
		rn := corev1.ResourceName(vendor.value + "/" + name)
		if errs := validation.IsQualifiedName(string(rn)); len(errs) > 0 {
			return nil, fmt.Errorf("invalid resource %s from %s and %s%s.vendor: %s", rn, k, prefix, name, strings.Join(errs, "; "))
		}
		out[rn] = q
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// volumeFields are the fields of spark.kubernetes.driver.volumes.TYPE.NAME.* per type
// (KubernetesVolumeUtils.scala).
var volumeFields = map[string][]string{
	"hostPath":              {"options.path", "options.type"},
	"emptyDir":              {"options.medium", "options.sizeLimit"},
	"nfs":                   {"options.server", "options.path"},
	"persistentVolumeClaim": {"options.claimName", "options.storageClass", "options.sizeLimit"},
}

// driverVolumes parses spark.kubernetes.driver.volumes.TYPE.NAME.{mount.*,options.*} as
// KubernetesVolumeUtils.parseVolumesWithPrefix does, and builds them as
// MountVolumesFeatureStep does.
func driverVolumes(conf map[string]confEntry) ([]corev1.Volume, []corev1.VolumeMount, error) {
	const prefix = "spark.kubernetes.driver.volumes."
	type spec struct {
		typ    string
		fields map[string]confEntry
	}
	specs := map[string]*spec{}
	var names []string
	for _, k := range keysWithPrefix(conf, prefix) {
		parts := strings.SplitN(strings.TrimPrefix(k, prefix), ".", 3)
		if len(parts) < 3 {
			return nil, nil, fmt.Errorf("invalid key %s in %s: use %sTYPE.NAME.mount.path (or .mount.readOnly, .mount.subPath, .mount.subPathExpr, .options.*)", k, conf[k].source, prefix)
		}
		typ, name, field := parts[0], parts[1], parts[2]
		allowed, ok := volumeFields[typ]
		if !ok {
			return nil, nil, fmt.Errorf("invalid key %s in %s: Spark mounts volumes of type hostPath, emptyDir, nfs or persistentVolumeClaim, not %q", k, conf[k].source, typ)
		}
		switch field {
		case "mount.path", "mount.readOnly", "mount.subPath", "mount.subPathExpr":
		default:
			if typ == "persistentVolumeClaim" && (strings.HasPrefix(field, "label.") || strings.HasPrefix(field, "annotation.")) {
				return nil, nil, fmt.Errorf("%s in %s is refused: Spark puts it on a claim it creates on demand (claimName=OnDemand), which kubectl sparkha refuses for the driver; label your claim yourself", k, conf[k].source)
			}
			if !contains(allowed, field) {
				return nil, nil, fmt.Errorf("invalid key %s in %s: a %s volume takes mount.path, mount.readOnly, mount.subPath, mount.subPathExpr, %s", k, conf[k].source, typ, strings.Join(allowed, ", "))
			}
		}
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			return nil, nil, fmt.Errorf("invalid key %s in %s: the volume name %q is not a DNS-1123 label", k, conf[k].source, name)
		}
		s, seen := specs[name]
		if !seen {
			s = &spec{typ: typ, fields: map[string]confEntry{}}
			specs[name] = s
			names = append(names, name)
		} else if s.typ != typ {
			return nil, nil, fmt.Errorf("invalid key %s in %s: volume %q is already a %s volume", k, conf[k].source, name, s.typ)
		}
		s.fields[field] = conf[k]
	}
	var vols []corev1.Volume
	var mounts []corev1.VolumeMount
	for _, name := range names {
		s := specs[name]
		key := func(field string) string { return prefix + s.typ + "." + name + "." + field }
		mp, ok := s.fields["mount.path"]
		if !ok || !path.IsAbs(mp.value) {
			return nil, nil, fmt.Errorf("%s is required: the absolute directory where the driver sees volume %q", key("mount.path"), name)
		}
		if _, both := s.fields["mount.subPathExpr"]; both && s.fields["mount.subPath"].value != "" {
			return nil, nil, fmt.Errorf("%s and %s cannot both be set (KubernetesVolumeUtils: mutually exclusive): keep one", key("mount.subPath"), key("mount.subPathExpr"))
		}
		m := corev1.VolumeMount{Name: name, MountPath: mp.value, SubPath: s.fields["mount.subPath"].value, SubPathExpr: s.fields["mount.subPathExpr"].value}
		if e, ok := s.fields["mount.readOnly"]; ok {
			b, err := strconv.ParseBool(e.value)
			if err != nil {
				return nil, nil, invalid(key("mount.readOnly"), e, "use true or false")
			}
			m.ReadOnly = b
		}
		opt := func(o string) string { return s.fields["options."+o].value }
		v := corev1.Volume{Name: name}
		switch s.typ {
		case "hostPath":
			if opt("path") == "" {
				return nil, nil, fmt.Errorf("%s is required for a hostPath volume", key("options.path"))
			}
			v.HostPath = &corev1.HostPathVolumeSource{Path: opt("path")}
			if t := opt("type"); t != "" {
				ht := corev1.HostPathType(t)
				v.HostPath.Type = &ht
			}
		case "emptyDir":
			v.EmptyDir = &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMedium(opt("medium"))}
			if sl := opt("sizeLimit"); sl != "" {
				q, err := parseQuantity(sl)
				if err != nil {
					return nil, nil, invalid(key("options.sizeLimit"), s.fields["options.sizeLimit"], "use a Kubernetes quantity, e.g. 10Gi")
				}
				v.EmptyDir.SizeLimit = &q
			}
		case "nfs":
			if opt("server") == "" || opt("path") == "" {
				return nil, nil, fmt.Errorf("%s and %s are required for an nfs volume", key("options.server"), key("options.path"))
			}
			v.NFS = &corev1.NFSVolumeSource{Server: opt("server"), Path: opt("path")}
		case "persistentVolumeClaim":
			claim := opt("claimName")
			if claim == "" {
				return nil, nil, fmt.Errorf("%s is required for a persistentVolumeClaim volume", key("options.claimName"))
			}
			// An OnDemand claim (or one named after SPARK_EXECUTOR_ID) is created by
			// spark-submit and owned by the driver pod: each driver generation would get its
			// own empty claim.
			if claim == "OnDemand" || strings.Contains(claim, "SPARK_EXECUTOR_ID") {
				return nil, nil, fmt.Errorf("%s=%s in %s is refused: spark-submit creates such a claim per driver pod, so each driver generation would start on an empty volume; create the claim and name it, or use --checkpoint-size", key("options.claimName"), claim, s.fields["options.claimName"].source)
			}
			if errs := validation.IsDNS1123Subdomain(claim); len(errs) > 0 {
				return nil, nil, invalid(key("options.claimName"), s.fields["options.claimName"], "%s", strings.Join(errs, "; "))
			}
			v.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim, ReadOnly: m.ReadOnly}
		}
		vols, mounts = append(vols, v), append(mounts, m)
	}
	return vols, mounts, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// readPodTemplate reads and parses a pod template file as Spark's loadPodFromTemplate does
// (a v1 Pod in YAML or JSON); unknown fields are refused, so a typo is not silently ignored.
// It returns the pod and the file's content.
func readPodTemplate(key string, e confEntry, readFile func(string) ([]byte, error)) (*corev1.Pod, []byte, error) {
	if readFile == nil {
		return nil, nil, fmt.Errorf("internal error: no file reader for %s", key)
	}
	p := strings.TrimPrefix(e.value, "file://")
	if strings.Contains(p, "://") || strings.HasPrefix(p, "local:") {
		return nil, nil, invalid(key, e, "give the path of a file on this machine: kubectl sparkha reads it and ships it in the app's ConfigMap, as spark-submit does")
	}
	data, err := readFile(p)
	if err != nil {
		return nil, nil, invalid(key, e, "cannot read it: %v", err)
	}
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict(data, &pod); err != nil {
		return nil, nil, invalid(key, e, "not a Pod: %v", err)
	}
	if (pod.Kind != "" && pod.Kind != "Pod") || (pod.APIVersion != "" && pod.APIVersion != "v1") {
		return nil, nil, invalid(key, e, "the file is a %s %s; it must be a v1 Pod", pod.APIVersion, pod.Kind)
	}
	return &pod, data, nil
}

// checkTemplate refuses what the driver template cannot carry in a Job.
func checkTemplate(pod *corev1.Pod, containerName string, e confEntry) error {
	const key = DriverTemplateKey
	if rp := pod.Spec.RestartPolicy; rp != "" && rp != corev1.RestartPolicyNever {
		return invalid(key, e, "its restartPolicy %s cannot be used: the driver Job's pods restart through the Job (restartPolicy Never), remove it", rp)
	}
	if c := sparkContainer(pod, containerName); c != nil && len(c.Args) > 0 {
		return invalid(key, e, "its container %q sets args; spark-submit's driver arguments are built from the flags: remove args", c.Name)
	}
	return nil
}

// sparkContainer returns the template container that runs the driver, as selectSparkContainer
// picks it: the named one, else the first; nil for a template without containers.
func sparkContainer(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.Containers {
		if name != "" && pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	if len(pod.Spec.Containers) > 0 {
		return &pod.Spec.Containers[0]
	}
	return nil
}

// mergeMaps returns base with over's entries on top (nil when both are empty).
func mergeMaps(base, over map[string]string) map[string]string {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, over)
	if len(out) == 0 {
		return nil
	}
	return out
}

// checkVolumeNames refuses a volume of the conf or the driver pod template whose name is
// taken, by another of them or by a volume kubectl sparkha adds: the API server would refuse
// the Job after the ConfigMap and the claim exist.
func checkVolumeNames(app *App) error {
	ours := map[string]bool{SparkConfVolume: true, CheckpointVolume: true, PodTemplateVolume: true}
	for i := range app.Driver.LocalDirs {
		if !app.Driver.LocalDirsMounted {
			ours[fmt.Sprintf("%s%d", localDirVolumePrefix, i+1)] = true
		}
	}
	var theirs []string
	if t := app.Driver.Template; t != nil {
		for _, v := range t.Spec.Volumes {
			theirs = append(theirs, v.Name)
		}
	}
	for _, v := range app.Driver.Volumes {
		if v.Name != HadoopConfVolume {
			theirs = append(theirs, v.Name)
		}
	}
	// MountVolumesFeatureStep: require(duplicateMountPaths.isEmpty); the API server would
	// refuse the Job too, after the claim and the ConfigMap exist.
	paths := map[string]string{SparkConfDir: SparkConfVolume}
	if app.Checkpoint != nil {
		paths[app.Checkpoint.MountPath] = CheckpointVolume
	}
	for _, m := range app.Driver.Mounts {
		if other, dup := paths[m.MountPath]; dup {
			return fmt.Errorf("volumes %q and %q are both mounted at %s in the driver: give one another mount path", other, m.Name, m.MountPath)
		}
		paths[m.MountPath] = m.Name
	}
	seen := map[string]bool{}
	for _, name := range theirs {
		if ours[name] {
			return fmt.Errorf("volume %q of spark.kubernetes.driver.volumes.* or the driver pod template has the name of a volume kubectl sparkha adds (%s, %s, %s, %s1...): rename it", name, SparkConfVolume, CheckpointVolume, PodTemplateVolume, localDirVolumePrefix)
		}
		if seen[name] {
			return fmt.Errorf("volume %q is defined twice (spark.kubernetes.driver.volumes.*, spark.kubernetes.driver.secrets.* as NAME-volume, or the driver pod template): rename one", name)
		}
		seen[name] = true
	}
	return nil
}
