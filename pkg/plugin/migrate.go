package plugin

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubectl/pkg/scheme"
	"k8s.io/kubectl/pkg/util/term"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/failover"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

const migrateLong = `Move a running Spark application that spark-submit started onto a partition-safe sparkha Job.

From the driver pod spark-submit created (pod/NAME) and its spark.properties ConfigMap,
migrate makes the kubectl sparkha submit request that runs the same application: the Job is
named after spark.app.name as submit --spark-submit names it; the image, main class,
resource, arguments and --proxy-user come from the driver's command line; the Spark conf from
spark.properties, without the keys spark-submit or kubectl sparkha set for each run
(spark.app.id, spark.driver.host, spark.kubernetes.driver.pod.name, spark.app.submitTime, ...);
the driver's only persistentVolumeClaim volume becomes the checkpoint claim, reused as it is
(--checkpoint-claim picks one when it mounts several).

Without --apply it prints the objects as submit --dry-run=client -o yaml prints them, and on
stderr every field of the pod it cannot carry over, with why. Two kinds:

  not carried  the driver would run differently without it: a container beside the driver or
               an init container, a volume or environment variable no Spark property
               describes, a command, a security context, the host's network, PID or IPC
               namespace (from a driver pod template), an executor pod template, a key
               kubectl sparkha refuses (Kerberos, client credentials). migrate exits 1, and
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
is nothing to do. Only pod/NAME is accepted: a SparkApplication is migrated from its own
object (sparkapplication/NAME, or -f FILE).`

const migrateExample = `  # Show the sparkha Job that replaces a spark-submit driver, and what cannot be carried over
  kubectl sparkha migrate pod/nightly-etl-1a2b3c-driver -n etl -o yaml

  # Switch it over: stop the old driver, then start the Job on the same checkpoint claim
  kubectl sparkha migrate pod/nightly-etl-1a2b3c-driver -n etl --apply --wait`

// MigrateOptions holds the flags and clients of `kubectl sparkha migrate`.
type MigrateOptions struct {
	configFlags *genericclioptions.ConfigFlags
	PrintFlags  *genericclioptions.PrintFlags
	genericiooptions.IOStreams

	Source          string
	CheckpointClaim string
	Apply           bool
	Yes             bool
	Wait            bool
	Timeout         time.Duration

	pod       string
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
		Use:                   "migrate pod/NAME [-n NS] [-o yaml|json] [--checkpoint-claim CLAIM] [--apply [--yes] [--wait] [--timeout 5m]]",
		DisableFlagsInUseLine: true,
		Short:                 "Move a running spark-submit application onto a sparkha Job",
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
	if o.confirm == nil && (term.TTY{In: o.In}).IsTerminalIn() {
		o.confirm = func(q string) bool {
			fmt.Fprint(o.ErrOut, q)
			line, _ := bufio.NewReader(o.In).ReadString('\n')
			return strings.TrimSpace(line) == "yes"
		}
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
	switch {
	case o.Source == "":
		return fmt.Errorf("missing the source: kubectl sparkha migrate pod/NAME [-n NAMESPACE]")
	case !ok || name == "" || (kind != "pod" && kind != "pods" && kind != "po"):
		return fmt.Errorf("cannot migrate %q: give pod/NAME, the driver pod of a spark-submit application (a SparkApplication is migrated with sparkapplication/NAME or -f FILE)", o.Source)
	case o.Wait && !o.Apply:
		return fmt.Errorf("--wait needs --apply: without it nothing starts")
	case o.Timeout <= 0:
		return fmt.Errorf("invalid --timeout %s: use a positive duration such as 5m", o.Timeout)
	case o.Apply && !o.Yes && o.confirm == nil:
		return fmt.Errorf("--apply stops the running driver %s and starts its Job instead: confirm with --yes (there is no terminal to ask on); nothing was changed", o.Source)
	}
	o.pod = name
	printer, err := o.PrintFlags.ToPrinter()
	if err != nil {
		return fmt.Errorf("invalid --output: %w", err)
	}
	o.printer = printer
	return nil
}

func (o *MigrateOptions) runner() *failover.Runner {
	return &failover.Runner{Client: o.client, Dynamic: o.dynamic, Namespace: o.namespace, Poll: o.poll,
		Progress: func(s string) { fmt.Fprintf(o.ErrOut, "%s %s\n", time.Now().Format("15:04:05"), s) }}
}

// Run prints the equivalent objects, or switches the application over.
func (o *MigrateOptions) Run(ctx context.Context) error {
	if o.client == nil {
		var err error
		if o.client, o.dynamic, err = newClients(o.configFlags, o.ErrOut); err != nil {
			return err
		}
	}
	pod, err := o.client.CoreV1().Pods(o.namespace).Get(ctx, o.pod, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && o.Apply {
		return o.finish(ctx)
	}
	if err != nil {
		return err
	}
	src, err := readSwitchSource(ctx, o.client, pod, o.CheckpointClaim, o.newAppID())
	if err != nil {
		return err
	}
	src.report(o.ErrOut)
	if !o.Apply {
		if err := printObjects(o.PrintFlags, o.printer, o.Out, submit.Build(src.app, "")); err != nil {
			return err
		}
		return src.fatal("migrate")
	}
	if err := src.fatal("migrate"); err != nil {
		return err
	}
	if err := o.mayStop(ctx, src); err != nil {
		return err
	}
	if !o.Yes {
		if !o.confirm(fmt.Sprintf("Stop driver pod/%s and run the application as job.batch/%s? Type yes to continue: ", src.pod.Name, src.app.Name)) {
			return fmt.Errorf("not confirmed: nothing was changed")
		}
	}
	job, objs, err := src.prepareJob(ctx, o.client)
	if err != nil {
		return err
	}
	if objs != nil {
		if err := printObjects(o.PrintFlags, o.printer, o.Out, objs); err != nil {
			return err
		}
	}
	r := o.runner()
	why := fmt.Sprintf("kubectl sparkha migrate %s --apply: the application runs as job.batch/%s", o.Source, job.Name)
	if stopped, err := r.StopDriver(ctx, src.from, job.Name, why); err != nil {
		return err
	} else if stopped {
		r.Progress(fmt.Sprintf("stop old driver %s: done", src.from.Pod))
	}
	return o.resume(ctx, r, job.Name, src.from, why)
}

// mayStop refuses while the driver may run where nobody can stop it: on a lost node that is
// not fenced, deleting it would change nothing there, and the Job would start a second driver.
func (o *MigrateOptions) mayStop(ctx context.Context, src *switchSource) error {
	app := sparkapp.AppOfPod(src.pod).Name
	rep, _, err := inspect.Inspect(ctx, o.client, o.dynamic, inspect.Query{Namespace: o.namespace, App: app})
	if err != nil {
		return err
	}
	if len(rep.Unavailable) > 0 {
		return fmt.Errorf("cannot decide safely without seeing %s: migrate --apply needs to list nodes, PVs and VolumeAttachments (see docs/rbac.yaml)", strings.Join(rep.Unavailable, ", "))
	}
	for _, d := range rep.Apps[0].Drivers {
		if d.UID == string(src.pod.UID) && d.NodeLost && !d.NodeFenced {
			return &failover.ErrRefused{Msg: fmt.Sprintf("refusing to migrate pod/%s: its node %s is lost and not fenced (Ready=%s), so the driver may still run there and deleting the pod would not stop it; nothing was changed. "+
				"Wait until %s rejoins, or once the machine is powered off or cut from its storage and network (a network partition is not enough): kubectl sparkha failover %s -n %s --node-down --resubmit",
				src.pod.Name, d.Node, orUnseen(d.NodeReady), d.Node, app, o.namespace)}
		}
	}
	return nil
}

// finish goes on with a switch whose old pod is gone already: resume the Job that replaces it.
func (o *MigrateOptions) finish(ctx context.Context) error {
	job, from, err := migratedJob(ctx, o.client, o.namespace, o.pod)
	if err != nil {
		return err
	}
	if job == nil {
		return fmt.Errorf("pod/%s not found in namespace %s, and no Job replaces it: nothing to migrate", o.pod, o.namespace)
	}
	return o.resume(ctx, o.runner(), job.Name, from, fmt.Sprintf("kubectl sparkha migrate %s --apply (rerun): the application runs as job.batch/%s", o.Source, job.Name))
}

func (o *MigrateOptions) resume(ctx context.Context, r *failover.Runner, job string, from failover.MigratedFrom, why string) error {
	if err := r.WaitDriverGone(ctx, from, o.Timeout); err != nil {
		return err
	}
	resumed, err := r.ResumeJob(ctx, job, from, why)
	if err != nil {
		return err
	}
	if !resumed {
		fmt.Fprintf(o.Out, "job.batch/%s already replaces pod/%s: nothing to do\n", job, from.Pod)
	} else {
		fmt.Fprintf(o.Out, "job.batch/%s resumed: it replaces pod/%s\n", job, from.Pod)
	}
	if !o.Wait {
		return nil
	}
	return waitJobDriver(ctx, o.client, o.namespace, job, o.Timeout, o.ErrOut)
}

func orUnseen(s string) string {
	if s == "" {
		return "not visible"
	}
	return s
}
