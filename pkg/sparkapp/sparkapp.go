// Package sparkapp is the vocabulary Spark and kubectl sparkha write on Kubernetes objects:
// the labels, and how to read back which application an object belongs to (AppOf). Every
// package that names an app, from submit to completion, reads it here, so they agree.
package sparkapp

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Spark's labels (apache/spark resource-managers/kubernetes Constants.scala), the Spark
// operator's, and ours.
const (
	LabelSparkRole = "spark-role"
	// LabelAppSelector holds spark.app.id.
	LabelAppSelector = "spark-app-selector"
	LabelAppName     = "spark-app-name"
	LabelExecID      = "spark-exec-id"
	RoleDriver       = "driver"
	RoleExecutor     = "executor"

	// LabelOperatorApp names the SparkApplication of the Spark operator (kubeflow/spark-operator).
	LabelOperatorApp = "sparkoperator.k8s.io/app-name"
	// LabelApacheOperatorApp names the SparkApplication of Apache's spark-kubernetes-operator
	// (Constants.LABEL_SPARK_APPLICATION_NAME, on its driver pods through Utils.driverLabels).
	LabelApacheOperatorApp = "spark.operator/spark-app-name"

	// OperatorKubeflow and OperatorApache are the API groups of those operators' SparkApplications.
	OperatorKubeflow = "sparkoperator.k8s.io"
	OperatorApache   = "spark.apache.org"

	// LabelAppID is a kubectl sparkha app's ID on every object of the app and on every
	// generation's driver and executor pods; spark-app-selector is Spark's, a generation's
	// spark.app.id, on its executors only (docs/spark-conf.md).
	LabelAppID = "sparkha.io/app-id"

	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelName      = "app.kubernetes.io/name"
	ManagedBy      = "kubectl-sparkha"
)

// Kind is what creates an app's drivers.
type Kind string

const (
	// KindSparkhaJob: a driver Job of kubectl sparkha submit.
	KindSparkhaJob Kind = "SparkhaJob"
	// KindJob: a driver Job written by other hands.
	KindJob Kind = "Job"
	// KindSparkApplication: a driver pod of the Spark operator.
	KindSparkApplication Kind = "SparkApplication"
	// KindPod: a bare driver pod, as spark-submit creates it.
	KindPod Kind = "Pod"
)

// AppKey names one Spark application: what `inspect APP`, `failover APP` and completion call
// it, and what Analyze groups driver generations by.
type AppKey struct {
	Namespace string
	Name      string
	Kind      Kind
	// Job is the driver Job's name, for the Job kinds.
	Job string
}

// AppOfPod is the application of a driver pod. The controller that recreates the driver is
// what a failover acts on, so it names the app: the Job that owns the pod (whatever the pod's
// spark-app-name label says), else a Spark operator's application (Kubeflow's or Apache's),
// else, for spark-submit's bare pod, Spark's app name label, its app ID, or the pod's own name.
func AppOfPod(pod *corev1.Pod) AppKey {
	k := AppKey{Namespace: pod.Namespace}
	for _, o := range pod.OwnerReferences {
		if o.Kind == "Job" && o.APIVersion == "batch/v1" {
			k.Name, k.Job, k.Kind = o.Name, o.Name, KindJob
			if pod.Labels[LabelManagedBy] == ManagedBy {
				k.Kind = KindSparkhaJob
			}
			return k
		}
	}
	k.Kind = KindPod
	if op := OperatorOfPod(pod); op != "" {
		k.Name, k.Kind = pod.Labels[operatorLabels[op]], KindSparkApplication
		return k
	}
	for _, name := range []string{pod.Labels[LabelAppName], pod.Labels[LabelAppSelector], pod.Name} {
		if name != "" {
			k.Name = name
			return k
		}
	}
	return k
}

// operatorLabels is the label each operator names its SparkApplication with on the driver pod.
// SparkApplicationResources are the operators' SparkApplication resources, at the versions
// they store today: Kubeflow's v1beta2 and Apache's v1 (which its CRD stores since 1.0.0; it
// serves v1beta1 beside it; installs older than v1 are not read).
var SparkApplicationResources = []schema.GroupVersionResource{
	{Group: OperatorKubeflow, Version: "v1beta2", Resource: "sparkapplications"},
	{Group: OperatorApache, Version: "v1", Resource: "sparkapplications"},
}

var operatorLabels = map[string]string{OperatorKubeflow: LabelOperatorApp, OperatorApache: LabelApacheOperatorApp}

// OperatorOfPod is the API group of the Spark operator whose SparkApplication the pod is a
// driver of, from its labels, or "".
func OperatorOfPod(pod *corev1.Pod) string {
	switch {
	case pod.Labels[LabelOperatorApp] != "":
		return OperatorKubeflow
	case pod.Labels[LabelApacheOperatorApp] != "":
		return OperatorApache
	}
	return ""
}

// AppOfJob is the application of a driver Job: one that kubectl sparkha created, or any Job
// whose pod template is labelled spark-role=driver. ok is false for other Jobs.
func AppOfJob(job *batchv1.Job) (k AppKey, ok bool) {
	switch {
	case job.Labels[LabelManagedBy] == ManagedBy:
		return AppKey{Namespace: job.Namespace, Name: job.Name, Kind: KindSparkhaJob, Job: job.Name}, true
	case job.Spec.Template.Labels[LabelSparkRole] == RoleDriver:
		return AppKey{Namespace: job.Namespace, Name: job.Name, Kind: KindJob, Job: job.Name}, true
	}
	return AppKey{}, false
}

// GenerationAppID is the spark.app.id of the driver generation running in the pod with this
// UID, for a kubectl sparkha driver: submit sets spark.app.id per generation, and Spark labels
// that generation's executors spark-app-selector=GenerationAppID(uid).
func GenerationAppID(podUID types.UID) string { return "spark-" + string(podUID) }

// DriverAppID is the spark.app.id of the driver generation in pod: GenerationAppID for a
// kubectl sparkha driver, else the pod's spark-app-selector label, as spark-submit and the
// Spark operator set it.
func DriverAppID(pod *corev1.Pod) string {
	if pod.Labels[LabelManagedBy] == ManagedBy {
		return GenerationAppID(pod.UID)
	}
	return pod.Labels[LabelAppSelector]
}

// OwnerPodUID is the UID of the pod an executor pod is owned by (Spark makes the driver pod
// its owner), or "".
func OwnerPodUID(pod *corev1.Pod) types.UID {
	for _, o := range pod.OwnerReferences {
		if o.Kind == "Pod" && o.APIVersion == "v1" {
			return o.UID
		}
	}
	return ""
}
