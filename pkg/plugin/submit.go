package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/kubernetes"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/scheme"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit/apply"
)

const submitLong = `Submit a Spark application whose driver runs as a partition-safe Kubernetes Job.

spark-submit creates the driver as a bare Pod, which nothing recreates when its node is lost.
kubectl sparkha submit creates instead, in the current namespace:

  job.batch/NAME                 the driver: restartPolicy Never, --backoff-limit retries,
                                 a podFailurePolicy that ignores failures caused by a disruption
                                 (node lost, taint eviction: the DisruptionTarget condition), and
                                 podReplacementPolicy Failed, so a replacement driver starts only
                                 once the old one has really stopped: never two drivers at once
  configmap/NAME-spark-conf      spark.properties, mounted at /opt/spark/conf, and the executor
                                 pod template if any (owned by the Job)
  service/NAME-driver-svc        headless Service selecting the driver of every generation, for
                                 the UI and tools (owned by the Job)
  persistentvolumeclaim/NAME-checkpoint
                                 with --checkpoint-size only; never owned, so deleting the app
                                 keeps the checkpoint

The driver pod is the one spark-submit's driver feature steps build (image entrypoint "driver",
Spark's labels, ports, environment and memory overhead), with every driver-side key applied the
same way: spark.kubernetes.driver.podTemplateFile (merged as Spark merges it), driverEnv.*,
driver.secrets.*, driver.secretKeyRef.*, driver.volumes.*, driver.label.*, driver.annotation.*,
node selectors, pull secrets and policy, request/limit cores, spark.driver.resource.*, scheduler
name, local dirs, spark.kubernetes.hadoop.configMapName. A key spark-submit reads on the client
that kubectl sparkha cannot honour (Kerberos, client credential files, file upload) is refused
before anything is created, naming what to do instead. spark.kubernetes.executor.podTemplateFile
is read here and shipped in NAME-spark-conf. A JVM APP_RESOURCE is added to spark.jars, as
spark-submit adds it, so executors load the app. Files must be in the image (local://) or on
storage Spark reads (s3a://, gs://, abfs://, hdfs://, https://): paths on this machine are refused.
Every '$' in --class, APP_RESOURCE and APP_ARGS reaches Spark unchanged.

Each driver generation passes its own pod name as spark.kubernetes.driver.pod.name (its executors
are owned by it and get fresh names), its own spark.app.id, spark-<driver pod UID> (Spark finds
its executors by that ID, so a generation never sees another's), and its own pod IP as
spark.driver.host, so an executor of one generation never reaches the next driver. The ID
generated at submit is the app's sparkha.io/app-id label, on every object and on the driver
and executor pods of every generation.

A ReadWriteMany checkpoint claim is mounted on the executors too (stateful queries write their
state from the executors); a ReadWriteOncePod or ReadWriteOnce claim serves the driver only,
which submit says on stderr. See docs/spark-conf.md for every key.

Spark properties are merged in this order, later wins: --properties-file, then --conf, then the
dedicated flags (--driver-memory, --executor-instances, ...) when given. Memory sizes accept
Spark's notation (4g, 512m; units are binary, a bare number is MiB) or a Kubernetes quantity
(4Gi). Keys kubectl sparkha sets itself (spark.master, spark.app.id, spark.driver.host,
spark.kubernetes.driver.pod.name, spark.kubernetes.executor.podNamePrefix, ...) are refused.

With --spark-submit, the arguments after -- are a spark-submit command line for Kubernetes
cluster mode, read as spark-submit reads them: --master k8s://URL (it must name the kubeconfig's
API server), --deploy-mode cluster, --name (the Job's name unless NAME is given), --class,
--conf/-c, --properties-file, --jars, --files, --py-files, --archives, --packages,
--repositories, --exclude-packages, --driver-class-path, --driver-java-options,
--driver-library-path, --driver-memory, --driver-cores, --executor-memory, --executor-cores,
--num-executors, --proxy-user and --verbose (which prints the equivalent kubectl sparkha submit
line on stderr); the first other argument is the primary resource, the rest the application's
arguments. Options that mean nothing here (--supervise, --total-executor-cores, --queue,
--principal/--keytab, --kill, --status, client mode) and unknown options are refused, naming
the option. kubectl sparkha's own flags (--checkpoint-*, --backoff-limit, --node-lost-timeout,
--labels, --annotations, --dry-run, -o, --wait) go before the --.

Everything is validated before anything is created (the one request before that reads an
existing --checkpoint-claim). If the Job NAME already exists, nothing is
created. If a create fails midway, what this run created is deleted again (never an existing
claim). With --dry-run=client the ConfigMap, Service and NetworkPolicy have no owner reference
yet (the Job's uid does not exist): what is printed applies as printed, with kubectl apply -f -.`

const submitExample = `  # Submit the SparkPi example with two executors
  kubectl sparkha submit spark-pi --image apache/spark:4.0.0 \
    --class org.apache.spark.examples.SparkPi --executor-instances 2 \
    local:///opt/spark/examples/jars/spark-examples.jar -- 1000

  # A streaming app with a new 10Gi ReadWriteOncePod checkpoint claim, mounted at /checkpoint,
  # and a driver that is replaced 2 minutes after its node stops responding
  kubectl sparkha submit clicks -n streaming --image registry.example.com/clicks:1.4 \
    --class com.example.Clicks --checkpoint-size 10Gi --node-lost-timeout 2m \
    --conf spark.sql.streaming.checkpointLocation=/checkpoint local:///opt/app/clicks.jar

  # A stateful streaming app: a ReadWriteMany checkpoint the driver and the executors mount,
  # a driver secret, a private registry, and an executor pod template read from this machine
  kubectl sparkha submit clicks -n streaming --image registry.example.com/clicks:1.4 \
    --class com.example.Clicks --checkpoint-size 10Gi --checkpoint-access-mode ReadWriteMany \
    --conf spark.kubernetes.driver.secrets.kafka-creds=/etc/kafka \
    --conf spark.kubernetes.container.image.pullSecrets=regcred \
    --conf spark.kubernetes.executor.podTemplateFile=executor.yaml local:///opt/app/clicks.jar

  # Reuse an existing checkpoint claim and take the Spark conf from a file
  kubectl sparkha submit clicks --image registry.example.com/clicks:1.4 --class com.example.Clicks \
    --checkpoint-claim clicks-checkpoint --properties-file clicks.conf local:///opt/app/clicks.jar

  # Print the objects as a YAML List without creating anything
  kubectl sparkha submit clicks --image registry.example.com/clicks:1.4 --class com.example.Clicks \
    --checkpoint-size 10Gi local:///opt/app/clicks.jar --dry-run=client -o yaml

  # Run a spark-submit command line as it is, with the driver as a sparkha Job: replace the
  # program name, keep the arguments (the Job is named after --name, here nightly-etl)
  kubectl sparkha submit --spark-submit --checkpoint-size 10Gi -- \
    --master k8s://https://api.example.com:6443 --deploy-mode cluster --name "Nightly ETL" \
    --conf spark.kubernetes.container.image=apache/spark:4.0.0 --conf spark.kubernetes.namespace=etl \
    --class com.example.Etl --num-executors 4 local:///opt/app/etl.jar 2026-11-29

  # Submit and wait until the driver pod runs
  kubectl sparkha submit clicks --image registry.example.com/clicks:1.4 --class com.example.Clicks \
    local:///opt/app/clicks.jar --wait --timeout 10m`

// SubmitOptions holds the flags and the derived state of `kubectl sparkha submit`.
type SubmitOptions struct {
	configFlags *genericclioptions.ConfigFlags
	PrintFlags  *genericclioptions.PrintFlags

	Image                  string
	MainClass              string
	Conf                   []string
	PropertiesFile         string
	ServiceAccount         string
	ProxyUser              string
	DriverCores            int
	DriverMemory           string
	ExecutorInstances      int
	ExecutorCores          int
	ExecutorMemory         string
	Labels                 string
	Annotations            string
	CheckpointClaim        string
	CheckpointSize         string
	CheckpointStorageClass string
	CheckpointAccessMode   string
	CheckpointMount        string
	BackoffLimit           int
	NodeLostTimeout        time.Duration
	Wait                   bool
	Timeout                time.Duration
	// SparkSubmit: the arguments after -- are a spark-submit command line.
	SparkSubmit bool

	// Derived in Complete.
	DryRunStrategy cmdutil.DryRunStrategy
	Input          submit.Input
	changed        func(flag string) bool
	timeoutSet     bool

	// Derived in Validate.
	App     *submit.App
	Printer printers.ResourcePrinter

	// Client is created in Complete unless already set (tests set a fake).
	Client kubernetes.Interface
	// NewAppID generates the Spark application ID (tests make it deterministic).
	NewAppID func() string

	genericiooptions.IOStreams
}

// NewSubmitOptions returns SubmitOptions with defaults.
func NewSubmitOptions(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *SubmitOptions {
	return &SubmitOptions{
		configFlags:          configFlags,
		PrintFlags:           genericclioptions.NewPrintFlags("created").WithTypeSetter(scheme.Scheme),
		CheckpointAccessMode: string(submit.DefaultAccessMode),
		CheckpointMount:      submit.DefaultCheckpointMount,
		NodeLostTimeout:      submit.DefaultNodeLostTimeout,
		Timeout:              5 * time.Minute,
		NewAppID:             submit.NewAppID,
		IOStreams:            streams,
	}
}

// submittingUser is the user spark-submit would act as (core Utils.getCurrentUserName):
// $SPARK_USER, else Hadoop's login user, which is $HADOOP_USER_NAME or the login name without a
// Windows domain (UserGroupInformation with simple authentication); "" when none is known.
func submittingUser() string {
	for _, env := range []string{"SPARK_USER", "HADOOP_USER_NAME"} {
		if u := os.Getenv(env); u != "" {
			return u
		}
	}
	u, err := user.Current()
	if err != nil {
		return ""
	}
	name := u.Username
	if i := strings.LastIndex(name, `\`); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// NewCmdSubmit returns the `submit` command.
func NewCmdSubmit(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdSubmit(NewSubmitOptions(configFlags, streams))
}

func newCmdSubmit(o *SubmitOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:                   "submit NAME --image IMAGE [--class MAIN] APP_RESOURCE [-- APP_ARGS...]",
		DisableFlagsInUseLine: true,
		Short:                 "Submit a Spark application whose driver runs as a partition-safe Job",
		Long:                  submitLong,
		Example:               submitExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(cmd, args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return usage(cmd, err)
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Image, "image", o.Image, "Container image of the driver and the executors (spark.kubernetes.container.image). Required.")
	f.StringVar(&o.MainClass, "class", o.MainClass, "Main class of a JVM application. Required unless APP_RESOURCE is a .py or .R file.")
	f.StringArrayVar(&o.Conf, "conf", o.Conf, "Spark property KEY=VALUE; repeat for several. Overrides --properties-file.")
	f.StringVar(&o.PropertiesFile, "properties-file", o.PropertiesFile, "File of Spark properties (spark-defaults.conf format). --conf and the dedicated flags override it.")
	f.StringVar(&o.ServiceAccount, "service-account", o.ServiceAccount, "Service account of the driver pod; it must be allowed to create and delete the executor pods (spark.kubernetes.authenticate.driver.serviceAccountName).")
	f.StringVar(&o.ProxyUser, "proxy-user", o.ProxyUser, "User the driver runs the application as (spark-submit's --proxy-user; the cluster's Hadoop services must allow the driver's user to impersonate it).")
	f.BoolVar(&o.SparkSubmit, "spark-submit", o.SparkSubmit, "Read the arguments after -- as a spark-submit command line for Kubernetes cluster mode (--master k8s://... --deploy-mode cluster ...) and submit it as a sparkha Job; NAME is optional (default: derived from --name). Spark settings come from that line only: --class, --conf, --properties-file, the memory, core and executor flags and --proxy-user are refused before the --.")
	f.IntVar(&o.DriverCores, "driver-cores", o.DriverCores, "CPU cores of the driver (spark.driver.cores); the pod requests as many CPUs. Without this flag: spark.driver.cores of --conf or --properties-file, else 1.")
	f.StringVar(&o.DriverMemory, "driver-memory", o.DriverMemory, "Memory of the driver JVM (spark.driver.memory), e.g. 4g or 4Gi; the pod asks for it plus Spark's overhead, max(10%, 384Mi). Without this flag: spark.driver.memory of --conf or --properties-file, else 1g.")
	f.IntVar(&o.ExecutorInstances, "executor-instances", o.ExecutorInstances, "Number of executors (spark.executor.instances). Without this flag: spark.executor.instances of --conf or --properties-file, else Spark's default.")
	f.IntVar(&o.ExecutorCores, "executor-cores", o.ExecutorCores, "CPU cores of each executor (spark.executor.cores). Without this flag: spark.executor.cores of --conf or --properties-file, else Spark's default.")
	f.StringVar(&o.ExecutorMemory, "executor-memory", o.ExecutorMemory, "Memory of each executor (spark.executor.memory), e.g. 4g or 4Gi. Without this flag: spark.executor.memory of --conf or --properties-file, else Spark's default.")
	f.StringVar(&o.Labels, "labels", o.Labels, "Extra labels KEY=VALUE,... on every object and on the driver pods.")
	f.StringVar(&o.Annotations, "annotations", o.Annotations, "Extra annotations KEY=VALUE,... on the Job and the driver pods.")
	f.StringVar(&o.CheckpointClaim, "checkpoint-claim", o.CheckpointClaim, "Existing PersistentVolumeClaim to mount as the checkpoint volume. It is never modified or deleted.")
	f.StringVar(&o.CheckpointSize, "checkpoint-size", o.CheckpointSize, "Create a new claim NAME-checkpoint of this size (e.g. 10Gi) and mount it. It is kept when the app is deleted.")
	f.StringVar(&o.CheckpointStorageClass, "checkpoint-storage-class", o.CheckpointStorageClass, "Storage class of the new checkpoint claim (needs --checkpoint-size). \"\" disables dynamic provisioning; unset uses the cluster default.")
	f.StringVar(&o.CheckpointAccessMode, "checkpoint-access-mode", o.CheckpointAccessMode, "Access mode of the new checkpoint claim: ReadWriteOncePod, ReadWriteOnce or ReadWriteMany. The Job never runs two drivers, so ReadWriteMany is safe; RWOP/RWO add a second fence.")
	f.StringVar(&o.CheckpointMount, "checkpoint-mount", o.CheckpointMount, "Directory where the driver sees the checkpoint volume.")
	f.IntVar(&o.BackoffLimit, "backoff-limit", o.BackoffLimit, "Driver failures retried before the app fails (Job backoffLimit; conf key "+submit.BackoffLimitConfKey+"). Losing the driver with its node never counts. Without this flag: the conf key of --conf or --properties-file, else "+strconv.Itoa(submit.DefaultBackoffLimit)+".")
	f.DurationVar(&o.NodeLostTimeout, "node-lost-timeout", o.NodeLostTimeout, "How long the driver stays on a node that is unreachable or not ready before it is evicted and a new driver generation can start (tolerationSeconds of the node.kubernetes.io/unreachable and not-ready taints). Kubernetes' default for pods is 5m; 60s restarts a checkpointed streaming app sooner while riding out short network blips.")
	f.BoolVar(&o.Wait, "wait", o.Wait, "Wait until a driver pod runs; progress goes to stderr.")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "How long --wait waits for the driver pod to run.")
	cmdutil.AddDryRunFlag(cmd)
	o.PrintFlags.AddFlags(cmd)

	mustRegister(cmd.RegisterFlagCompletionFunc("checkpoint-access-mode", fixedCompletion(
		string(corev1.ReadWriteOncePod), string(corev1.ReadWriteOnce), string(corev1.ReadWriteMany))))
	mustRegister(cmd.RegisterFlagCompletionFunc("output", fixedCompletion(o.PrintFlags.AllowedFormats()...)))
	return cmd
}

// Complete derives the namespace, the dry-run strategy, the submit input and the client.
func (o *SubmitOptions) Complete(cmd *cobra.Command, args []string) error {
	var err error
	o.DryRunStrategy, err = cmdutil.GetDryRunStrategy(cmd)
	if err != nil {
		return err
	}
	cmdutil.PrintFlagsWithDryRunStrategy(o.PrintFlags, o.DryRunStrategy)
	o.changed = func(name string) bool { return cmd.Flags().Changed(name) }
	o.timeoutSet = o.changed("timeout")

	namespace, _, err := o.configFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return err
	}

	positional, appArgs := args, []string(nil)
	if dash := cmd.ArgsLenAtDash(); dash >= 0 {
		positional, appArgs = args[:dash], args[dash:]
	}
	if o.SparkSubmit {
		if positional, appArgs, err = o.fromSparkSubmit(positional, appArgs, &namespace); err != nil {
			return err
		}
	}
	in := submit.Input{
		Namespace:          namespace,
		Image:              o.Image,
		MainClass:          o.MainClass,
		AppArgs:            appArgs,
		Conf:               o.Conf,
		PropertiesFile:     o.PropertiesFile,
		ServiceAccount:     o.ServiceAccount,
		ProxyUser:          o.ProxyUser,
		ArgsAsSparkSubmit:  o.SparkSubmit,
		Labels:             o.Labels,
		Annotations:        o.Annotations,
		CheckpointClaim:    o.CheckpointClaim,
		CheckpointSize:     o.CheckpointSize,
		CheckpointMount:    o.CheckpointMount,
		CheckpointMountSet: o.changed("checkpoint-mount"),
		NodeLostTimeout:    o.NodeLostTimeout,
		AppID:              o.NewAppID(),
		ReadFile:           os.ReadFile,
		HadoopConfDir:      os.Getenv("HADOOP_CONF_DIR"),
		SparkUser:          submittingUser(),
	}
	if len(positional) > 0 {
		in.Name = positional[0]
	}
	if len(positional) > 1 {
		in.AppResource = positional[1]
	}
	if len(positional) > 2 {
		in.ExtraArgs = positional[2:]
	}
	// Dedicated flags override the Spark conf only when given explicitly.
	if o.changed("driver-cores") {
		in.DriverCores = &o.DriverCores
	}
	if o.changed("driver-memory") {
		in.DriverMemory = o.DriverMemory
	}
	if o.changed("executor-instances") {
		in.ExecutorInstances = &o.ExecutorInstances
	}
	if o.changed("executor-cores") {
		in.ExecutorCores = &o.ExecutorCores
	}
	if o.changed("executor-memory") {
		in.ExecutorMemory = o.ExecutorMemory
	}
	if o.changed("backoff-limit") {
		in.BackoffLimit = &o.BackoffLimit
	}
	if o.changed("checkpoint-storage-class") {
		in.CheckpointStorageClass = &o.CheckpointStorageClass
	}
	if o.changed("checkpoint-access-mode") {
		in.CheckpointAccessMode = o.CheckpointAccessMode
	}
	if o.changed("image") && o.Image == "" {
		// --image "" is as good as no --image: Resolve reports it.
		in.Image = ""
	}
	if o.PropertiesFile != "" {
		data, err := os.ReadFile(o.PropertiesFile)
		if err != nil {
			return fmt.Errorf("invalid --properties-file %q: %w", o.PropertiesFile, unwrapPathError(err))
		}
		in.PropertiesData = data
	}
	o.Input = in
	return nil
}

// claimAccessModes reads the access modes of an existing checkpoint claim: a ReadWriteMany
// claim is mounted on the executors too. A claim that does not exist is refused before
// anything is created; with --dry-run=client and no reachable cluster, the modes stay unknown.
func (o *SubmitOptions) claimAccessModes(ctx context.Context, namespace, claim string) ([]corev1.PersistentVolumeAccessMode, string, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	client := o.Client
	if client == nil {
		var err error
		if client, err = newClient(o.configFlags, o.ErrOut); err != nil {
			return nil, err.Error(), nil
		}
	}
	pvc, err := client.CoreV1().PersistentVolumeClaims(namespace).Get(ctx, claim, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, "", fmt.Errorf("invalid --checkpoint-claim %q: no such PersistentVolumeClaim in namespace %s; create it first, or use --checkpoint-size to have kubectl sparkha create one", claim, namespace)
	case err != nil && o.DryRunStrategy == cmdutil.DryRunClient:
		return nil, err.Error(), nil
	case err != nil:
		return nil, "", fmt.Errorf("reading --checkpoint-claim %q: %w", claim, err)
	}
	modes := pvc.Status.AccessModes
	if len(modes) == 0 {
		modes = pvc.Spec.AccessModes
	}
	return append([]corev1.PersistentVolumeAccessMode{}, modes...), "", nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Validate checks every flag and argument; it makes no API call.
func (o *SubmitOptions) Validate() error {
	app, err := submit.Resolve(o.Input)
	if err != nil {
		return err
	}
	if o.Wait && o.DryRunStrategy != cmdutil.DryRunNone {
		return fmt.Errorf("--wait cannot be used with --dry-run: a dry run creates no driver to wait for; drop one of them")
	}
	if o.timeoutSet && !o.Wait {
		return fmt.Errorf("--timeout needs --wait: it limits how long --wait waits for the driver pod")
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("invalid --timeout %s: use a positive duration, e.g. --timeout 5m", o.Timeout)
	}
	printer, err := o.PrintFlags.ToPrinter()
	if err != nil {
		return fmt.Errorf("invalid --output: %w", err)
	}
	o.App, o.Printer = app, printer
	return nil
}

func (o *SubmitOptions) printWarnings() {
	for _, w := range o.App.Warnings {
		fmt.Fprintf(o.ErrOut, "Warning: %s\n", w)
	}
}

// Run creates the objects (or not, for a dry run), prints them and optionally waits.
func (o *SubmitOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	// The client is made once everything is validated, so an input error is never hidden
	// behind a missing kubeconfig or an unreachable cluster.
	if o.Client == nil && o.DryRunStrategy != cmdutil.DryRunClient {
		var err error
		if o.Client, err = newClient(o.configFlags, o.ErrOut); err != nil {
			return err
		}
	}
	if in := o.Input; in.CheckpointClaim != "" {
		// Validate checked everything; the claim's access modes decide whether the executors
		// mount it too, so resolve again with them before anything is created.
		var err error
		in.CheckpointClaimAccessModes, in.CheckpointClaimReadError, err = o.claimAccessModes(ctx, in.Namespace, in.CheckpointClaim)
		if err != nil {
			return err
		}
		if o.App, err = submit.Resolve(in); err != nil {
			return err
		}
	}
	o.printWarnings()
	var objs *submit.Objects
	if o.DryRunStrategy == cmdutil.DryRunClient {
		objs = submit.Build(o.App, "")
	} else {
		applier := &apply.Applier{Client: o.Client, DryRunServer: o.DryRunStrategy == cmdutil.DryRunServer}
		var err error
		if objs, err = applier.Apply(ctx, o.App); err != nil {
			return err
		}
	}
	if err := o.print(objs); err != nil {
		return err
	}
	if !o.Wait {
		return nil
	}
	fmt.Fprintf(o.ErrOut, "waiting up to %s for a driver pod of job/%s to be Running\n", o.Timeout, o.App.Name)
	wctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	pod, err := apply.WaitForDriver(wctx, o.Client, o.App.Namespace, o.App.Name, o.App.DriverSelector(), o.ErrOut)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "driver pod %s of job/%s is Running on node %s\n", pod.Name, o.App.Name, pod.Spec.NodeName)
	return nil
}

// print prints each object with the default and name printers (one line each, as kubectl
// create does), and a single v1 List for the structured formats (json, yaml, templates).
func (o *SubmitOptions) print(objs *submit.Objects) error {
	return printObjects(o.PrintFlags, o.Printer, o.Out, objs.List())
}

func printObjects(flags *genericclioptions.PrintFlags, printer printers.ResourcePrinter, w io.Writer, list []metav1.Object) error {
	format := ""
	if flags.OutputFormat != nil {
		format = *flags.OutputFormat
	}
	if format == "" || format == "name" {
		for _, obj := range list {
			if err := printer.PrintObj(obj.(runtime.Object), w); err != nil {
				return err
			}
		}
		return nil
	}
	out := &corev1.List{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}}
	for _, obj := range list {
		obj.SetManagedFields(nil)
		raw, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		out.Items = append(out.Items, runtime.RawExtension{Raw: raw})
	}
	return printer.PrintObj(out, w)
}
