package submit

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"math"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/expansion"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// MaxNameLength keeps NAME-driver-svc within a DNS-1035 label (63 characters).
const MaxNameLength = validation.DNS1035LabelMaxLength - len("-driver-svc")

var appIDPattern = regexp.MustCompile(`^spark-[0-9a-f]{32}$`)

// reservedLabels are label keys kubectl sparkha sets on every object.
var reservedLabels = []string{sparkapp.LabelSparkRole, sparkapp.LabelAppSelector, sparkapp.LabelAppID, sparkapp.LabelAppName, sparkapp.LabelManagedBy, sparkapp.LabelName}

// ExecutorLabelPrefix is spark.kubernetes.executor.label.*: labels Spark puts on the executors.
const ExecutorLabelPrefix = "spark.kubernetes.executor.label."

// Resolve validates a request without any I/O and resolves every value Build needs, in named
// steps. Every error names the flag (or conf key and its source) and how to fix it.
func Resolve(in Input) (*App, error) {
	app, err := resolveRequest(in)
	if err != nil {
		return nil, err
	}
	conf, err := collectConf(in)
	if err != nil {
		return nil, err
	}
	if err := resolveProgram(in, conf, app); err != nil {
		return nil, err
	}
	defaultFactor, err := resolveDriverSize(conf, app)
	if err != nil {
		return nil, err
	}
	if err := resolveJob(in, conf, app); err != nil {
		return nil, err
	}
	if app.Checkpoint, err = resolveCheckpoint(in); err != nil {
		return nil, err
	}
	// The driver pod and Service as upstream's feature steps build them from the conf.
	if app.Driver, app.Service, err = resolveDriverPod(conf, app, in.ReadFile); err != nil {
		return nil, err
	}
	if err := checkVolumeNames(app); err != nil {
		return nil, err
	}
	jars, err := resolveDependencies(conf, app)
	if err != nil {
		return nil, err
	}
	if e, ok := conf[ExecutorTemplateKey]; ok && !app.Driver.Excluded[stepPodTemplateConfigMap] {
		_, data, err := readPodTemplate(ExecutorTemplateKey, e, in.ReadFile)
		if err != nil {
			return nil, err
		}
		app.ExecutorPodTemplate = string(data)
	}
	if in.HadoopConfDir != "" {
		if _, ok := conf["spark.kubernetes.hadoop.configMapName"]; !ok {
			app.Warnings = append(app.Warnings, fmt.Sprintf("HADOOP_CONF_DIR=%s is set here, but kubectl sparkha does not ship local Hadoop configuration (spark-submit would, in a ConfigMap): put it in a ConfigMap and set spark.kubernetes.hadoop.configMapName", in.HadoopConfDir))
		}
	}
	executorCheckpoint, err := checkpointOnExecutors(conf, app.Checkpoint, in)
	if err != nil {
		return nil, err
	}
	if executorCheckpoint == nil && app.Checkpoint != nil {
		app.Warnings = append(app.Warnings, checkpointDriverOnlyWarning(app.Checkpoint, in))
	}
	app.Warnings = append(app.Warnings, appIDRefWarnings(app)...)
	app.Properties = properties(in, conf, app, defaultFactor, jars, executorCheckpoint)
	return app, nil
}

// appIDRefWarnings names the spark-submit arguments that reference SPARK_APPLICATION_ID: the one
// variable that expands, but not to what it is in spark-submit's driver pod.
func appIDRefWarnings(app *App) []string {
	if !app.ArgsAsSparkSubmit {
		return nil
	}
	var out []string
	ref := "$(" + EnvApplicationID + ")"
	for _, a := range append([]string{app.ProxyUser, app.MainClass, app.AppResource}, app.AppArgs...) {
		if expansion.Expand(a, expansion.MappingFuncFor(map[string]string{EnvApplicationID: "\x00"})) != expansion.Expand(a, expansion.MappingFuncFor()) {
			out = append(out, fmt.Sprintf("argument %q: Kubernetes expands %s to the spark.app.id of each driver generation (spark-<pod uid>), where spark-submit's driver pod has one ID for the run", a, ref))
		}
	}
	return out
}

// resolveRequest checks the request's own arguments: NAME, namespace, APP_RESOURCE and the
// users.
func resolveRequest(in Input) (*App, error) {
	if in.Name == "" {
		return nil, fmt.Errorf("NAME is required: kubectl sparkha submit NAME --image IMAGE [--class MAIN] APP_RESOURCE")
	}
	if errs := validation.IsDNS1035Label(in.Name); len(errs) > 0 || len(in.Name) > MaxNameLength {
		return nil, fmt.Errorf("invalid NAME %q: use at most %d lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (NAME names the Job and its Service NAME-driver-svc, a DNS-1035 label)", in.Name, MaxNameLength)
	}
	if in.Namespace == "" {
		return nil, fmt.Errorf("no namespace: give -n NAMESPACE")
	}
	if in.AppResource == "" {
		return nil, fmt.Errorf("APP_RESOURCE is required: give the application jar or Python file after NAME, e.g. local:///opt/spark/examples/jars/spark-examples.jar")
	}
	if len(in.ExtraArgs) > 0 {
		return nil, fmt.Errorf("unexpected argument %q after APP_RESOURCE: put application arguments after --, e.g. kubectl sparkha submit %s ... %s -- %s", in.ExtraArgs[0], in.Name, in.AppResource, strings.Join(in.ExtraArgs, " "))
	}
	if !appIDPattern.MatchString(in.AppID) {
		return nil, fmt.Errorf("internal error: invalid application ID %q", in.AppID)
	}
	if strings.ContainsAny(in.ProxyUser, " \t\n") {
		return nil, fmt.Errorf("invalid --proxy-user %q: give a user name without whitespace", in.ProxyUser)
	}
	app := &App{
		Name:              in.Name,
		Namespace:         in.Namespace,
		AppID:             in.AppID,
		AppResource:       in.AppResource,
		AppArgs:           append([]string(nil), in.AppArgs...),
		ProxyUser:         in.ProxyUser,
		ArgsAsSparkSubmit: in.ArgsAsSparkSubmit,
		// BasicDriverFeatureStep (Spark 4.3): proxyUser.getOrElse(Utils.getCurrentUserName()).
		SparkUser: cmp.Or(in.ProxyUser, in.SparkUser),
	}
	return app, nil
}

// collectConf merges the Spark conf (properties file < --conf < dedicated flags) and refuses a
// key that is reserved or refused.
func collectConf(in Input) (map[string]confEntry, error) {
	conf := map[string]confEntry{}
	if in.PropertiesFile != "" {
		_, entries, err := ParsePropertiesFile(in.PropertiesFile, bytes.NewReader(in.PropertiesData))
		if err != nil {
			return nil, err
		}
		maps.Copy(conf, entries)
	}
	for _, arg := range in.Conf {
		k, v, err := ParseConfArg(arg)
		if err != nil {
			return nil, err
		}
		conf[k] = confEntry{value: v, source: "--conf"}
	}
	for _, k := range sortedKeys(conf) {
		if err := checkKey(k, conf[k]); err != nil {
			return nil, err
		}
	}
	set := func(key, value, source string) { conf[key] = confEntry{value: value, source: source} }
	if in.Image != "" {
		set("spark.kubernetes.container.image", in.Image, "--image")
	}
	if in.ServiceAccount != "" {
		set("spark.kubernetes.authenticate.driver.serviceAccountName", in.ServiceAccount, "--service-account")
	}
	if in.DriverCores != nil {
		set("spark.driver.cores", strconv.Itoa(*in.DriverCores), "--driver-cores")
	}
	if in.DriverMemory != "" {
		set("spark.driver.memory", in.DriverMemory, "--driver-memory")
	}
	if in.ExecutorInstances != nil {
		set("spark.executor.instances", strconv.Itoa(*in.ExecutorInstances), "--executor-instances")
	}
	if in.ExecutorCores != nil {
		set("spark.executor.cores", strconv.Itoa(*in.ExecutorCores), "--executor-cores")
	}
	if in.ExecutorMemory != "" {
		set("spark.executor.memory", in.ExecutorMemory, "--executor-memory")
	}
	if in.BackoffLimit != nil {
		set(BackoffLimitConfKey, strconv.Itoa(*in.BackoffLimit), "--backoff-limit")
	}
	return conf, nil
}

// checkKey refuses a key Spark would not read, or one KeyRules reserves or refuses.
func checkKey(k string, e confEntry) error {
	if !strings.HasPrefix(k, "spark.") || len(k) == len("spark.") {
		return fmt.Errorf("invalid key %q in %s: Spark reads only keys starting with \"spark.\"", k, e.source)
	}
	if strings.ContainsAny(k, "= \t\n") {
		return fmt.Errorf("invalid key %q in %s: a key cannot contain '=' or whitespace", k, e.source)
	}
	r, ok := ruleFor(k)
	switch {
	case !ok:
	case r.Handling == Reserved:
		return fmt.Errorf("%s in %s cannot be set: %s; remove it", k, e.source, r.Submit)
	case r.Handling == Refused && k == "spark.kubernetes.submission.waitAppCompletion" && strings.TrimSpace(e.value) == "false":
		// What submit does anyway: return once the objects exist.
	case r.Handling == Refused:
		return fmt.Errorf("%s in %s is not supported by kubectl sparkha: %s", k, e.source, r.Submit)
	}
	return nil
}

// resolveProgram resolves the image, the main class and resource type, and the service account.
func resolveProgram(in Input, conf map[string]confEntry, app *App) error {
	image, ok := conf["spark.kubernetes.container.image"]
	if !ok || strings.TrimSpace(image.value) == "" {
		return fmt.Errorf("--image is required: give the Spark container image for the driver and executors, e.g. --image apache/spark:4.3.0")
	}
	if strings.ContainsAny(image.value, " \t\n") {
		return fmt.Errorf("invalid image %q in %s: an image reference has no whitespace", image.value, image.source)
	}
	if strings.Contains(image.value, sparkVersionPlaceholder) {
		return fmt.Errorf("invalid image %q in %s: %s", image.value, image.source, sparkVersionRefusal)
	}
	app.Image = image.value

	// Main class and resource type, as spark-submit derives them.
	switch lower := strings.ToLower(in.AppResource); {
	case strings.HasSuffix(lower, ".py"):
		app.ResourceType, app.MainClass = "python", "org.apache.spark.deploy.PythonRunner"
	case strings.HasSuffix(lower, ".r"):
		app.ResourceType, app.MainClass = "r", "org.apache.spark.deploy.RRunner"
	default:
		app.ResourceType = "java"
	}
	if in.MainClass != "" {
		app.MainClass = in.MainClass
	}
	if app.MainClass == "" {
		return fmt.Errorf("--class is required for a JVM application (APP_RESOURCE %q): give its main class, e.g. --class org.apache.spark.examples.SparkPi", in.AppResource)
	}
	if strings.ContainsAny(app.MainClass, " \t\n") {
		return fmt.Errorf("invalid --class %q: a class name has no whitespace, e.g. --class org.apache.spark.examples.SparkPi", app.MainClass)
	}

	if sa, ok := conf["spark.kubernetes.authenticate.driver.serviceAccountName"]; ok {
		if errs := validation.IsDNS1123Subdomain(sa.value); len(errs) > 0 {
			return fmt.Errorf("invalid service account %q in %s: %s", sa.value, sa.source, strings.Join(errs, "; "))
		}
		app.ServiceAccount = sa.value
	}
	return nil
}

// resolveDriverSize checks cores and memory and resolves the driver's memory with its overhead
// as BasicDriverFeatureStep does. It returns the default overhead factor, which executors use.
func resolveDriverSize(conf map[string]confEntry, app *App) (float64, error) {
	var err error
	if app.DriverCores, err = positiveInt(conf, "spark.driver.cores", 1, 1); err != nil {
		return 0, err
	}
	if _, err = positiveInt(conf, "spark.executor.cores", 1, 1); err != nil {
		return 0, err
	}
	if _, ok := conf["spark.executor.instances"]; ok {
		if _, err = positiveInt(conf, "spark.executor.instances", 0, 0); err != nil {
			return 0, err
		}
	}
	if app.DriverMemoryMiB, err = memoryMiB(conf, "spark.driver.memory", 1024); err != nil {
		return 0, err
	}
	if _, err = memoryMiB(conf, "spark.executor.memory", 1024); err != nil {
		return 0, err
	}
	// The default factor is spark.kubernetes.memoryOverheadFactor (Config.scala: >= 0), else
	// 0.1 for JVM apps and 0.4 (NON_JVM_MEMORY_OVERHEAD_FACTOR) for the others;
	// spark.driver.memoryOverheadFactor (core config: > 0) wins for the driver.
	defaultFactor := 0.1
	if app.ResourceType != "java" {
		defaultFactor = 0.4
	}
	if e, ok := conf["spark.kubernetes.memoryOverheadFactor"]; ok {
		f, perr := strconv.ParseFloat(strings.TrimSpace(e.value), 64)
		if perr != nil || f < 0 || math.IsInf(f, 0) {
			return 0, fmt.Errorf("invalid spark.kubernetes.memoryOverheadFactor %q in %s: use a fraction of 0 or more, e.g. 0.1", e.value, e.source)
		}
		defaultFactor = f
	}
	overheadFactor := defaultFactor
	if e, ok := conf["spark.driver.memoryOverheadFactor"]; ok {
		f, perr := strconv.ParseFloat(strings.TrimSpace(e.value), 64)
		if perr != nil || !(f > 0) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("invalid spark.driver.memoryOverheadFactor %q in %s: use a fraction greater than 0, e.g. 0.1", e.value, e.source)
		}
		overheadFactor = f
	}
	if _, ok := conf["spark.driver.memoryOverhead"]; ok {
		if app.DriverOverheadMiB, err = memoryMiB(conf, "spark.driver.memoryOverhead", 0); err != nil {
			return 0, err
		}
		return defaultFactor, nil
	}
	// max(factor * memory, spark.driver.minMemoryOverhead (Spark 4.0; 384m, the
	// MEMORY_OVERHEAD_MIN_MIB of earlier versions)).
	floor, err := memoryMiB(conf, "spark.driver.minMemoryOverhead", 384)
	if err != nil {
		return 0, err
	}
	app.DriverOverheadMiB = max(int64(overheadFactor*float64(app.DriverMemoryMiB)), floor)
	return defaultFactor, nil
}

// resolveJob resolves what the Job itself carries: the backoff limit, the node-lost timeout,
// the labels and annotations of every object.
func resolveJob(in Input, conf map[string]confEntry, app *App) error {
	backoff := DefaultBackoffLimit
	if e, ok := conf[BackoffLimitConfKey]; ok {
		n, perr := strconv.Atoi(strings.TrimSpace(e.value))
		if perr != nil || n < 0 {
			if e.source == "--backoff-limit" {
				return fmt.Errorf("invalid --backoff-limit %s: use 0 or more (driver failures retried before the app fails; node loss never counts)", e.value)
			}
			return fmt.Errorf("invalid %s %q in %s: use a whole number, 0 or more", BackoffLimitConfKey, e.value, e.source)
		}
		backoff = n
	}
	app.BackoffLimit = int32(min(backoff, 1<<30))

	if in.NodeLostTimeout < 0 || in.NodeLostTimeout%time.Second != 0 {
		return fmt.Errorf("invalid --node-lost-timeout %s: use whole seconds, 0s or more, e.g. --node-lost-timeout 60s", in.NodeLostTimeout)
	}
	app.NodeLostTimeoutSeconds = int64(in.NodeLostTimeout / time.Second)

	var err error
	if app.Labels, err = parsePairs("--labels", in.Labels, true); err != nil {
		return err
	}
	app.Annotations, err = parsePairs("--annotations", in.Annotations, false)
	return err
}

// properties is the final spark.properties: the user's conf, then the keys kubectl sparkha owns.
func properties(in Input, conf map[string]confEntry, app *App, defaultFactor float64, jars string, executorCheckpoint map[string]string) map[string]string {
	props := map[string]string{}
	for k, e := range conf {
		props[k] = e.value
	}
	appName := in.Name
	if e, ok := conf["spark.app.name"]; ok {
		appName = e.value
	}
	props["spark.app.name"] = appName
	props["spark.master"] = KubernetesMasterInPod
	props["spark.submit.deployMode"] = "cluster"
	// No spark.app.id: the file is shared by every driver generation, and each one passes its
	// own on its command line (DriverAppIDRef).
	props["spark.kubernetes.namespace"] = app.Namespace
	props["spark.kubernetes.container.image"] = app.Image
	props["spark.kubernetes.submitInDriver"] = "true"
	props["spark.kubernetes.resource.type"] = app.ResourceType
	props["spark.kubernetes.memoryOverheadFactor"] = strconv.FormatFloat(defaultFactor, 'f', -1, 64)
	// No spark.driver.host either: each generation passes its pod IP (DriverHostRef).
	props["spark.driver.port"] = strconv.Itoa(DriverPort)
	props["spark.driver.blockManager.port"] = strconv.Itoa(BlockManagerPort)
	props["spark.driver.cores"] = strconv.Itoa(app.DriverCores)
	props["spark.driver.memory"] = fmt.Sprintf("%dm", app.DriverMemoryMiB)
	props["spark.executor.cores"] = cmp.Or(conf["spark.executor.cores"].value, "1")
	execMiB, _ := memoryMiB(conf, "spark.executor.memory", 1024)
	props["spark.executor.memory"] = fmt.Sprintf("%dm", execMiB)
	props[BackoffLimitConfKey] = strconv.Itoa(int(app.BackoffLimit))
	// Every generation's executors carry the app's label beside their generation's
	// spark-app-selector, so one selector finds the whole app (docs/spark-conf.md).
	props[ExecutorLabelPrefix+sparkapp.LabelAppID] = app.AppID
	if jars != "" {
		props["spark.jars"] = jars
	}
	if app.ExecutorPodTemplate != "" {
		// PodTemplateConfigMapStep: the driver reads the template from the ConfigMap's mount.
		props[ExecutorTemplateKey] = ExecutorTemplateDir + "/" + ExecutorTemplateFile
	}
	maps.Copy(props, executorCheckpoint)
	if e, ok := conf["spark.kubernetes.hadoop.configMapName"]; ok && !app.Driver.Excluded[stepHadoopConf] {
		// HadoopConfDriverFeatureStep: the executors mount the same ConfigMap.
		props["spark.kubernetes.executor.hadoopConfigMapName"] = e.value
	}
	return props
}

func resolveCheckpoint(in Input) (*Checkpoint, error) {
	accessModeSet := in.CheckpointAccessMode != ""
	if in.CheckpointClaim != "" {
		for _, c := range []struct {
			set  bool
			flag string
		}{
			{in.CheckpointSize != "", "--checkpoint-size"},
			{in.CheckpointStorageClass != nil, "--checkpoint-storage-class"},
			{accessModeSet, "--checkpoint-access-mode"},
		} {
			if c.set {
				return nil, fmt.Errorf("--checkpoint-claim cannot be combined with %s: the existing claim already has its size, class and access mode; drop %s, or drop --checkpoint-claim to create a new claim %s", c.flag, c.flag, CheckpointName(in.Name))
			}
		}
		if errs := validation.IsDNS1123Subdomain(in.CheckpointClaim); len(errs) > 0 {
			return nil, fmt.Errorf("invalid --checkpoint-claim %q: %s", in.CheckpointClaim, strings.Join(errs, "; "))
		}
	} else if in.CheckpointSize == "" {
		switch {
		case in.CheckpointStorageClass != nil:
			return nil, fmt.Errorf("--checkpoint-storage-class needs --checkpoint-size: it applies only to a claim kubectl sparkha creates, e.g. --checkpoint-size 10Gi")
		case accessModeSet:
			return nil, fmt.Errorf("--checkpoint-access-mode needs --checkpoint-size: it applies only to a claim kubectl sparkha creates, e.g. --checkpoint-size 10Gi")
		case in.CheckpointMountSet:
			return nil, fmt.Errorf("--checkpoint-mount needs a checkpoint volume: add --checkpoint-size SIZE for a new claim or --checkpoint-claim NAME for an existing one")
		}
		return nil, nil
	}

	mount := in.CheckpointMount
	if mount == "" {
		mount = DefaultCheckpointMount
	}
	if !path.IsAbs(mount) || path.Clean(mount) == "/" {
		return nil, fmt.Errorf("invalid --checkpoint-mount %q: use an absolute directory other than /, e.g. --checkpoint-mount /checkpoint", mount)
	}
	clean := path.Clean(mount)
	if clean == SparkConfDir || strings.HasPrefix(clean+"/", SparkConfDir+"/") || strings.HasPrefix(SparkConfDir+"/", clean+"/") {
		return nil, fmt.Errorf("invalid --checkpoint-mount %q: it overlaps Spark's configuration directory %s; use another directory, e.g. /checkpoint", mount, SparkConfDir)
	}

	if in.CheckpointClaim != "" {
		return &Checkpoint{ClaimName: in.CheckpointClaim, MountPath: clean}, nil
	}

	q, err := parseQuantity(in.CheckpointSize)
	if err != nil || q.Sign() <= 0 {
		return nil, fmt.Errorf("invalid --checkpoint-size %q: use a Kubernetes quantity greater than zero, e.g. 10Gi", in.CheckpointSize)
	}
	mode := DefaultAccessMode
	if accessModeSet {
		mode = corev1.PersistentVolumeAccessMode(in.CheckpointAccessMode)
		switch mode {
		case corev1.ReadWriteOncePod, corev1.ReadWriteOnce, corev1.ReadWriteMany:
		default:
			return nil, fmt.Errorf("invalid --checkpoint-access-mode %q: use ReadWriteOncePod (default), ReadWriteOnce or ReadWriteMany", in.CheckpointAccessMode)
		}
	}
	if sc := in.CheckpointStorageClass; sc != nil && *sc != "" {
		if errs := validation.IsDNS1123Subdomain(*sc); len(errs) > 0 {
			return nil, fmt.Errorf("invalid --checkpoint-storage-class %q: %s", *sc, strings.Join(errs, "; "))
		}
	}
	var class *string
	if in.CheckpointStorageClass != nil {
		c := *in.CheckpointStorageClass
		class = &c
	}
	return &Checkpoint{
		ClaimName:    CheckpointName(in.Name),
		Create:       true,
		Size:         q.String(),
		StorageClass: class,
		AccessMode:   mode,
		MountPath:    clean,
	}, nil
}

func positiveInt(conf map[string]confEntry, key string, def, minimum int) (int, error) {
	e, ok := conf[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(e.value))
	if err != nil || n < minimum {
		what := "a whole number, 1 or more"
		if minimum == 0 {
			what = "a whole number, 0 or more"
		}
		if strings.HasPrefix(e.source, "--") && !strings.Contains(e.source, " ") && e.source != "--conf" {
			return 0, fmt.Errorf("invalid %s %s: use %s", e.source, e.value, what)
		}
		return 0, fmt.Errorf("invalid %s %q in %s: use %s", key, e.value, e.source, what)
	}
	return n, nil
}

func memoryMiB(conf map[string]confEntry, key string, def int64) (int64, error) {
	e, ok := conf[key]
	if !ok {
		return def, nil
	}
	n, err := ParseMemoryMiB(e.value)
	if err != nil {
		if strings.HasPrefix(e.source, "--") && !strings.Contains(e.source, " ") && e.source != "--conf" {
			return 0, fmt.Errorf("invalid %s %q: use a Kubernetes quantity such as 4Gi or Spark's 4g", e.source, e.value)
		}
		return 0, fmt.Errorf("invalid %s %q in %s: use a Kubernetes quantity such as 4Gi or Spark's 4g", key, e.value, e.source)
	}
	return n, nil
}

// parsePairs parses "k=v,k2=v2" for --labels (label rules) or --annotations.
func parsePairs(flag, s string, isLabel bool) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid %s %q: use KEY=VALUE pairs separated by commas, e.g. %s team=data,tier=streaming", flag, pair, flag)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, fmt.Errorf("invalid %s key %q: %s", flag, k, strings.Join(errs, "; "))
		}
		if isLabel {
			if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
				return nil, fmt.Errorf("invalid %s value %q for %s: %s", flag, v, k, strings.Join(errs, "; "))
			}
			for _, r := range reservedLabels {
				if k == r {
					return nil, fmt.Errorf("%s cannot set %s: kubectl sparkha sets it on every object of the app; choose another key", flag, k)
				}
			}
		}
		out[k] = v
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

// ExecutorCheckpointVolume is the name of the checkpoint volume in the executors' conf keys
// (spark.kubernetes.executor.volumes.persistentVolumeClaim.checkpoint.*).
const ExecutorCheckpointVolume = "checkpoint"

// checkpointOnExecutors returns the conf that mounts a ReadWriteMany checkpoint claim on the
// executors too, at the driver's path, through Spark's own executor volume keys
// (MountVolumesFeatureStep builds the executor pods from them): stateful streaming writes its
// state stores (checkpointLocation/state) from executor tasks. nil for other claims.
func checkpointOnExecutors(conf map[string]confEntry, cp *Checkpoint, in Input) (map[string]string, error) {
	if cp == nil {
		return nil, nil
	}
	modes := in.CheckpointClaimAccessModes
	if cp.Create {
		modes = []corev1.PersistentVolumeAccessMode{cp.AccessMode}
	}
	rwx := false
	for _, m := range modes {
		rwx = rwx || m == corev1.ReadWriteMany
	}
	if !rwx {
		return nil, nil
	}
	for k, e := range conf {
		rest, ok := strings.CutPrefix(k, "spark.kubernetes.executor.volumes.")
		if !ok {
			continue
		}
		if parts := strings.SplitN(rest, ".", 3); len(parts) == 3 && parts[1] == ExecutorCheckpointVolume {
			return nil, fmt.Errorf("%s in %s cannot be set: kubectl sparkha mounts the ReadWriteMany checkpoint claim on the executors as volume %q; name your volume differently", k, e.source, ExecutorCheckpointVolume)
		}
	}
	prefix := "spark.kubernetes.executor.volumes.persistentVolumeClaim." + ExecutorCheckpointVolume + "."
	return map[string]string{
		prefix + "options.claimName": cp.ClaimName,
		prefix + "mount.path":        cp.MountPath,
		prefix + "mount.readOnly":    "false",
	}, nil
}

// checkpointDriverOnlyWarning says why a checkpoint claim serves the driver only.
func checkpointDriverOnlyWarning(cp *Checkpoint, in Input) string {
	mode := string(cp.AccessMode)
	if !cp.Create {
		if in.CheckpointClaimAccessModes == nil {
			return fmt.Sprintf("the access modes of claim %s could not be read (%s): it is mounted on the driver only; if it is ReadWriteMany and a query is stateful, rerun where the claim can be read", cp.ClaimName, in.CheckpointClaimReadError)
		}
		var modes []string
		for _, m := range in.CheckpointClaimAccessModes {
			modes = append(modes, string(m))
		}
		mode = strings.Join(modes, ",")
	}
	return fmt.Sprintf("checkpoint claim %s is %s: only the driver mounts it, which serves stateless queries (their offsets and commits logs are written by the driver); a stateful query's executors write its state under checkpointLocation/state and need a ReadWriteMany claim (--checkpoint-access-mode ReadWriteMany), which kubectl sparkha mounts on the executors too", cp.ClaimName, mode)
}
