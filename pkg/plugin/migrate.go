package plugin

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubectl/pkg/scheme"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/failover"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

const migrateLong = `Move a running Spark application that spark-submit or a Spark operator started onto a
partition-safe sparkha Job.

From a SparkApplication (sparkapplication/NAME live, or -f FILE) of the Kubeflow Spark
Operator (sparkoperator.k8s.io/v1beta2) or of Apache's spark-kubernetes-operator
(spark.apache.org), migrate makes the submit request that runs the same application: the Job
is named after the SparkApplication; image, class, resource, arguments, Spark and Hadoop conf,
dependencies, driver and executor sizes, labels, annotations, environment, secrets, node
selectors, service account, proxy user and Spark's volume kinds come over as Spark conf; the pod
fields no Spark property sets (security contexts, sidecars, init containers, tolerations,
affinity, env from references, envFrom, DNS, host network, lifecycle, ConfigMap and Secret
volumes, GPUs, the operators' own pod templates) go into driver and executor pod templates, as
spark.kubernetes.{driver,executor}.podTemplateFile; the driver's first claim becomes the
checkpoint claim; the restart policy becomes the Job's backoff limit (Never: 0; Kubeflow's
OnFailure: onFailureRetries; Apache's OnFailure: maxRestartOnFailure, else maxRestartAttempts,
3 by default). Each operator's defaults are kept: Kubeflow's one executor and shuffle tracking
with dynamic allocation; Apache's {{SPARK_VERSION}} (from runtimeVersions), spark.authenticate,
I/O encryption and executor cleanup. -f reads every document of the file (the ConfigMaps and
Secrets beside an app are left as they are) and asks no cluster: every app of the file is
printed, or none. Kubeflow v1beta1 and v1alpha1, and Apache's Spark Connect, History and Thrift
servers, are refused as what they are.

From the driver pod spark-submit created (pod/NAME) and its spark.properties ConfigMap,
migrate makes the kubectl sparkha submit request that runs the same application: the Job is
named after spark.app.name as submit --spark-submit names it; the image, main class,
resource, arguments and --proxy-user come from the driver's command line; the Spark conf from
spark.properties, without the keys spark-submit or kubectl sparkha set for each run
(spark.app.id, spark.driver.host, spark.kubernetes.driver.pod.name, spark.app.submitTime, ...);
the driver's only persistentVolumeClaim volume becomes the checkpoint claim, reused as it is
(--checkpoint-claim picks one when it mounts several). What the pod has beyond what Spark gives
a driver (what its pod template or a webhook gave it: sidecars, init containers, volumes, env,
a command, security contexts, host namespaces, tolerations, affinity, labels, ...) becomes the
Job's driver pod template, and the executor pod template spark-submit shipped in its ConfigMap
is carried too.

Without --apply it prints the objects as submit --dry-run=client -o yaml prints them, and on
stderr every field of the pod it cannot carry over, with why. Two kinds:

  not carried  the driver would run differently without it: of a spark-submit driver, an
               executor pod template whose ConfigMap is gone, the Hadoop conf ConfigMap
               spark-submit made of its HADOOP_CONF_DIR; of a SparkApplication, an
               operator feature that changes the pods (Kubeflow's monitoring agent, a batch
               scheduler's gang scheduling, a memory limit above Spark's, a Spark conf
               ConfigMap) or a field migrate does not know; a key kubectl sparkha refuses
               (Kerberos, client credentials). migrate exits 1, prints no objects, and
               --apply changes nothing.
  warning      where the driver is scheduled or how it is labelled, which the sparkha Job
               decides its own way (tolerations, affinity, priority class, labels and
               annotations no Spark property sets), and keys read by spark-submit on the
               submitting machine only.

With --apply it switches the running application over without ever running two drivers:

  1. it refuses (exit 4) while the driver's node is lost and not fenced: the driver may still
     run there (kubectl sparkha failover APP --node-down --resubmit, once the machine is down);
  2. it creates the Job suspended, annotated sparkha.io/migrated-from with the old pod, and its
     ConfigMap and Service: the old pod's ConfigMap, the only copy of its conf, goes with the
     pod, so the suspended Job is what lets a rerun finish an interrupted switch;
  3. it deletes the driver pod with its grace period (an Event on the pod records it);
  4. it waits until the pod is gone and its node Ready or fenced;
  5. it resumes the Job (an Event and the sparkha.io/last-failover annotation on the Job).

A rerun converges: the Job of this pod already suspended goes on from step 3, already running
is nothing to do.

For a SparkApplication, --apply does the same with step 3 first deleting the SparkApplication
(its UID a precondition; its spec is kept in the Job's sparkha.io/migrated-from annotation and
the objects printed), so its operator starts no new driver, then its driver pod; step 4 also
waits until the SparkApplication is gone. With -f FILE, --apply switches from the live
SparkApplication of the file's name, converting the file (which you may have edited).`

const migrateExample = `  # Show the sparkha Job that replaces a spark-submit driver, and what cannot be carried over
  kubectl sparkha migrate pod/nightly-etl-1a2b3c-driver -n etl -o yaml

  # The same for a Spark operator's application, live or from its manifest (no cluster needed)
  kubectl sparkha migrate sparkapplication/clicks -n streaming
  kubectl sparkha migrate -f clicks-sparkapplication.yaml -o yaml | kubectl apply --dry-run=server -f -

  # Switch a SparkApplication over: delete it, wait until its driver is gone, start the Job
  kubectl sparkha migrate sparkapplication/clicks -n streaming --apply --wait

  # Switch it over: stop the old driver, then start the Job on the same checkpoint claim
  kubectl sparkha migrate pod/nightly-etl-1a2b3c-driver -n etl --apply --wait`

// MigrateOptions holds the flags and clients of `kubectl sparkha migrate`.
type MigrateOptions struct {
	configFlags *genericclioptions.ConfigFlags
	PrintFlags  *genericclioptions.PrintFlags
	genericiooptions.IOStreams

	Source string
	// Filename is -f: a SparkApplication manifest.
	Filename        string
	CheckpointClaim string
	Apply           bool
	Yes             bool
	Wait            bool
	Timeout         time.Duration

	// kind is pod or sparkapplication; name the source's name ("" for -f until read).
	kind, name string
	// group is the SparkApplication's API group when the source names one (NAME.GROUP).
	group string
	// fromFile is the SparkApplication of -f, read before anything else.
	fromFile  *unstructured.Unstructured
	namespace string
	printer   printers.ResourcePrinter
	client    kubernetes.Interface
	dynamic   dynamic.Interface
	newAppID  func() string
	poll      time.Duration
	// confirm asks the operator on a terminal; nil when there is none.
	confirm func(question string) bool
}

// NewMigrateOptions returns MigrateOptions with defaults.
func NewMigrateOptions(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *MigrateOptions {
	return &MigrateOptions{configFlags: configFlags, IOStreams: streams, Timeout: 5 * time.Minute, newAppID: submit.NewAppID,
		PrintFlags: genericclioptions.NewPrintFlags("created").WithTypeSetter(scheme.Scheme)}
}

// NewCmdMigrate returns the `migrate` command.
func NewCmdMigrate(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdMigrate(NewMigrateOptions(configFlags, streams))
}

func newCmdMigrate(o *MigrateOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:                   "migrate (pod/NAME | sparkapplication/NAME | -f FILE) [-n NS] [-o yaml|json] [--checkpoint-claim CLAIM] [--apply [--yes] [--wait] [--timeout 5m]]",
		DisableFlagsInUseLine: true,
		Short:                 "Move a running spark-submit or Spark operator application onto a sparkha Job",
		Long:                  migrateLong,
		Example:               migrateExample,
		Args:                  maxArgs(1),
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
	f.StringVarP(&o.Filename, "filename", "f", o.Filename, "A SparkApplication manifest (YAML or JSON) to migrate instead of a live object.")
	f.StringVar(&o.CheckpointClaim, "checkpoint-claim", o.CheckpointClaim, "The driver's persistentVolumeClaim to reuse as the checkpoint claim, when it mounts several (default: its only one).")
	f.BoolVar(&o.Apply, "apply", o.Apply, "Switch the application over: stop the old driver, wait until it is gone, then start the Job.")
	f.BoolVarP(&o.Yes, "yes", "y", o.Yes, "Do not ask before --apply stops the running driver (needed without a terminal).")
	f.BoolVar(&o.Wait, "wait", o.Wait, "With --apply, wait until the Job's driver runs.")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "How long --apply waits for the old driver to be gone, and --wait for the new one.")
	o.PrintFlags.AddFlags(cmd)
	return cmd
}

// Complete reads the source and the namespace.
func (o *MigrateOptions) Complete(cmd *cobra.Command, args []string) error {
	if len(args) == 1 {
		o.Source = args[0]
	}
	var err error
	if o.namespace, _, err = o.configFlags.ToRawKubeConfigLoader().Namespace(); err != nil {
		return err
	}
	if o.confirm == nil {
		o.confirm = terminalConfirm(o.IOStreams)
	}
	if !o.Apply && (o.PrintFlags.OutputFormat == nil || *o.PrintFlags.OutputFormat == "") {
		o.PrintFlags.OutputFormat = new(string)
		*o.PrintFlags.OutputFormat = "yaml"
	}
	return nil
}

// Validate checks the flags without I/O.
func (o *MigrateOptions) Validate() error {
	kind, name, ok := strings.Cut(o.Source, "/")
	kind, group, _ := strings.Cut(kind, ".")
	switch {
	case o.Source != "" && o.Filename != "":
		return fmt.Errorf("give either a source (%s) or -f FILE, not both", o.Source)
	case o.Filename != "":
		o.kind = "sparkapplication"
	case o.Source == "":
		return fmt.Errorf("missing the source: kubectl sparkha migrate (pod/NAME | sparkapplication/NAME | -f FILE) [-n NAMESPACE]")
	case ok && name != "" && (kind == "pod" || kind == "pods" || kind == "po") && group == "":
		o.kind, o.name = "pod", name
	case ok && name != "" && (kind == "sparkapplication" || kind == "sparkapplications" || kind == "sparkapp" || kind == "sparkapps"):
		if group != "" && group != sparkapp.OperatorKubeflow && group != sparkapp.OperatorApache {
			return fmt.Errorf("cannot migrate %q: SparkApplications are of %s or %s", o.Source, sparkapp.OperatorKubeflow, sparkapp.OperatorApache)
		}
		o.kind, o.name, o.group = "sparkapplication", name, group
	default:
		return fmt.Errorf("cannot migrate %q: give pod/NAME (the driver pod of a spark-submit application), sparkapplication/NAME or -f FILE (a Spark operator's application)", o.Source)
	}
	switch {
	case o.Wait && !o.Apply:
		return fmt.Errorf("--wait needs --apply: without it nothing starts")
	case o.Timeout <= 0:
		return fmt.Errorf("invalid --timeout %s: use a positive duration such as 5m", o.Timeout)
	case o.Apply && !o.Yes && o.confirm == nil:
		return fmt.Errorf("--apply stops the running application %s and starts its Job instead: confirm with --yes (there is no terminal to ask on); nothing was changed", orFile(o.Source, o.Filename))
	}
	printer, err := o.PrintFlags.ToPrinter()
	if err != nil {
		return fmt.Errorf("invalid --output: %w", err)
	}
	o.printer = printer
	return nil
}

func orFile(source, file string) string {
	if file != "" {
		return "of " + file
	}
	return source
}

func (o *MigrateOptions) runner() *failover.Runner {
	return &failover.Runner{Client: o.client, Dynamic: o.dynamic, Namespace: o.namespace, Poll: o.poll,
		Progress: func(s string) { fmt.Fprintf(o.ErrOut, "%s %s\n", time.Now().Format("15:04:05"), s) }}
}

// sw is the switch of the application over to its Job.
func (o *MigrateOptions) sw() *failover.Switch {
	return &failover.Switch{Runner: o.runner(), Timeout: o.Timeout}
}

// Run prints the equivalent objects, or switches the application over.
func (o *MigrateOptions) Run(ctx context.Context) error {
	if o.Filename != "" && !o.Apply {
		return o.printFile(ctx)
	}
	// The file is read before any client is made: its errors come first, whatever the cluster.
	if o.Filename != "" {
		apps, err := o.readApps()
		if err != nil {
			return err
		}
		if len(apps) > 1 {
			return fmt.Errorf("%s holds %d SparkApplications (%s): --apply switches one application at a time; nothing was changed. Put each in a file of its own", o.Filename, len(apps), names(apps))
		}
		o.fromFile = apps[0]
	}
	if o.client == nil {
		var err error
		if o.client, o.dynamic, err = newClients(o.configFlags, o.ErrOut); err != nil {
			return err
		}
	}
	src, gone, err := o.read(ctx)
	if err != nil || gone {
		return err
	}
	src.Report(o.ErrOut)
	// Nothing on stdout when migrate fails: printed objects are applied as they are.
	if err := src.Fatal("migrate"); err != nil {
		return err
	}
	if !o.Apply {
		return printObjects(o.PrintFlags, o.printer, o.Out, submit.Build(src.App, "").List())
	}
	if err := o.mayStop(ctx, src); err != nil {
		return err
	}
	if !o.Yes {
		if !o.confirm(fmt.Sprintf("Stop %s and run the application as job.batch/%s? Type yes to continue: ", src.What, src.App.Name)) {
			return fmt.Errorf("not confirmed: nothing was changed")
		}
	}
	sw := o.sw()
	job, objs, err := sw.Prepare(ctx, src)
	if err != nil {
		return err
	}
	if objs != nil {
		if err := printObjects(o.PrintFlags, o.printer, o.Out, objs.List()); err != nil {
			return err
		}
	}
	why := fmt.Sprintf("kubectl sparkha migrate %s --apply: the application runs as job.batch/%s", src.What, job.Name)
	if stopped, err := sw.Stop(ctx, src.From, job.Name, why); err != nil {
		return err
	} else if stopped {
		sw.Progress(fmt.Sprintf("stop %s: done", src.From))
	}
	return o.resume(ctx, sw, job.Name, src.From, why)
}

// printFile converts every SparkApplication of -f without asking any cluster, as submit
// --dry-run=client builds its objects: the checkpoint claim's access modes stay unknown.
// Either every app converts and all their objects are printed, or nothing is.
func (o *MigrateOptions) printFile(ctx context.Context) error {
	apps, err := o.readApps()
	if err != nil {
		return err
	}
	var list []metav1.Object
	var failed []string
	for _, app := range apps {
		if len(apps) > 1 {
			fmt.Fprintf(o.ErrOut, "sparkapplication/%s:\n", app.GetName())
		}
		src, err := failover.ReadSparkApplication(ctx, nil, app, nil, o.CheckpointClaim, o.newAppID())
		if err == nil {
			src.Report(o.ErrOut)
			err = src.Fatal("migrate")
		}
		if err != nil {
			if len(apps) == 1 {
				return err
			}
			fmt.Fprintf(o.ErrOut, "error: %v\n", err)
			failed = append(failed, app.GetName())
			continue
		}
		list = append(list, submit.Build(src.App, "").List()...)
	}
	if len(failed) > 0 {
		return fmt.Errorf("cannot migrate %d of the %d SparkApplications of %s (%s; why above): nothing was printed", len(failed), len(apps), o.Filename, strings.Join(failed, ", "))
	}
	return printObjects(o.PrintFlags, o.printer, o.Out, list)
}

// readApps reads the SparkApplications of -f: every document of the file; the others (the
// ConfigMaps and Secrets an example creates before its app) are named on stderr and left.
func (o *MigrateOptions) readApps() ([]*unstructured.Unstructured, error) {
	docs, err := readManifests(o.Filename)
	if err != nil {
		return nil, err
	}
	var apps []*unstructured.Unstructured
	var others []string
	for _, d := range docs {
		if d.GetKind() != string(sparkapp.KindSparkApplication) {
			other := fmt.Sprintf("%s %s/%s", d.GetAPIVersion(), d.GetKind(), d.GetName())
			if what, ok := notApplications[d.GetKind()]; ok {
				other += ", " + what
			}
			others = append(others, other)
			continue
		}
		if d.GetNamespace() == "" {
			d.SetNamespace(o.namespace)
		}
		apps = append(apps, d)
	}
	if len(apps) == 0 {
		return nil, fmt.Errorf("invalid -f %q: it holds no SparkApplication (%s): migrate reads the SparkApplications of the Kubeflow Spark Operator (%s/v1beta2) and of Apache's spark-kubernetes-operator (%s)", o.Filename, orNothing(others), sparkapp.OperatorKubeflow, sparkapp.OperatorApache)
	}
	for _, other := range others {
		fmt.Fprintf(o.ErrOut, "%s: not a SparkApplication, left as it is\n", other)
	}
	if o.CheckpointClaim != "" && len(apps) > 1 {
		return nil, fmt.Errorf("--checkpoint-claim names the claim of one application, and %s holds %d (%s): migrate one file per application", o.Filename, len(apps), names(apps))
	}
	return apps, nil
}

// notApplications are the operators' other kinds, which run no application migrate can carry.
var notApplications = map[string]string{
	"ScheduledSparkApplication": "which creates a SparkApplication on a schedule (migrate one of them, or the spec of its template as a SparkApplication)",
	"SparkCluster":              "a standalone Spark cluster (master and workers), not an application",
	"SparkConnect":              "a Spark Connect server, not an application",
}

func orNothing(s []string) string {
	if len(s) == 0 {
		return "it is empty"
	}
	return "it holds " + strings.Join(s, ", ")
}

func names(objs []*unstructured.Unstructured) string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetName())
	}
	return strings.Join(out, ", ")
}

// read reads the source and converts it. gone: the source is gone already and --apply finished
// the switch a previous run began (or found nothing to do).
func (o *MigrateOptions) read(ctx context.Context) (src *failover.Source, gone bool, err error) {
	if o.kind == "pod" {
		pod, err := o.client.CoreV1().Pods(o.namespace).Get(ctx, o.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) && o.Apply {
			return nil, true, o.finish(ctx, "pod/"+o.name)
		}
		if err != nil {
			return nil, false, err
		}
		src, err = failover.ReadDriverPod(ctx, o.client, pod, o.CheckpointClaim, o.newAppID())
		return src, false, err
	}
	fromFile := o.fromFile
	if fromFile != nil {
		o.namespace, o.name, o.group = fromFile.GetNamespace(), fromFile.GetName(), fromFile.GroupVersionKind().Group
	}
	live, err := o.liveApp(ctx, fromFile)
	if err != nil {
		return nil, false, err
	}
	switch {
	case live == nil && o.Apply:
		return nil, true, o.finish(ctx, "sparkapplication/"+o.name)
	case live == nil && fromFile == nil:
		return nil, false, fmt.Errorf("sparkapplication %q not found in namespace %s", o.name, o.namespace)
	}
	obj := fromFile
	if obj == nil {
		obj = live
	}
	var driver *corev1.Pod
	if live != nil {
		if driver, err = o.appDriver(ctx, live); err != nil {
			return nil, false, err
		}
		// The switch is recorded against the live object, whatever the file says.
		obj = obj.DeepCopy()
		obj.SetUID(live.GetUID())
		obj.SetAPIVersion(live.GetAPIVersion())
	}
	src, err = failover.ReadSparkApplication(ctx, o.client, obj, driver, o.CheckpointClaim, o.newAppID())
	return src, false, err
}

// liveApp reads the SparkApplication o.name of either operator (of like's group when given); nil
// when there is none. Two of that name, one per operator, is ambiguous.
func (o *MigrateOptions) liveApp(ctx context.Context, like *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	var found []*unstructured.Unstructured
	for _, gvr := range sparkapp.SparkApplicationResources {
		if o.group != "" && gvr.Group != o.group {
			continue
		}
		obj, err := o.dynamic.Resource(gvr).Namespace(o.namespace).Get(ctx, o.name, metav1.GetOptions{})
		switch {
		case err == nil:
			found = append(found, obj)
		case apierrors.IsNotFound(err):
			// No such object, or no such CRD.
		default:
			return nil, fmt.Errorf("reading %s %s: %w", gvr.GroupResource(), o.name, err)
		}
	}
	switch len(found) {
	case 0:
		if like != nil && o.Apply {
			return nil, fmt.Errorf("no SparkApplication %s in namespace %s to switch from: --apply with -f switches a running application over; to start one from the file, submit it", o.name, o.namespace)
		}
		return nil, nil
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("sparkapplication %q exists for both operators in namespace %s: name one, sparkapplication.%s/%s or sparkapplication.%s/%s",
		o.name, o.namespace, sparkapp.OperatorKubeflow, o.name, sparkapp.OperatorApache, o.name)
}

// appDriver is the SparkApplication's live driver pod (the newest), nil when it has none.
func (o *MigrateOptions) appDriver(ctx context.Context, app *unstructured.Unstructured) (*corev1.Pod, error) {
	pods, err := o.client.CoreV1().Pods(o.namespace).List(ctx, metav1.ListOptions{LabelSelector: sparkapp.LabelSparkRole + "=" + sparkapp.RoleDriver})
	if err != nil {
		return nil, err
	}
	var newest *corev1.Pod
	for i := range pods.Items {
		p := &pods.Items[i]
		if k := sparkapp.AppOfPod(p); k.Kind != sparkapp.KindSparkApplication || k.Name != app.GetName() {
			continue
		}
		if newest == nil || p.CreationTimestamp.After(newest.CreationTimestamp.Time) {
			newest = p
		}
	}
	return newest, nil
}

// readManifests reads every object of a YAML (documents separated by ---) or JSON file.
func readManifests(file string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("invalid -f %q: %w", file, unwrapPathError(err))
	}
	defer f.Close()
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for i := 1; ; i++ {
		obj := &unstructured.Unstructured{}
		err := dec.Decode(&obj.Object)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("invalid -f %q: document %d is not a YAML or JSON object (%v)", file, i, err)
		}
		if obj.Object == nil {
			continue // an empty document
		}
		out = append(out, obj)
	}
}

// mayStop refuses while a driver of the source may run where nobody can stop it: on a lost node
// that is not fenced, deleting it would change nothing there, and the Job would start a second
// driver.
func (o *MigrateOptions) mayStop(ctx context.Context, src *failover.Source) error {
	if src.From.Pod == "" {
		return nil
	}
	app := o.name
	if src.From.SparkApplication == nil {
		pod, err := o.client.CoreV1().Pods(o.namespace).Get(ctx, src.From.Pod, metav1.GetOptions{})
		if err != nil {
			return err
		}
		app = sparkapp.AppOfPod(pod).Name
	}
	rep, _, err := inspect.Inspect(ctx, o.client, o.dynamic, inspect.Query{Namespace: o.namespace, App: app})
	if err != nil {
		return err
	}
	if len(rep.Unavailable) > 0 {
		return fmt.Errorf("cannot decide safely without seeing %s: migrate --apply needs to list nodes, PVs and VolumeAttachments (see docs/rbac.yaml)", strings.Join(rep.Unavailable, ", "))
	}
	for _, d := range rep.Apps[0].Drivers {
		if d.NodeLost && !d.NodeFenced && !d.Ended {
			next := fmt.Sprintf("kubectl sparkha failover %s -n %s --node-down --resubmit", app, o.namespace)
			if src.From.SparkApplication != nil {
				next = fmt.Sprintf("kubectl sparkha failover %s -n %s --node-down (fencing the node lets the switch go on)", app, o.namespace)
			}
			return &failover.ErrRefused{Msg: fmt.Sprintf("refusing to migrate %s: the node %s of its driver %s is lost and not fenced (Ready=%s), so the driver may still run there and deleting it would not stop it; nothing was changed. "+
				"Wait until %s rejoins, or once the machine is powered off or cut from its storage and network (a network partition is not enough): %s",
				src.What, d.Node, d.Pod, orUnseen(d.NodeReady), d.Node, next)}
		}
	}
	return nil
}

// finish goes on with a switch whose source is gone already: resume the Job that replaces it.
func (o *MigrateOptions) finish(ctx context.Context, what string) error {
	sw := o.sw()
	job, from, err := sw.ReplacingJob(ctx, what)
	if err != nil {
		return err
	}
	if job == nil {
		return fmt.Errorf("%s not found in namespace %s, and no Job replaces it: nothing to migrate", what, o.namespace)
	}
	return o.resume(ctx, sw, job.Name, from, fmt.Sprintf("kubectl sparkha migrate %s --apply (rerun): the application runs as job.batch/%s", what, job.Name))
}

func (o *MigrateOptions) resume(ctx context.Context, sw *failover.Switch, job string, from failover.MigratedFrom, why string) error {
	resumed, err := sw.Resume(ctx, job, from, why)
	if err != nil {
		return err
	}
	if !resumed {
		fmt.Fprintf(o.Out, "job.batch/%s already replaces %s: nothing to do\n", job, from)
	} else {
		fmt.Fprintf(o.Out, "job.batch/%s resumed: it replaces %s\n", job, from)
	}
	if !o.Wait {
		return nil
	}
	return sw.WaitDriver(ctx, job, o.ErrOut)
}

func orUnseen(s string) string {
	if s == "" {
		return "not visible"
	}
	return s
}
