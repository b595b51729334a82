// Package submit turns a `kubectl sparkha submit` request into the Kubernetes objects of a
// partition-safe Spark driver (Resolve, then Build: both pure) and creates them (Apply).
package submit

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Names, labels and paths shared by the objects of one application.
const (
	// The labels are sparkapp's: Spark's, the operator's and ours, in one place.

	// DriverContainerName is Spark's DEFAULT_DRIVER_CONTAINER_NAME.
	DriverContainerName = "spark-kubernetes-driver"

	// SparkConfDir and SparkConfFile are Spark's SPARK_CONF_DIR_INTERNAL and SPARK_CONF_FILE_NAME.
	SparkConfDir    = "/opt/spark/conf"
	SparkConfFile   = "spark.properties"
	SparkConfVolume = "spark-conf-volume-driver"
	LocalDirVolume  = "spark-local-dir-1"

	// CheckpointVolume is the pod volume name of the checkpoint claim.
	CheckpointVolume = "checkpoint"

	// Spark's default ports (Constants.scala, SparkUI) and their port names.
	DriverPort            = 7078
	BlockManagerPort      = 7079
	UIPort                = 4040
	DriverPortName        = "driver-rpc-port"
	BlockManagerPortName  = "blockmanager"
	UIPortName            = "spark-ui"
	KubernetesMasterInPod = "k8s://https://kubernetes.default.svc"

	// BackoffLimitConfKey is the conf key of the 2018 fork that first ran the driver as a Job.
	BackoffLimitConfKey = "spark.kubernetes.driver.job.backofflimit"

	// Defaults.
	DefaultBackoffLimit    = 6
	DefaultNodeLostTimeout = 60 * time.Second
	DefaultCheckpointMount = "/checkpoint"
	DefaultAccessMode      = corev1.ReadWriteOncePod

	// Taints the node lifecycle controller puts on a lost node.
	TaintUnreachable = "node.kubernetes.io/unreachable"
	TaintNotReady    = "node.kubernetes.io/not-ready"
)

// Derived object names.
func ConfigMapName(app string) string  { return app + "-spark-conf" }
func ServiceName(app string) string    { return app + "-driver-svc" }
func CheckpointName(app string) string { return app + "-checkpoint" }

// NetworkPolicyName is Spark's name for it, RESOURCE_PREFIX-policy (NetworkPolicyFeatureStep).
func NetworkPolicyName(app string) string { return app + "-policy" }

// Input is a submit request as the user gave it. Pointer and empty-string fields mean
// "not given": the value then comes from the Spark conf, then from the default.
type Input struct {
	Name      string
	Namespace string

	Image       string
	MainClass   string
	AppResource string
	AppArgs     []string
	// ExtraArgs are positional arguments after APP_RESOURCE that were not after "--".
	ExtraArgs []string

	// Conf holds the --conf KEY=VALUE arguments, in order.
	Conf []string
	// PropertiesFile is the --properties-file path, PropertiesData its content.
	PropertiesFile string
	PropertiesData []byte

	ServiceAccount string
	// ProxyUser is the user the driver runs the app as (spark-submit --proxy-user).
	ProxyUser string
	// ArgsAsSparkSubmit writes the class, resource, arguments and proxy user into the driver
	// container's args as spark-submit writes them (a --spark-submit line, a spark-submit
	// driver's pod): Kubernetes expands $(VAR) and $$ in them as in spark-submit's driver pod.
	// Otherwise they reach the application as given.
	ArgsAsSparkSubmit bool
	// SparkUser is the submitting user, as spark-submit reads it (Utils.getCurrentUserName:
	// $SPARK_USER, else the login name): the driver's SPARK_USER unless ProxyUser is set.
	SparkUser         string
	DriverCores       *int
	DriverMemory      string
	ExecutorInstances *int
	ExecutorCores     *int
	ExecutorMemory    string

	Labels      string
	Annotations string

	CheckpointClaim        string
	CheckpointSize         string
	CheckpointStorageClass *string
	CheckpointAccessMode   string
	CheckpointMount        string
	// CheckpointMountSet says --checkpoint-mount was given explicitly.
	CheckpointMountSet bool

	BackoffLimit    *int
	NodeLostTimeout time.Duration

	// ReadFile reads a file on this machine: the pod template files named in the conf.
	ReadFile func(path string) ([]byte, error)
	// HadoopConfDir is the submitting environment's HADOOP_CONF_DIR.
	HadoopConfDir string
	// CheckpointClaimAccessModes are the access modes of the --checkpoint-claim as read from
	// the cluster; nil when it could not be read (CheckpointClaimReadError says why).
	CheckpointClaimAccessModes []corev1.PersistentVolumeAccessMode
	CheckpointClaimReadError   string

	// AppID identifies the app ("spark-" + 32 lowercase hex, as spark-submit generates a
	// spark.app.id): the spark-app-selector label of its Job, driver pods, ConfigMap, Service
	// and claim. Each driver generation runs with its own spark.app.id (DriverAppIDRef).
	AppID string
}

// App is a validated, fully resolved submit request: Build needs nothing else.
type App struct {
	Name      string
	Namespace string
	AppID     string

	Image        string
	MainClass    string
	AppResource  string
	AppArgs      []string
	ResourceType string // java, python or r

	ServiceAccount string
	ProxyUser      string
	// ArgsAsSparkSubmit is Input.ArgsAsSparkSubmit.
	ArgsAsSparkSubmit bool
	// SparkUser is the driver's SPARK_USER: the proxy user, else the submitting user.
	SparkUser string

	DriverCores       int
	DriverMemoryMiB   int64
	DriverOverheadMiB int64

	Labels      map[string]string
	Annotations map[string]string

	// Properties is the content of spark.properties.
	Properties map[string]string

	BackoffLimit           int32
	NodeLostTimeoutSeconds int64

	Checkpoint *Checkpoint

	// Driver and Service are what the Spark conf asks of the driver pod and its Service.
	Driver  DriverPod
	Service DriverService
	// ExecutorPodTemplate is the content of spark.kubernetes.executor.podTemplateFile, shipped
	// in the ConfigMap; "" without one.
	ExecutorPodTemplate string
	// Warnings are printed on stderr before anything is created.
	Warnings []string
}

// Checkpoint is the checkpoint volume of an App.
type Checkpoint struct {
	// ClaimName is the PVC mounted at MountPath.
	ClaimName string
	// Create says this submit creates the claim (--checkpoint-size); false for --checkpoint-claim.
	Create       bool
	Size         string
	StorageClass *string
	AccessMode   corev1.PersistentVolumeAccessMode
	MountPath    string
}
