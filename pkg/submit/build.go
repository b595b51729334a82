package submit

import (
	"fmt"
	"maps"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/expansion"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// Objects are the Kubernetes objects of one Spark application.
type Objects struct {
	Job       *batchv1.Job
	ConfigMap *corev1.ConfigMap
	Service   *corev1.Service
	// NetworkPolicy admits to the executors only the app's pods (Spark 4.2's
	// NetworkPolicyFeatureStep); nil when spark.kubernetes.driver.pod.excludedFeatureSteps
	// leaves that step out.
	NetworkPolicy *networkingv1.NetworkPolicy
	// Checkpoint is the claim this submit creates; nil for --checkpoint-claim or no checkpoint.
	Checkpoint *corev1.PersistentVolumeClaim
}

// List returns the objects in printing order: Job, ConfigMap, Service, NetworkPolicy, PVC.
func (o *Objects) List() []metav1.Object {
	out := []metav1.Object{o.Job, o.ConfigMap, o.Service}
	if o.NetworkPolicy != nil {
		out = append(out, o.NetworkPolicy)
	}
	if o.Checkpoint != nil {
		out = append(out, o.Checkpoint)
	}
	return out
}

// AppLabels are the labels on every object of the app.
func (a *App) AppLabels() map[string]string {
	l := maps.Clone(a.Labels)
	if l == nil {
		l = map[string]string{}
	}
	l[sparkapp.LabelAppID] = a.AppID
	l[sparkapp.LabelAppName] = a.Name
	l[sparkapp.LabelManagedBy] = sparkapp.ManagedBy
	l[sparkapp.LabelName] = a.Name
	return l
}

// Environment variables of the driver container that carry its generation's identity.
const (
	EnvDriverPodName = "SPARK_DRIVER_POD_NAME"
	EnvDriverPodUID  = "SPARK_DRIVER_POD_UID"
	EnvDriverPodIP   = "SPARK_DRIVER_POD_IP"
	EnvApplicationID = "SPARK_APPLICATION_ID" // Spark's ENV_APPLICATION_ID
)

// OwnEnv are the driver container's variables that a spark-submit driver pod does not have.
var OwnEnv = map[string]bool{EnvDriverPodName: true, EnvDriverPodUID: true, EnvDriverPodIP: true}

// DriverAppIDRef is the spark.app.id of a driver generation as written in its container spec:
// Kubernetes expands it to "spark-" + the pod's UID, so every generation has its own ID.
// App.AppID stays the app's identity (the sparkha.io/app-id label of every object and pod).
const DriverAppIDRef = "spark-$(" + EnvDriverPodUID + ")"

// DriverHostRef is the spark.driver.host of a driver generation: its pod IP.
const DriverHostRef = "$(" + EnvDriverPodIP + ")"

// DriverHost is spark.driver.host as written in the driver's args: the pod IP, in brackets
// when the driver Service's first IP family is IPv6 (spark.kubernetes.driver.service.ipFamilies,
// which Spark's IPv6 setup sets). Spark brackets only IPv6 literals of digits and colons itself
// (core Utils.normalizeIpIfNeeded), and executors build spark://...@HOST:PORT from it.
func (a *App) DriverHost() string {
	if f := a.Service.IPFamilies; len(f) > 0 && f[0] == corev1.IPv6Protocol {
		return "[" + DriverHostRef + "]"
	}
	return DriverHostRef
}

// DriverSelector selects the driver pods of the app, whatever their generation.
func (a *App) DriverSelector() map[string]string {
	return map[string]string{sparkapp.LabelAppID: a.AppID, sparkapp.LabelSparkRole: sparkapp.RoleDriver}
}

// Build returns the objects of app. jobUID is the UID of the created Job, used in the owner
// references of the ConfigMap and the Service; it is empty before the Job exists.
func Build(app *App, jobUID types.UID) *Objects {
	return &Objects{
		Job:           buildJob(app),
		ConfigMap:     buildConfigMap(app, jobUID),
		Service:       buildService(app, jobUID),
		NetworkPolicy: buildNetworkPolicy(app, jobUID),
		Checkpoint:    buildCheckpoint(app),
	}
}

// OwnedByJob returns the owner reference of an object owned by the app's Job; none before the
// Job exists (jobUID ""), since the API server refuses an owner reference without a uid and
// printed objects must apply as printed.
func OwnedByJob(app *App, jobUID types.UID) []metav1.OwnerReference {
	if jobUID == "" {
		return nil
	}
	return []metav1.OwnerReference{{
		APIVersion:         "batch/v1",
		Kind:               "Job",
		Name:               app.Name,
		UID:                jobUID,
		BlockOwnerDeletion: ptr.To(true),
	}}
}

func buildJob(app *App) *batchv1.Job {
	d := app.Driver
	podLabels := mergeMaps(d.Labels, app.AppLabels())
	podLabels[sparkapp.LabelSparkRole] = sparkapp.RoleDriver
	podAnnotations := mergeMaps(app.Annotations, d.Annotations)

	// Kubernetes expands $(VAR) and $$ in args. What the user wrote reaches spark-submit
	// unchanged (every '$' doubled), or, for a spark-submit line, as spark-submit writes it:
	// expanded as in its driver pod, where sparkha's own variables do not exist.
	userArg := expansion.Escape
	if app.ArgsAsSparkSubmit {
		userArg = func(s string) string { return expansion.EscapeRefs(s, OwnEnv) }
	}
	args := []string{"driver"}
	if app.ProxyUser != "" {
		// Where Spark's DriverCommandFeatureStep (baseDriverContainer, Spark 3.4 and later) puts
		// it: the image's entrypoint passes it on to spark-submit in the driver.
		args = append(args, "--proxy-user", userArg(app.ProxyUser))
	}
	args = append(args,
		"--properties-file", SparkConfDir+"/"+SparkConfFile,
		// Each driver generation passes its own pod name, so the executors it creates are
		// owned by (and garbage-collected with) that generation.
		"--conf", "spark.kubernetes.driver.pod.name=$("+EnvDriverPodName+")",
		// ... its own application ID: Spark finds, counts and deletes "its" executors by the
		// label spark-app-selector=<spark.app.id>, so a generation must never share it.
		"--conf", "spark.app.id="+DriverAppIDRef,
		// ... and its own address: an executor of an earlier generation that starts late
		// reaches that generation's pod IP, never the next driver.
		"--conf", "spark.driver.host="+app.DriverHost(),
		"--class", userArg(app.MainClass),
		userArg(app.AppResource),
	)
	for _, a := range app.AppArgs {
		args = append(args, userArg(a))
	}

	memory := resource.MustParse(fmt.Sprintf("%dMi", app.DriverMemoryMiB+app.DriverOverheadMiB))
	fieldRef := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}
	}
	// Order matters: a value may only reference ($(VAR)) variables listed before it.
	env := []corev1.EnvVar{
		{Name: EnvDriverPodName, ValueFrom: fieldRef("metadata.name")},
		{Name: EnvDriverPodUID, ValueFrom: fieldRef("metadata.uid")},
		{Name: EnvDriverPodIP, ValueFrom: fieldRef("status.podIP")},
		// Upstream sets it to spark.app.id; keep both equal.
		{Name: EnvApplicationID, Value: DriverAppIDRef},
		{Name: "SPARK_DRIVER_BIND_ADDRESS", ValueFrom: fieldRef("status.podIP")},
	}
	if len(d.LocalDirs) > 0 { // none when LocalDirsFeatureStep is left out
		env = append(env, corev1.EnvVar{Name: "SPARK_LOCAL_DIRS", Value: strings.Join(d.LocalDirs, ",")})
	}
	env = append(env, corev1.EnvVar{Name: "SPARK_CONF_DIR", Value: SparkConfDir})
	env = append(env, d.Env...)

	mounts := []corev1.VolumeMount{{Name: SparkConfVolume, MountPath: SparkConfDir}}
	volumes := []corev1.Volume{
		{Name: SparkConfVolume, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: ConfigMapName(app.Name)},
			Items:                []corev1.KeyToPath{{Key: SparkConfFile, Path: SparkConfFile, Mode: ptr.To[int32](0o644)}},
		}}},
	}
	if app.ExecutorPodTemplate != "" {
		// PodTemplateConfigMapStep: the executor template, where spark.properties says it is.
		mounts = append(mounts, corev1.VolumeMount{Name: PodTemplateVolume, MountPath: ExecutorTemplateDir})
		volumes = append(volumes, corev1.Volume{Name: PodTemplateVolume, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: ConfigMapName(app.Name)},
			Items:                []corev1.KeyToPath{{Key: ExecutorTemplateFile, Path: ExecutorTemplateFile, Mode: ptr.To[int32](0o644)}},
		}}})
	}
	medium := corev1.StorageMediumDefault
	if d.LocalDirsTmpfs {
		medium = corev1.StorageMediumMemory
	}
	for i, dir := range d.LocalDirs {
		if d.LocalDirsMounted {
			break // the user's own spark-local-dir-* volumes, already mounted
		}
		name := fmt.Sprintf("%s%d", localDirVolumePrefix, i+1)
		mounts = append(mounts, corev1.VolumeMount{Name: name, MountPath: dir})
		volumes = append(volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: medium}}})
	}
	if cp := app.Checkpoint; cp != nil {
		mounts = append(mounts, corev1.VolumeMount{Name: CheckpointVolume, MountPath: cp.MountPath})
		volumes = append(volumes, corev1.Volume{Name: CheckpointVolume, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: cp.ClaimName}}})
	}
	mounts = append(mounts, d.Mounts...)
	volumes = append(volumes, d.Volumes...)

	// The pod template file is the base; Spark's settings go over it as the feature steps
	// apply theirs over loadPodFromTemplate's pod (KubernetesDriverBuilder).
	var spec corev1.PodSpec
	var container corev1.Container
	if t := d.Template; t != nil {
		spec = *t.Spec.DeepCopy()
		podLabels = mergeMaps(t.Labels, podLabels)
		podAnnotations = mergeMaps(t.Annotations, podAnnotations)
		if c := sparkContainer(t, d.TemplateContainer); c != nil {
			container = *c.DeepCopy()
			spec.Containers = nil
			for _, other := range t.Spec.Containers {
				if other.Name != c.Name {
					spec.Containers = append(spec.Containers, *other.DeepCopy())
				}
			}
		}
	}
	if container.Name == "" {
		container.Name = DriverContainerName
	}
	container.Image = d.Image
	container.ImagePullPolicy = d.PullPolicy
	container.Args = args
	container.Ports = append(container.Ports,
		corev1.ContainerPort{Name: DriverPortName, ContainerPort: DriverPort, Protocol: corev1.ProtocolTCP},
		corev1.ContainerPort{Name: BlockManagerPortName, ContainerPort: BlockManagerPort, Protocol: corev1.ProtocolTCP},
		corev1.ContainerPort{Name: UIPortName, ContainerPort: d.UIPort, Protocol: corev1.ProtocolTCP},
		corev1.ContainerPort{Name: ConnectPortName, ContainerPort: d.ConnectPort, Protocol: corev1.ProtocolTCP})
	// BasicDriverFeatureStep (Spark 4.3) edits the template container's security context and
	// sets allowPrivilegeEscalation, whatever the template said.
	if container.SecurityContext == nil {
		container.SecurityContext = &corev1.SecurityContext{}
	}
	container.SecurityContext.AllowPrivilegeEscalation = ptr.To(d.AllowPrivilegeEscalation)
	container.Env = append(container.Env, env...)
	container.VolumeMounts = append(container.VolumeMounts, mounts...)
	if container.Resources.Requests == nil {
		container.Resources.Requests = corev1.ResourceList{}
	}
	if container.Resources.Limits == nil {
		container.Resources.Limits = corev1.ResourceList{}
	}
	container.Resources.Requests[corev1.ResourceCPU] = d.CPURequest
	container.Resources.Requests[corev1.ResourceMemory] = memory
	container.Resources.Limits[corev1.ResourceMemory] = memory
	if d.CPULimit != nil {
		container.Resources.Limits[corev1.ResourceCPU] = *d.CPULimit
	}
	for name, q := range d.ExtraLimits {
		container.Resources.Limits[name] = q
	}
	// The Spark container first, so kubectl logs and exec pick it by default.
	spec.Containers = append([]corev1.Container{container}, spec.Containers...)
	spec.RestartPolicy = corev1.RestartPolicyNever
	if app.ServiceAccount != "" {
		spec.ServiceAccountName = app.ServiceAccount
	}
	spec.Volumes = append(spec.Volumes, volumes...)
	spec.NodeSelector = mergeMaps(spec.NodeSelector, d.NodeSelector)
	spec.ImagePullSecrets = append(spec.ImagePullSecrets, d.PullSecrets...)
	if d.SchedulerName != "" {
		spec.SchedulerName = d.SchedulerName
	}
	spec.Tolerations = append(spec.Tolerations,
		corev1.Toleration{Key: TaintUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(app.NodeLostTimeoutSeconds)},
		corev1.Toleration{Key: TaintNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(app.NodeLostTimeoutSeconds)})

	return &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        app.Name,
			Namespace:   app.Namespace,
			Labels:      app.AppLabels(),
			Annotations: nilIfEmpty(app.Annotations),
		},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To(app.BackoffLimit),
			// A driver lost with its node (taint eviction, PodGC, preemption) carries the
			// DisruptionTarget condition: that must not use up the retries, app crashes do.
			PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action: batchv1.PodFailurePolicyActionIgnore,
				OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{
					Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
				}},
			}}},
			// No replacement driver while the old one is only terminating: at most one driver.
			PodReplacementPolicy: ptr.To(batchv1.Failed),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      podLabels,
					Annotations: podAnnotations,
				},
				Spec: spec,
			},
		},
	}
}

func buildConfigMap(app *App, jobUID types.UID) *corev1.ConfigMap {
	data := map[string]string{
		SparkConfFile: RenderProperties("Spark properties of "+app.Name+", written by kubectl sparkha", app.Properties),
	}
	if app.ExecutorPodTemplate != "" {
		data[ExecutorTemplateFile] = app.ExecutorPodTemplate
	}
	return &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name:            ConfigMapName(app.Name),
			Namespace:       app.Namespace,
			Labels:          app.AppLabels(),
			OwnerReferences: OwnedByJob(app, jobUID),
		},
		// Immutable like Spark's own driver ConfigMap: every driver generation reads the same conf.
		Immutable: ptr.To(true),
		Data:      data,
	}
}

func buildService(app *App, jobUID types.UID) *corev1.Service {
	port := func(name string, p int32) corev1.ServicePort {
		return corev1.ServicePort{Name: name, Port: p, TargetPort: intstr.FromInt32(p), Protocol: corev1.ProtocolTCP}
	}
	connect := port(ConnectPortName, app.Driver.ConnectPort)
	connect.AppProtocol = ptr.To("grpc")
	return &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Name:            ServiceName(app.Name),
			Namespace:       app.Namespace,
			Labels:          mergeMaps(app.Service.Labels, app.AppLabels()),
			Annotations:     nilIfEmpty(app.Service.Annotations),
			OwnerReferences: OwnedByJob(app, jobUID),
		},
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			Selector:                 app.DriverSelector(),
			IPFamilyPolicy:           app.Service.IPFamilyPolicy,
			IPFamilies:               app.Service.IPFamilies,
			PublishNotReadyAddresses: app.Service.PublishNotReadyAddresses,
			Ports: []corev1.ServicePort{
				port(DriverPortName, DriverPort),
				port(BlockManagerPortName, BlockManagerPort),
				port(UIPortName, app.Driver.UIPort),
				connect,
			},
		},
	}
}

// buildNetworkPolicy is NetworkPolicyFeatureStep's policy (Spark 4.2): ingress to the app's
// executors only from the app's pods. Spark selects by one run's spark-app-selector; the
// executors and drivers of every sparkha generation share the app's sparkha.io/app-id instead.
func buildNetworkPolicy(app *App, jobUID types.UID) *networkingv1.NetworkPolicy {
	if app.Driver.Excluded[stepNetworkPolicy] {
		return nil
	}
	return &networkingv1.NetworkPolicy{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{
			Name:            NetworkPolicyName(app.Name),
			Namespace:       app.Namespace,
			Labels:          app.AppLabels(),
			OwnerReferences: OwnedByJob(app, jobUID),
		},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{
				sparkapp.LabelSparkRole: sparkapp.RoleExecutor, sparkapp.LabelAppID: app.AppID}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
				PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{sparkapp.LabelAppID: app.AppID}}}}}},
		},
	}
}

func buildCheckpoint(app *App) *corev1.PersistentVolumeClaim {
	cp := app.Checkpoint
	if cp == nil || !cp.Create {
		return nil
	}
	return &corev1.PersistentVolumeClaim{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      cp.ClaimName,
			Namespace: app.Namespace,
			Labels:    app.AppLabels(),
			// No owner: deleting the app must never delete its checkpoint.
		},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{cp.AccessMode},
			StorageClassName: cp.StorageClass,
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(cp.Size)},
			},
		},
	}
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
