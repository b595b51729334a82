package submit

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// Handling says what submit does with a Spark key that spark-submit's submitting side reads.
type Handling string

const (
	// Applied: submit applies the key to the driver's Job, Service or ConfigMap the way
	// upstream's feature step does, and keeps it in spark.properties.
	Applied Handling = "applied"
	// Refused: submit exits 1 before any request, naming the key and what to do instead.
	Refused Handling = "refused"
	// Reserved: submit sets the key itself; a user value is refused.
	Reserved Handling = "reserved"
	// Passed: only the driver (or its executors) reads the key: it goes into spark.properties
	// unchanged and Spark honours it in the pod.
	Passed Handling = "passed"
)

// KeyRule is the disposition of one Spark key, or of every key under a prefix
// (Key ends in ".*"), on the submitting side.
type KeyRule struct {
	Key      string
	Handling Handling
	// Upstream is where spark-submit (or the image) reads it: a file of apache/spark and the
	// step, relative to resource-managers/kubernetes/core/src/main/scala/org/apache/spark/
	// unless it starts with core/.
	Upstream string
	// Submit says what kubectl sparkha does, or, for a refused key, what to do instead.
	Submit string
}

const (
	k8sDir      = "deploy/k8s/"
	featuresDir = k8sDir + "features/"
)

// KeyRules are the keys spark-submit's driver feature steps (and its client) read on the
// submitting side, each with what kubectl sparkha does with it. Keys not listed here are
// Spark's in-pod settings and pass through in spark.properties; TestKeyRulesCoverSpark checks
// that every spark.kubernetes.* key of every Spark line from 3.5 to 4.3 is listed.
var KeyRules = []KeyRule{
	// BasicDriverFeatureStep.
	{"spark.kubernetes.container.image", Applied, featuresDir + "BasicDriverFeatureStep.scala (via DRIVER_CONTAINER_IMAGE's fallback)", "--image; the driver container's image unless spark.kubernetes.driver.container.image is set"},
	{"spark.kubernetes.driver.container.image", Applied, featuresDir + "BasicDriverFeatureStep.scala", "the driver container's image"},
	{"spark.kubernetes.container.image.pullPolicy", Applied, featuresDir + "BasicDriverFeatureStep.scala (conf.imagePullPolicy)", "the driver container's imagePullPolicy (Always, Never or IfNotPresent; default IfNotPresent)"},
	{"spark.kubernetes.container.image.pullSecrets", Applied, featuresDir + "BasicDriverFeatureStep.scala (conf.imagePullSecrets)", "the driver pod's imagePullSecrets (comma-separated names)"},
	{"spark.kubernetes.driverEnv.*", Applied, featuresDir + "BasicDriverFeatureStep.scala (conf.environment)", "an env var of the driver container, after Spark's own; $(VAR) in the value is expanded by Kubernetes, as for spark-submit"},
	{"spark.kubernetes.driver.label.*", Applied, k8sDir + "KubernetesConf.scala (KubernetesDriverConf.labels), BasicDriverFeatureStep.scala", "a label of the driver pods; Spark's and sparkha's own labels are refused"},
	{"spark.kubernetes.driver.annotation.*", Applied, k8sDir + "KubernetesConf.scala (KubernetesDriverConf.annotations), BasicDriverFeatureStep.scala", "an annotation of the driver pods; {{APP_ID}} becomes the app's ID (spark-app-selector)"},
	{"spark.kubernetes.node.selector.*", Applied, featuresDir + "BasicDriverFeatureStep.scala (conf.nodeSelector)", "the driver pod's nodeSelector"},
	{"spark.kubernetes.driver.node.selector.*", Applied, featuresDir + "BasicDriverFeatureStep.scala (conf.driverNodeSelector)", "the driver pod's nodeSelector, over spark.kubernetes.node.selector.*"},
	{"spark.kubernetes.driver.request.cores", Applied, featuresDir + "BasicDriverFeatureStep.scala (KUBERNETES_DRIVER_REQUEST_CORES)", "the driver container's CPU request, instead of spark.driver.cores"},
	{"spark.kubernetes.driver.limit.cores", Applied, featuresDir + "BasicDriverFeatureStep.scala (KUBERNETES_DRIVER_LIMIT_CORES)", "the driver container's CPU limit"},
	{"spark.driver.resource.*", Applied, k8sDir + "KubernetesUtils.scala buildResourcesQuantities, BasicDriverFeatureStep.scala", "NAME.amount with NAME.vendor: the limit VENDOR/NAME of the driver container (vendor required, as upstream); other NAME.* keys pass"},
	{"spark.kubernetes.scheduler.name", Applied, k8sDir + "KubernetesConf.scala (schedulerName), BasicDriverFeatureStep.scala", "the driver pod's schedulerName"},
	{"spark.kubernetes.driver.scheduler.name", Applied, k8sDir + "KubernetesConf.scala (schedulerName), BasicDriverFeatureStep.scala", "the driver pod's schedulerName, over spark.kubernetes.scheduler.name"},
	{"spark.driver.memory", Applied, featuresDir + "BasicDriverFeatureStep.scala", "--driver-memory; the pod's memory with the overhead"},
	{"spark.driver.cores", Applied, featuresDir + "BasicDriverFeatureStep.scala", "--driver-cores; the pod's CPU request unless spark.kubernetes.driver.request.cores is set"},
	{"spark.driver.memoryOverhead", Applied, featuresDir + "BasicDriverFeatureStep.scala", "the pod's memory overhead"},
	{"spark.driver.memoryOverheadFactor", Applied, featuresDir + "BasicDriverFeatureStep.scala", "overhead = max(factor × memory, spark.driver.minMemoryOverhead); 0 ≤ factor < 1"},
	{"spark.driver.minMemoryOverhead", Applied, featuresDir + "BasicDriverFeatureStep.scala (Spark 4.0)", "the overhead's floor (default 384m)"},
	{"spark.kubernetes.memoryOverheadFactor", Applied, featuresDir + "BasicDriverFeatureStep.scala (deprecated default factor)", "the default factor of the driver and the executors; 0 ≤ factor < 1"},
	{"spark.ui.port", Applied, featuresDir + "BasicDriverFeatureStep.scala (SparkUI.getUIPort)", "the driver container's and the Service's spark-ui port"},
	{ConnectPortKey, Applied, featuresDir + "BasicDriverFeatureStep.scala, DriverServiceFeatureStep.scala (Spark 4.1)", "the driver container's and the Service's spark-connect port (default 15002; the Service's appProtocol grpc, as Spark 4.2)"},
	{"spark.kubernetes.securityContext.allowPrivilegeEscalation", Applied, featuresDir + "BasicDriverFeatureStep.scala (Spark 4.3)", "the driver container's securityContext.allowPrivilegeEscalation unless the driver's own key is set (default false, whatever the image's Spark); executors read it in the pod"},
	{"spark.kubernetes.driver.securityContext.allowPrivilegeEscalation", Applied, featuresDir + "BasicDriverFeatureStep.scala (Spark 4.3)", "the driver container's securityContext.allowPrivilegeEscalation (default false, Spark 4.3's, whatever the image's Spark)"},
	{"spark.kubernetes.driver.pod.name", Reserved, featuresDir + "BasicDriverFeatureStep.scala", "each driver generation gets its own pod name from the Job, passed on its command line"},
	{"spark.app.id", Reserved, featuresDir + "BasicDriverFeatureStep.scala", "each driver generation gets its own (spark-<driver pod UID>): Spark finds its executors by it, and a generation must never adopt or delete another's"},
	{"spark.kubernetes.submitInDriver", Reserved, featuresDir + "BasicDriverFeatureStep.scala", "kubectl sparkha sets it to true"},
	// DriverServiceFeatureStep.
	{"spark.driver.host", Reserved, featuresDir + "DriverServiceFeatureStep.scala", "each driver generation passes its own pod IP on its command line, so an executor of one generation can never reach the next one's driver"},
	{"spark.driver.port", Reserved, featuresDir + "DriverServiceFeatureStep.scala", "the driver Service exposes port 7078"},
	{"spark.driver.blockManager.port", Reserved, featuresDir + "DriverServiceFeatureStep.scala", "the driver Service exposes port 7079"},
	{"spark.driver.bindAddress", Reserved, "the image's entrypoint.sh (SPARK_DRIVER_BIND_ADDRESS)", "the driver binds to its pod IP (the image's entrypoint passes SPARK_DRIVER_BIND_ADDRESS)"},
	{"spark.kubernetes.driver.service.annotation.*", Applied, featuresDir + "DriverServiceFeatureStep.scala", "an annotation of the Service NAME-driver-svc, as written"},
	{"spark.kubernetes.driver.service.label.*", Applied, featuresDir + "DriverServiceFeatureStep.scala", "a label of the Service NAME-driver-svc; the app's own labels are refused"},
	{"spark.kubernetes.driver.service.ipFamilyPolicy", Applied, featuresDir + "DriverServiceFeatureStep.scala", "the Service's ipFamilyPolicy"},
	{"spark.kubernetes.driver.service.ipFamilies", Applied, featuresDir + "DriverServiceFeatureStep.scala", "the Service's ipFamilies (IPv4, IPv6, comma-separated)"},
	{"spark.kubernetes.driver.service.publishNotReadyAddresses", Applied, featuresDir + "DriverServiceFeatureStep.scala (Spark 4.3)", "the Service's publishNotReadyAddresses (true or false, default false)"},
	// DriverCommandFeatureStep.
	{"spark.kubernetes.resource.type", Reserved, featuresDir + "DriverCommandFeatureStep.scala", "kubectl sparkha derives it from APP_RESOURCE (java, python or r)"},
	{"spark.pyspark.python", Applied, featuresDir + "DriverCommandFeatureStep.scala (PYSPARK_PYTHON)", "env PYSPARK_PYTHON of the driver container (Python apps)"},
	{"spark.pyspark.driver.python", Applied, featuresDir + "DriverCommandFeatureStep.scala (PYSPARK_DRIVER_PYTHON)", "env PYSPARK_DRIVER_PYTHON of the driver container (Python apps)"},
	{"spark.jars", Applied, "core/src/main/scala/org/apache/spark/deploy/SparkSubmit.scala", "with the JVM APP_RESOURCE added, as the outer spark-submit adds it; client-local paths are refused"},
	{"spark.files", Applied, featuresDir + "BasicDriverFeatureStep.scala (upload of local files)", "remote and local:// URIs pass; client-local paths are refused"},
	{"spark.archives", Applied, featuresDir + "BasicDriverFeatureStep.scala (upload of local files)", "remote and local:// URIs pass; client-local paths are refused"},
	{"spark.submit.pyFiles", Applied, featuresDir + "BasicDriverFeatureStep.scala (upload of local files)", "remote and local:// URIs pass; client-local paths are refused"},
	{"spark.kubernetes.file.upload.path", Refused, k8sDir + "KubernetesUtils.scala uploadAndTransformFileUris", "kubectl sparkha does not upload client files: put them in the image (local://) or on storage the cluster reads (s3a://, gs://, abfs://, hdfs://, https://)"},
	// MountSecretsFeatureStep, EnvSecretsFeatureStep, MountVolumesFeatureStep.
	{"spark.kubernetes.driver.secrets.*", Applied, featuresDir + "MountSecretsFeatureStep.scala", "SECRET=PATH: the Secret mounted at PATH (volume SECRET-volume)"},
	{"spark.kubernetes.driver.secretKeyRef.*", Applied, featuresDir + "EnvSecretsFeatureStep.scala", "ENV=SECRET:KEY: env ENV from that Secret's key"},
	{"spark.kubernetes.driver.volumes.*", Applied, featuresDir + "MountVolumesFeatureStep.scala, " + k8sDir + "KubernetesVolumeUtils.scala", "hostPath, emptyDir, nfs and persistentVolumeClaim volumes mounted in the driver; an OnDemand claim is refused (name an existing claim)"},
	// LocalDirsFeatureStep.
	{"spark.local.dir", Applied, featuresDir + "LocalDirsFeatureStep.scala", "one emptyDir per directory, SPARK_LOCAL_DIRS lists them; the user's own volumes named spark-local-dir-* replace them"},
	{"spark.kubernetes.local.dirs.tmpfs", Applied, featuresDir + "LocalDirsFeatureStep.scala", "the local-dir emptyDirs use medium Memory"},
	// PodTemplateConfigMapStep, driver pod template.
	{"spark.kubernetes.driver.podTemplateFile", Applied, k8sDir + "KubernetesUtils.scala loadPodFromTemplate, submit/KubernetesDriverBuilder.scala", "read on this machine and used as the Job's pod template, Spark's settings applied over it as the feature steps do"},
	{"spark.kubernetes.driver.podTemplateContainerName", Applied, k8sDir + "KubernetesUtils.scala selectSparkContainer", "the template's container that runs the driver (default: the first)"},
	{"spark.kubernetes.executor.podTemplateFile", Applied, featuresDir + "PodTemplateConfigMapStep.scala", "read on this machine, shipped in NAME-spark-conf, mounted at /opt/spark/pod-template and the key rewritten to /opt/spark/pod-template/pod-spec-template.yml"},
	// HadoopConfDriverFeatureStep, KerberosConfDriverFeatureStep.
	{"spark.kubernetes.hadoop.configMapName", Applied, featuresDir + "HadoopConfDriverFeatureStep.scala", "the ConfigMap mounted at /opt/hadoop/conf (volume hadoop-properties), env HADOOP_CONF_DIR; spark.kubernetes.executor.hadoopConfigMapName names it for the executors"},
	{"spark.kubernetes.kerberos.krb5.path", Refused, featuresDir + "KerberosConfDriverFeatureStep.scala", "kubectl sparkha does not ship a local krb5.conf: put it in a ConfigMap and set spark.kubernetes.kerberos.krb5.configMapName"},
	{"spark.kubernetes.kerberos.krb5.configMapName", Refused, featuresDir + "KerberosConfDriverFeatureStep.scala", "Kerberos is not built by kubectl sparkha: mount krb5.conf and tokens with a driver pod template (spark.kubernetes.driver.podTemplateFile) or spark.kubernetes.driver.secrets.*"},
	{"spark.kubernetes.kerberos.tokenSecret.name", Refused, featuresDir + "KerberosConfDriverFeatureStep.scala", "Kerberos is not built by kubectl sparkha: mount the delegation tokens with spark.kubernetes.driver.secrets.* and set HADOOP_TOKEN_FILE_LOCATION with spark.kubernetes.driverEnv.*"},
	{"spark.kubernetes.kerberos.tokenSecret.itemKey", Refused, featuresDir + "KerberosConfDriverFeatureStep.scala", "see spark.kubernetes.kerberos.tokenSecret.name"},
	{"spark.kerberos.keytab", Refused, featuresDir + "KerberosConfDriverFeatureStep.scala", "kubectl sparkha does not ship a local keytab: mount it from a Secret (spark.kubernetes.driver.secrets.*) and log in from the application"},
	{"spark.kerberos.principal", Refused, featuresDir + "KerberosConfDriverFeatureStep.scala", "see spark.kerberos.keytab"},
	{"spark.kubernetes.kerberos.dt-secret-name", Refused, featuresDir + "KerberosConfDriverFeatureStep.scala (Constants.KERBEROS_DT_SECRET_NAME)", "set by Spark's Kerberos step for its executors; see spark.kubernetes.kerberos.tokenSecret.name"},
	{"spark.kubernetes.kerberos.dt-secret-key", Refused, featuresDir + "KerberosConfDriverFeatureStep.scala (Constants.KERBEROS_DT_SECRET_KEY)", "see spark.kubernetes.kerberos.dt-secret-name"},
	// DriverKubernetesCredentialsFeatureStep and the submission client.
	{"spark.kubernetes.authenticate.driver.serviceAccountName", Applied, featuresDir + "DriverKubernetesCredentialsFeatureStep.scala", "--service-account; the pod's serviceAccountName"},
	{"spark.kubernetes.authenticate.driver.caCertFile", Refused, featuresDir + "DriverKubernetesCredentialsFeatureStep.scala", "kubectl sparkha does not ship client files into a Secret: use --service-account, or mount the file (spark.kubernetes.driver.secrets.*) and set spark.kubernetes.authenticate.driver.mounted.caCertFile"},
	{"spark.kubernetes.authenticate.driver.clientKeyFile", Refused, featuresDir + "DriverKubernetesCredentialsFeatureStep.scala", "use --service-account, or mount the file (spark.kubernetes.driver.secrets.*) and set spark.kubernetes.authenticate.driver.mounted.clientKeyFile"},
	{"spark.kubernetes.authenticate.driver.clientCertFile", Refused, featuresDir + "DriverKubernetesCredentialsFeatureStep.scala", "use --service-account, or mount the file (spark.kubernetes.driver.secrets.*) and set spark.kubernetes.authenticate.driver.mounted.clientCertFile"},
	{"spark.kubernetes.authenticate.driver.oauthTokenFile", Refused, featuresDir + "DriverKubernetesCredentialsFeatureStep.scala", "use --service-account, or mount the file (spark.kubernetes.driver.secrets.*) and set spark.kubernetes.authenticate.driver.mounted.oauthTokenFile"},
	{"spark.kubernetes.authenticate.driver.oauthToken", Refused, featuresDir + "DriverKubernetesCredentialsFeatureStep.scala", "use --service-account, or put the token in a Secret, mount it (spark.kubernetes.driver.secrets.*) and set spark.kubernetes.authenticate.driver.mounted.oauthTokenFile"},
	{"spark.kubernetes.authenticate.driver.mounted.*", Passed, "scheduler/cluster/k8s/KubernetesClusterManager.scala", "read by the driver in its pod"},
	{"spark.kubernetes.authenticate.executor.*", Passed, "scheduler/cluster/k8s/KubernetesClusterManager.scala", "read by the driver for its executors"},
	{"spark.kubernetes.authenticate.submission.*", Refused, k8sDir + "submit/KubernetesClientApplication.scala", "kubectl sparkha reaches the API server with your kubeconfig: use --kubeconfig, --context, --user, --token"},
	{"spark.kubernetes.authenticate.*", Refused, "scheduler/cluster/k8s/KubernetesClusterManager.scala (client mode only)", "these are read only by a client-mode driver outside the cluster; the driver pod uses its service account (--service-account) or spark.kubernetes.authenticate.driver.mounted.*"},
	{"spark.kubernetes.context", Refused, k8sDir + "SparkKubernetesClientFactory.scala", "use --context"},
	{"spark.kubernetes.trust.certificates", Refused, k8sDir + "SparkKubernetesClientFactory.scala", "kubectl sparkha verifies the API server with your kubeconfig; use --insecure-skip-tls-verify if you must"},
	{"spark.kubernetes.submission.waitAppCompletion", Refused, k8sDir + "submit/KubernetesClientApplication.scala", "kubectl sparkha returns once the objects exist; --wait waits until the driver runs and `kubectl sparkha inspect NAME` follows the app"},
	{"spark.kubernetes.report.interval", Refused, k8sDir + "submit/KubernetesClientApplication.scala", "see spark.kubernetes.submission.waitAppCompletion"},
	{"spark.kubernetes.submission.connectionTimeout", Refused, k8sDir + "submit/KubernetesClientApplication.scala", "use --request-timeout"},
	{"spark.kubernetes.submission.requestTimeout", Refused, k8sDir + "submit/KubernetesClientApplication.scala", "use --request-timeout"},
	{"spark.kubernetes.namespace", Reserved, k8sDir + "submit/KubernetesClientApplication.scala", "use -n/--namespace"},
	{"spark.master", Reserved, "core/src/main/scala/org/apache/spark/deploy/SparkSubmit.scala", "kubectl sparkha sets it to " + KubernetesMasterInPod},
	{"spark.submit.deployMode", Reserved, "core/src/main/scala/org/apache/spark/deploy/SparkSubmit.scala", "kubectl sparkha always submits in cluster mode"},
	{ExcludedStepsKey, Applied, k8sDir + "submit/KubernetesDriverBuilder.scala (Spark 4.1)", "the named steps (" + FeatureStepPackage + "CLASS, comma-separated) are left out as Spark leaves them out: " + strings.Join(optionalDriverSteps(), ", ") + "; a step kubectl sparkha needs, or a name that is no driver step (Spark would ignore it), is refused"},
	{"spark.kubernetes.driver.annotateExitException", Passed, "scheduler/cluster/k8s/KubernetesClusterSchedulerBackend.scala (Spark 4.1)", "read by the driver: on failure it annotates its own pod spark.exit-exception, which needs pods patch for its service account"},
	// Custom feature steps would build a pod kubectl sparkha does not run through Spark's builder.
	{"spark.kubernetes.driver.pod.featureSteps", Refused, k8sDir + "submit/KubernetesDriverBuilder.scala", "kubectl sparkha builds the driver pod itself: express the change in a driver pod template (spark.kubernetes.driver.podTemplateFile)"},
	// Executors: the driver builds them in the pod, from the same properties.
	{"spark.kubernetes.executor.podNamePrefix", Reserved, k8sDir + "KubernetesConf.scala", "left unset, Spark derives a fresh prefix per driver generation so executor names never collide"},
	{ExecutorLabelPrefix + sparkapp.LabelAppID, Reserved, k8sDir + "KubernetesConf.scala (KubernetesExecutorConf.labels)", "kubectl sparkha labels every generation's executors with the app's ID"},
	{"spark.kubernetes.executor.*", Passed, "scheduler/cluster/k8s/ExecutorPodsAllocator.scala, " + featuresDir + "BasicExecutorFeatureStep.scala", "read by the driver when it creates executors"},
	// Read by the driver in its pod: they pass unchanged.
	{"spark.kubernetes.allocation.*", Passed, "scheduler/cluster/k8s/ExecutorPodsAllocator.scala", "read by the driver's executor allocator"},
	{"spark.kubernetes.dynamicAllocation.deleteGracePeriod", Passed, "scheduler/cluster/k8s/ExecutorPodsAllocator.scala", "read by the driver"},
	{"spark.kubernetes.executorSnapshotsSubscribersShutdownGracePeriod", Passed, "scheduler/cluster/k8s/ExecutorPodsSnapshotsStoreImpl.scala", "read by the driver"},
	{"spark.kubernetes.configMap.maxSize", Passed, k8sDir + "KubernetesClientUtils.scala", "read by the driver when it writes the executors' ConfigMap"},
	{"spark.kubernetes.decommission.script", Passed, featuresDir + "BasicExecutorFeatureStep.scala", "read by the driver for its executors"},
	{"spark.kubernetes.driver.master", Passed, "scheduler/cluster/k8s/KubernetesClusterManager.scala", "the API server the driver talks to (default https://kubernetes.default.svc)"},
	{"spark.kubernetes.driver.connectionTimeout", Passed, k8sDir + "SparkKubernetesClientFactory.scala", "the driver's API client"},
	{"spark.kubernetes.driver.requestTimeout", Passed, k8sDir + "SparkKubernetesClientFactory.scala", "the driver's API client"},
	{"spark.kubernetes.driver.ownPersistentVolumeClaim", Passed, "scheduler/cluster/k8s/ExecutorPodsAllocator.scala", "on-demand executor claims; the driver deletes claims labelled with its generation's spark.app.id, never the checkpoint claim"},
	{"spark.kubernetes.driver.reusePersistentVolumeClaim", Passed, "scheduler/cluster/k8s/ExecutorPodsAllocator.scala", "on-demand executor claims"},
	{"spark.kubernetes.driver.waitToReusePersistentVolumeClaim", Passed, "scheduler/cluster/k8s/ExecutorPodsAllocator.scala", "on-demand executor claims"},
	{"spark.kubernetes.driver.service.deleteOnTermination", Passed, "scheduler/cluster/k8s/KubernetesClusterSchedulerBackend.scala", "the driver deletes Services labelled with its generation's spark.app.id: never NAME-driver-svc, which the next generation needs"},
	{"spark.kubernetes.driver.resourceNamePrefix", Reserved, k8sDir + "submit/KubernetesClientApplication.scala (internal)", "an internal key spark-submit sets for the objects it names; kubectl sparkha names its own objects after NAME"},
	{"spark.kubernetes.jars.avoidDownloadSchemes", Passed, "core/src/main/scala/org/apache/spark/deploy/SparkSubmit.scala", "read by the in-pod spark-submit"},
	{"spark.kubernetes.legacy.useReadWriteOnceAccessMode", Passed, featuresDir + "MountVolumesFeatureStep.scala", "on-demand executor claims"},
	{"spark.kubernetes.pyspark.pythonVersion", Passed, k8sDir + "Config.scala (deprecated)", "Spark itself rejects values other than 3"},
	{"spark.kubernetes.setSubmitTimeInDriver", Passed, "core/src/main/scala/org/apache/spark/SparkContext.scala", "read by the driver"},
	{"spark.kubernetes.appKillPodDeletionGracePeriod", Refused, k8sDir + "submit/K8sSubmitOps.scala (spark-submit --kill)", "a sparkha app is stopped by deleting its Job: kubectl delete job NAME --grace-period=SECONDS"},
	{BackoffLimitConfKey, Applied, "not upstream: the 2018 fork's key", "--backoff-limit; the Job's backoffLimit"},
}

// ruleFor returns the rule of key: an exact rule, else the longest matching prefix rule.
func ruleFor(key string) (KeyRule, bool) {
	var best KeyRule
	found := false
	for _, r := range KeyRules {
		if r.Key == key {
			return r, true
		}
		if p, ok := strings.CutSuffix(r.Key, "*"); ok && strings.HasPrefix(key, p) && (!found || len(r.Key) > len(best.Key)) {
			best, found = r, true
		}
	}
	return best, found
}

// SortedKeyRules returns KeyRules sorted by key, for documentation.
func SortedKeyRules() []KeyRule {
	out := append([]KeyRule(nil), KeyRules...)
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// SparkConfTable renders KeyRules as the Markdown table of docs/spark-conf.md.
func SparkConfTable() string {
	var b strings.Builder
	b.WriteString("| Key | Upstream (apache/spark) | kubectl sparkha | Pinned by |\n| --- | --- | --- | --- |\n")
	for _, r := range SortedKeyRules() {
		fmt.Fprintf(&b, "| `%s` | %s | **%s**: %s | `TestDriverKeys/%s` |\n", r.Key, r.Upstream, r.Handling, strings.ReplaceAll(r.Submit, "|", "\\|"), r.Key)
	}
	return b.String()
}
