package plugin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/util/term"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/failover"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/render"
)

const failoverLong = `Complete a Spark driver failover once it is safe, wait for the new driver, and leave an
audit trail. Refuse while the old driver may still be running.

failover asks the same analysis as inspect, and acts only when one of these holds:

  * the old driver's node rejoined and its kubelet reported the driver's containers stopped:
    failover finishes the lingering pod (marks it Failed and deletes it, as PodGC would);
  * you confirm, with --node-down, that the machine is powered off, or cut from its storage
    and network by your infrastructure (a plain network partition is not enough: the old
    driver keeps running and writing there, and fencing would run two drivers):
    failover taints it node.kubernetes.io/out-of-service (non-graceful node shutdown), so
    Kubernetes force-deletes its pods and detaches its volumes. The taint is node-wide: the
    plan lists every pod it affects before you confirm. Lift it with --release-node once the
    machine is repaired.

Every step re-reads the state just before acting, with resourceVersion/UID preconditions, so
two concurrent runs never both act, and a rerun after success does nothing. Each action leaves
an Event on the Job (on the pod for a bare driver) and the annotation sparkha.io/last-failover
with who (SelfSubjectReview), when, what and why. No PVC, PV or data is ever deleted.

Exit status:
  0  done, or nothing to do
  1  error, or timed out waiting (the stuck phase and the evidence are printed)
  4  refused: acting now could run two drivers, or could not help`

const failoverExample = `  # Finish a failover after the old driver's node came back
  kubectl sparkha failover clicks -n streaming

  # The old node is confirmed powered off: fence it and wait for the new driver
  kubectl sparkha failover clicks -n streaming --node-down

  # Show the plan, change nothing
  kubectl sparkha failover clicks -n streaming --node-down --dry-run=client

  # In a script (no terminal to confirm on)
  kubectl sparkha failover clicks -n streaming --node-down --yes --timeout 10m

  # Lift the fence once the machine is repaired and Ready again
  kubectl sparkha failover --release-node worker-7`

// FailoverOptions holds the flags and clients of `kubectl sparkha failover`.
type FailoverOptions struct {
	configFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams

	App         string
	NodeDown    bool
	Yes         bool
	Wait        bool
	Timeout     time.Duration
	Output      string
	ReleaseNode string

	namespace string
	dryRun    cmdutil.DryRunStrategy
	client    kubernetes.Interface
	// confirm asks the operator on a terminal; nil when there is none.
	confirm func(question string) bool
	poll    time.Duration
}

// NewFailoverOptions returns FailoverOptions with defaults.
func NewFailoverOptions(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *FailoverOptions {
	return &FailoverOptions{configFlags: configFlags, IOStreams: streams, Wait: true, Timeout: 5 * time.Minute}
}

// NewCmdFailover returns the `failover` command.
func NewCmdFailover(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewFailoverOptions(configFlags, streams)
	cmd := &cobra.Command{
		Use:               "failover APP | --release-node NODE",
		Short:             "Finish a driver failover safely, or refuse while the old driver may run",
		Long:              failoverLong,
		Example:           failoverExample,
		Args:              cobra.MaximumNArgs(1),
		SilenceUsage:      true,
		SilenceErrors:     true,
		ValidArgsFunction: CompleteAppNames(configFlags),
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitWith(o.ErrOut, func() error {
				if err := o.Complete(cmd, args); err != nil {
					return err
				}
				if err := o.Validate(); err != nil {
					return err
				}
				return forbiddenHint(o.Run(cmd.Context()))
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.NodeDown, "node-down", o.NodeDown, "Confirm that the old driver's machine is powered off, or cut from its storage and network by your infrastructure (not merely partitioned): fence it with the out-of-service taint.")
	f.BoolVarP(&o.Yes, "yes", "y", o.Yes, "Do not ask for confirmation of --node-down (needed without a terminal).")
	f.BoolVar(&o.Wait, "wait", o.Wait, "Wait until the new driver runs, with progress on stderr.")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "How long --wait waits.")
	f.StringVarP(&o.Output, "output", "o", o.Output, "Print the plan as json or yaml instead of text.")
	f.StringVar(&o.ReleaseNode, "release-node", o.ReleaseNode, "Lift the fence (out-of-service taint) from a repaired node that is Ready again.")
	cmdutil.AddDryRunFlag(cmd)
	_ = RegisterNodeCompletion(cmd, configFlags)
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"json", "yaml"}, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// Complete resolves namespace, dry-run mode and the confirmation prompt.
func (o *FailoverOptions) Complete(cmd *cobra.Command, args []string) error {
	if len(args) == 1 {
		o.App = args[0]
	}
	var err error
	if o.dryRun, err = cmdutil.GetDryRunStrategy(cmd); err != nil {
		return err
	}
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
	return nil
}

// Validate checks the flags without I/O.
func (o *FailoverOptions) Validate() error {
	switch {
	case o.ReleaseNode != "" && o.App != "":
		return fmt.Errorf("give either APP or --release-node NODE, not both")
	case o.ReleaseNode == "" && o.App == "":
		return fmt.Errorf("missing APP: kubectl sparkha failover APP [-n NAMESPACE], or --release-node NODE")
	case o.ReleaseNode != "" && o.NodeDown:
		return fmt.Errorf("--node-down fences a node; --release-node lifts a fence: use one")
	case o.Output != "" && o.Output != "json" && o.Output != "yaml":
		return fmt.Errorf("invalid --output %q: use json or yaml, or leave it out for text", o.Output)
	case o.Timeout <= 0:
		return fmt.Errorf("invalid --timeout %s: use a positive duration such as 5m", o.Timeout)
	}
	return nil
}

func (o *FailoverOptions) runner() *failover.Runner {
	return &failover.Runner{
		Client: o.client, Namespace: o.namespace, App: o.App, NodeDown: o.NodeDown,
		DryRun: o.dryRun == cmdutil.DryRunServer, Poll: o.poll,
		Progress: func(s string) { fmt.Fprintf(o.ErrOut, "%s %s\n", time.Now().Format("15:04:05"), s) },
	}
}

func (o *FailoverOptions) suffix() string {
	switch o.dryRun {
	case cmdutil.DryRunClient:
		return " (dry run)"
	case cmdutil.DryRunServer:
		return " (server dry run)"
	}
	return ""
}

// Run plans, confirms, acts and waits.
func (o *FailoverOptions) Run(ctx context.Context) error {
	// The client is made once the flags are valid, so a flag error is never hidden behind a
	// missing kubeconfig or an unreachable cluster.
	if o.client == nil {
		var err error
		if o.client, err = newClient(o.configFlags, o.ErrOut); err != nil {
			return err
		}
	}
	r := o.runner()
	if o.ReleaseNode != "" {
		if o.dryRun == cmdutil.DryRunClient {
			fmt.Fprintf(o.Out, "would remove the %s taint from node %s if it is Ready (dry run)\n", corev1.TaintNodeOutOfService, o.ReleaseNode)
			return nil
		}
		released, err := r.Release(ctx, o.ReleaseNode)
		var refused *failover.ErrRefused
		if errors.As(err, &refused) {
			fmt.Fprintf(o.ErrOut, "error: %s\n", refused.Msg)
			return &ExitCodeError{Code: ExitRefused, Err: err}
		}
		if err != nil {
			return err
		}
		if !released {
			fmt.Fprintf(o.Out, "node/%s is not fenced: nothing to release\n", o.ReleaseNode)
			return nil
		}
		fmt.Fprintf(o.Out, "node/%s released%s\n", o.ReleaseNode, o.suffix())
		return nil
	}

	plan, app, err := r.Plan(ctx)
	if err != nil {
		return err
	}
	if err := o.printPlan(o.Out, plan); err != nil {
		return err
	}
	switch plan.Outcome {
	case failover.Refuse:
		fmt.Fprintf(o.ErrOut, "error: %s\n", plan.Message)
		return &ExitCodeError{Code: ExitRefused, Err: errors.New(plan.Message)}
	case failover.NothingToDo:
		return nil
	}
	if o.dryRun == cmdutil.DryRunClient {
		return nil
	}
	// A server-side dry run changes nothing, so it needs no confirmation.
	if fence := fenceStep(plan); fence != nil && !o.Yes && o.dryRun == cmdutil.DryRunNone {
		if o.confirm == nil {
			return fmt.Errorf("--node-down fences node %s and force-deletes every pod on it: confirm with --yes (there is no terminal to ask on)", fence.Node)
		}
		if !o.confirm(fmt.Sprintf("Fence node %s? Every pod on it is force-deleted and its volumes detached. Only do this if the machine is powered off or cut from its storage and network (a network partition is not enough: its containers keep writing). Type yes to continue: ", fence.Node)) {
			return fmt.Errorf("not confirmed: nothing was done")
		}
	}
	if err := r.Execute(ctx, plan); err != nil {
		var refused *failover.ErrRefused
		if errors.As(err, &refused) {
			fmt.Fprintf(o.ErrOut, "error: %s\n", refused.Msg)
			return &ExitCodeError{Code: ExitRefused, Err: err}
		}
		return err
	}
	if !o.Wait || o.dryRun == cmdutil.DryRunServer {
		fmt.Fprintf(o.Out, "failover of %s/%s started%s\n", plan.Namespace, plan.App, o.suffix())
		return nil
	}
	if err := r.Wait(ctx, plan, *app, o.Timeout); err != nil {
		var timeout *failover.TimeoutError
		if errors.As(err, &timeout) && timeout.Evidence != nil {
			fmt.Fprintf(o.ErrOut, "error: %v; the evidence:\n", err)
			_ = render.Tree(o.ErrOut, &inspect.Report{Apps: []inspect.App{*timeout.Evidence}}, render.Options{Now: time.Now()})
			return &ExitCodeError{Code: ExitError, Err: err}
		}
		return err
	}
	fmt.Fprintf(o.Out, "failover of %s/%s complete: a new driver runs\n", plan.Namespace, plan.App)
	return nil
}

func fenceStep(p failover.Plan) *failover.Step {
	for i := range p.Steps {
		if p.Steps[i].Action == failover.FenceNode {
			return &p.Steps[i]
		}
	}
	return nil
}

// printPlan prints the plan as text, JSON or YAML.
func (o *FailoverOptions) printPlan(w io.Writer, p failover.Plan) error {
	switch o.Output {
	case "json":
		return render.JSONValue(w, p)
	case "yaml":
		return render.YAMLValue(w, p)
	}
	switch p.Outcome {
	case failover.NothingToDo:
		_, err := fmt.Fprintf(w, "%s/%s: %s\n", p.Namespace, p.App, p.Message)
		return err
	case failover.Refuse:
		_, err := fmt.Fprintf(w, "%s/%s (%s): refused, nothing was done\n", p.Namespace, p.App, p.Verdict)
		return err
	}
	fmt.Fprintf(w, "Failover plan for %s/%s (%s)%s:\n", p.Namespace, p.App, p.Verdict, o.suffix())
	for i, s := range p.Steps {
		fmt.Fprintf(w, "  %d. %s\n     why: %s\n", i+1, failover.Describe(s), s.Why)
	}
	if len(p.BlastRadius) > 0 {
		fmt.Fprintf(w, "  The fence is node-wide: these pods are force-deleted and their volumes detached:\n")
		for _, b := range p.BlastRadius {
			fmt.Fprintf(w, "     - %s\n", b)
		}
	}
	if len(p.Waits) > 0 {
		fmt.Fprintf(w, "  Then wait for: %s\n", strings.Join(p.Waits, " → "))
	}
	return nil
}

// forbiddenHint says which role a Forbidden error calls for: the API server's message names
// the verb and resource that were refused, this names the ClusterRole that grants them.
func forbiddenHint(err error) error {
	var exit *ExitCodeError
	if err == nil || errors.As(err, &exit) || !apierrors.IsForbidden(err) {
		return err
	}
	return fmt.Errorf("%w; failover needs the permissions of the sparkha-failover ClusterRole, bound cluster-wide (see docs/rbac.yaml)", err)
}
