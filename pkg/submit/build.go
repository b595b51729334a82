package submit

import (
	"fmt"
	"maps"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Objects are the Kubernetes objects of one Spark application.
type Objects struct {
	Job       *batchv1.Job
	ConfigMap *corev1.ConfigMap
	Service   *corev1.Service
	// Checkpoint is the claim this submit creates; nil for --checkpoint-claim or no checkpoint.
	Checkpoint *corev1.PersistentVolumeClaim
}

// List returns the objects in printing order: Job, ConfigMap, Service, PVC.
func (o *Objects) List() []metav1.Object {
	out := []metav1.Object{o.Job, o.ConfigMap, o.Service}
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
	l[LabelSparkAppID] = a.AppID
	l[LabelSparkAppName] = a.Name
	l[LabelManagedBy] = ManagedBy
	l[LabelName] = a.Name
	return l
}

// Environment variables of the driver container that carry its generation's identity.
const (
	EnvDriverPodName = "SPARK_DRIVER_POD_NAME"
	EnvDriverPodUID  = "SPARK_DRIVER_POD_UID"
	EnvApplicationID = "SPARK_APPLICATION_ID" // Spark's ENV_APPLICATION_ID
)

// DriverAppIDRef is the spark.app.id of a driver generation as written in its container spec:
// Kubernetes expands it to "spark-" + the pod's UID, so every generation has its own ID.
// App.AppID stays the app's identity (the spark-app-selector label of the Job and its objects).
const DriverAppIDRef = "spark-$(" + EnvDriverPodUID + ")"

// GenerationAppID returns the spark.app.id of the driver generation running in the pod with
// this UID. Spark labels that generation's executors spark-app-selector=GenerationAppID(uid).
func GenerationAppID(podUID types.UID) string { return "spark-" + string(podUID) }

// DriverSelector selects the driver pods of the app, whatever their generation.
func (a *App) DriverSelector() map[string]string {
	return map[string]string{LabelSparkAppID: a.AppID, LabelSparkRole: SparkRoleDriver}
}

// Build returns the objects of app. jobUID is the UID of the created Job, used in the owner
// references of the ConfigMap and the Service; it is empty before the Job exists.
func Build(app *App, jobUID types.UID) *Objects {
	return &Objects{
		Job:        buildJob(app),
		ConfigMap:  buildConfigMap(app, jobUID),
		Service:    buildService(app, jobUID),
		Checkpoint: buildCheckpoint(app),
	}
}

// OwnedByJob returns the owner reference of an object owned by the app's Job.
func OwnedByJob(app *App, jobUID types.UID) []metav1.OwnerReference {
	return []metav1.OwnerReference{{
		APIVersion:         "batch/v1",
		Kind:               "Job",
		Name:               app.Name,
		UID:                jobUID,
		BlockOwnerDeletion: ptr.To(true),
	}}
}

func buildJob(app *App) *batchv1.Job {
	podLabels := app.AppLabels()
	podLabels[LabelSparkRole] = SparkRoleDriver

	localDir := "/var/data/spark-" + strings.TrimPrefix(app.AppID, "spark-")
	memory := resource.MustParse(fmt.Sprintf("%dMi", app.DriverMemoryMiB+app.DriverOverheadMiB))

	args := []string{
		"driver",
		"--properties-file", SparkConfDir + "/" + SparkConfFile,
		// Each driver generation passes its own pod name, so the executors it creates are
		// owned by (and garbage-collected with) that generation.
		"--conf", "spark.kubernetes.driver.pod.name=$(" + EnvDriverPodName + ")",
		// ... and its own application ID: Spark finds, counts and deletes "its" executors by
		// the label spark-app-selector=<spark.app.id>, so a generation must never share it.
		"--conf", "spark.app.id=" + DriverAppIDRef,
		"--class", app.MainClass,
		app.AppResource,
	}
	args = append(args, app.AppArgs...)

	container := corev1.Container{
		Name:            DriverContainerName,
		Image:           app.Image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Args:            args,
		Ports: []corev1.ContainerPort{
			{Name: DriverPortName, ContainerPort: DriverPort, Protocol: corev1.ProtocolTCP},
			{Name: BlockManagerPortName, ContainerPort: BlockManagerPort, Protocol: corev1.ProtocolTCP},
			{Name: UIPortName, ContainerPort: UIPort, Protocol: corev1.ProtocolTCP},
		},
		// Order matters: a value may only reference ($(VAR)) variables listed before it.
		Env: []corev1.EnvVar{
			{Name: EnvDriverPodName, ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
			{Name: EnvDriverPodUID, ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.uid"}}},
			// Upstream sets it to spark.app.id; keep both equal.
			{Name: EnvApplicationID, Value: DriverAppIDRef},
			{Name: "SPARK_DRIVER_BIND_ADDRESS", ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}}},
			{Name: "SPARK_LOCAL_DIRS", Value: localDir},
			{Name: "SPARK_CONF_DIR", Value: SparkConfDir},
		},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{
				corev1.ResourceCPU:    *resource.NewQuantity(int64(app.DriverCores), resource.DecimalSI),
				corev1.ResourceMemory: memory,
			},
			Limits: corev1.ResourceList{corev1.ResourceMemory: memory},
		},
		VolumeMounts: []corev1.VolumeMount{
			{Name: SparkConfVolume, MountPath: SparkConfDir},
			{Name: LocalDirVolume, MountPath: localDir},
		},
	}
	volumes := []corev1.Volume{
		{Name: SparkConfVolume, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: ConfigMapName(app.Name)},
			Items:                []corev1.KeyToPath{{Key: SparkConfFile, Path: SparkConfFile, Mode: ptr.To[int32](0o644)}},
		}}},
		{Name: LocalDirVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	if cp := app.Checkpoint; cp != nil {
		container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: CheckpointVolume, MountPath: cp.MountPath})
		volumes = append(volumes, corev1.Volume{Name: CheckpointVolume, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: cp.ClaimName}}})
	}

	tolerations := []corev1.Toleration{
		{Key: TaintUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(app.NodeLostTimeoutSeconds)},
		{Key: TaintNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(app.NodeLostTimeoutSeconds)},
	}

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
					Annotations: nilIfEmpty(app.Annotations),
				},
				Spec: corev1.PodSpec{
					RestartPolicy:      corev1.RestartPolicyNever,
					ServiceAccountName: app.ServiceAccount,
					Containers:         []corev1.Container{container},
					Volumes:            volumes,
					Tolerations:        tolerations,
				},
			},
		},
	}
}

func buildConfigMap(app *App, jobUID types.UID) *corev1.ConfigMap {
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
		Data: map[string]string{
			SparkConfFile: RenderProperties("Spark properties of "+app.Name+", written by kubectl sparkha", app.Properties),
		},
	}
}

func buildService(app *App, jobUID types.UID) *corev1.Service {
	port := func(name string, p int32) corev1.ServicePort {
		return corev1.ServicePort{Name: name, Port: p, TargetPort: intstr.FromInt32(p), Protocol: corev1.ProtocolTCP}
	}
	return &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Name:            ServiceName(app.Name),
			Namespace:       app.Namespace,
			Labels:          app.AppLabels(),
			OwnerReferences: OwnedByJob(app, jobUID),
		},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Selector:  app.DriverSelector(),
			Ports: []corev1.ServicePort{
				port(DriverPortName, DriverPort),
				port(BlockManagerPortName, BlockManagerPort),
				port(UIPortName, UIPort),
			},
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
