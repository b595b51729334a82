package plugin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/util/term"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
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
    failover first shows what the cluster knows of the machine (Ready and its reason, the
    last Lease renewal and status post, the cloud provider's shutdown taint, medik8s
    remediations of the node and whether they fenced it) and refuses if
    that shows it running (a Lease renewed after it stopped being Ready, or Ready=False);
    --ignore-node-evidence overrides, recorded in the audit. Then it
    taints it node.kubernetes.io/out-of-service (non-graceful node shutdown), so
    Kubernetes force-deletes its pods and detaches its volumes. Once Kubernetes evicts the
    old driver, failover marks it Failed and deletes it at once, as the pod garbage
    collector's next pass (up to 20 s later) would. The taint is node-wide: the plan lists
    every pod it affects before you confirm. Lift it with kubectl sparkha release NODE once
    the machine is repaired.

--node NODE [-A] does this for every app whose lost node NODE is, in the namespace or in every
namespace: one plan listing them all, one confirmation, then each app's steps (the fence once)
and waits. If any app refuses, none acts: the fence would touch them all.

The same fence, on the same evidence, frees executors of a running driver that are on a lost
node (inspect's ExecutorsOnLostNode): Spark counts their pods as running until they are gone
from the API and asks for no others. failover --node-down fences the node, collects the
executors once evicted, waits until they are gone, and leaves the driver running; it asks for
new executors itself.

For a Spark operator app (a SparkApplication of the Kubeflow Spark Operator or of Apache's
spark-kubernetes-operator), the operator starts the next driver, by its restart policy:
--node-down fences only when the SparkApplication says it will (policy and retries left, as
inspect shows them), then waits for the operator's new driver. Otherwise a fence would only stop
the app: failover refuses, unless --resubmit: then it deletes the SparkApplication (its spec
kept on the Job) and relaunches the app as a sparkha Job, as below for a bare driver. If the
node comes back first, kubectl sparkha migrate sparkapplication/APP --apply moves the app.

A bare spark-submit driver has nothing that starts a new driver, so failover refuses it
unless --resubmit: then, before the fence, it reads the old driver pod and its spark.properties
(the fence force-deletes the pod and the garbage collector its ConfigMap), refuses if a field
has no equivalent (as kubectl sparkha migrate does), and creates the sparkha Job that replaces
it, suspended and annotated sparkha.io/migrated-from; it fences, waits until the old driver is
gone, then resumes the Job (an Event ResubmittedAsJob and the audit annotation on the Job). The
next node loss is the Job's, as for any sparkha app. A rerun resumes a Job left suspended.

Every step re-reads the state just before acting, with resourceVersion/UID preconditions, so
two concurrent runs never both act, and a rerun after success does nothing. Each action leaves
an Event on the Job (on the pod for a bare driver) and the annotation sparkha.io/last-failover
with who (SelfSubjectReview), when, what and why. No PVC, PV or data is ever deleted.

-o json, yaml, jsonpath or go-template prints the plan as a document instead of text.

Exit status:
  0  done, or nothing to do
  1  error, or timed out waiting (the stuck phase and the evidence are printed)
  4  refused: acting now could run two drivers, or could not help`

const failoverExample = `  # Finish a failover after the old driver's node came back
  kubectl sparkha failover clicks -n streaming

  # The old node is confirmed powered off: fence it and wait for the new driver
  kubectl sparkha failover clicks -n streaming --node-down

  # A bare spark-submit driver whose machine is down: fence, then relaunch it as a sparkha Job
  kubectl sparkha failover nightly-etl -n etl --node-down --resubmit --yes

  # Show the plan, change nothing
  kubectl sparkha failover clicks -n streaming --node-down --dry-run=client

  # Every app whose driver, executors or volume were on a dead machine: one plan, one confirmation
  kubectl sparkha failover --node worker-7 -A --node-down

  # In a script (no terminal to confirm on)
  kubectl sparkha failover clicks -n streaming --node-down --yes --timeout 10m

  # Lift the fence once the machine is repaired and Ready again
  kubectl sparkha release worker-7`

// FailoverOptions holds the flags and clients of `kubectl sparkha failover`.
type FailoverOptions struct {
	configFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams

	App      string
	NodeDown bool
	// IgnoreNodeEvidence fences against evidence that the machine runs.
	IgnoreNodeEvidence bool
	// Resubmit relaunches a bare spark-submit driver as a sparkha Job once the old one is gone.
	Resubmit bool
	Yes      bool
	Wait     bool
	Timeout  time.Duration
	// Node plans for every app whose lost node it is, at once (--node); AllNamespaces looks for
	// them in every namespace (-A).
	Node          string
	AllNamespaces bool
	// ReleaseNode is the deprecated --release-node: `kubectl sparkha release NODE` now.
	ReleaseNode string
	output      *outputFlags

	namespace string
	dryRun    cmdutil.DryRunStrategy
	client    kubernetes.Interface
	dynamic   dynamic.Interface
	// confirm asks the operator on a terminal; nil when there is none.
	confirm func(question string) bool
	poll    time.Duration
	// now is the analysis clock (tests replay a snapshot at its capture time); nil means time.Now.
	now func() time.Time
}

// NewFailoverOptions returns FailoverOptions with defaults.
func NewFailoverOptions(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *FailoverOptions {
	return &FailoverOptions{configFlags: configFlags, IOStreams: streams, Wait: true, Timeout: 5 * time.Minute, output: newOutputFlags()}
}

// NewCmdFailover returns the `failover` command.
func NewCmdFailover(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewFailoverOptions(configFlags, streams)
	cmd := &cobra.Command{
		Use:               "failover (APP | --node NODE [-A])",
		Short:             "Finish a driver failover safely, or refuse while the old driver may run",
		Long:              failoverLong,
		Example:           failoverExample,
		Args:              maxArgs(1),
		ValidArgsFunction: CompleteAppNames(configFlags),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(cmd, args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return usage(cmd, err)
			}
			return forbiddenHint(o.Run(cmd.Context()))
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.NodeDown, "node-down", o.NodeDown, "Confirm that the old driver's machine is powered off, or cut from its storage and network by your infrastructure (not merely partitioned): fence it with the out-of-service taint.")
	f.BoolVar(&o.IgnoreNodeEvidence, "ignore-node-evidence", o.IgnoreNodeEvidence, "With --node-down, fence even though the cluster shows the machine running (a Lease renewed after the node stopped being Ready, or Ready=False): only when you know that evidence is stale. The audit records it.")
	f.BoolVar(&o.Resubmit, "resubmit", o.Resubmit, "For a bare spark-submit driver, or a Spark operator app whose operator will not start a new driver: relaunch the application as a sparkha Job, as kubectl sparkha migrate would, once the old driver is gone (a SparkApplication is deleted first, its spec kept on the Job).")
	f.BoolVarP(&o.Yes, "yes", "y", o.Yes, "Do not ask for confirmation of --node-down (needed without a terminal).")
	f.BoolVar(&o.Wait, "wait", o.Wait, "Wait until the new driver runs, with progress on stderr.")
	f.StringVar(&o.Node, "node", o.Node, "Instead of APP: plan for every app whose lost node NODE is (its driver, executors or volume there), show one plan listing them all, confirm once, and act for each; refuse all if one refuses.")
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", o.AllNamespaces, "With --node, look for the apps in every namespace.")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "How long --wait waits.")
	o.output.addFlags(cmd, "the plan as text")
	f.StringVar(&o.ReleaseNode, "release-node", o.ReleaseNode, "Lift the fence from a repaired node that is Ready again.")
	// Deprecated for `release NODE`: hidden from the help, still working, with a note on
	// stderr (pflag's own deprecation note would go to stdout, among the results).
	mustRegister(f.MarkHidden("release-node"))
	mustRegister(cmd.RegisterFlagCompletionFunc("release-node", completeNames(clientFromFlags(configFlags), listNodes)))
	mustRegister(cmd.RegisterFlagCompletionFunc("node", completeNames(clientFromFlags(configFlags), listNodes)))
	cmdutil.AddDryRunFlag(cmd)
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
	if o.confirm == nil {
		o.confirm = terminalConfirm(o.IOStreams)
	}
	return nil
}

// Validate checks the flags without I/O.
func (o *FailoverOptions) Validate() error {
	switch {
	case o.ReleaseNode != "" && o.App != "":
		return fmt.Errorf("give either APP or --release-node NODE, not both")
	case o.Node != "" && o.App != "":
		return fmt.Errorf("give either APP or --node NODE, not both")
	case o.Node != "" && o.Resubmit:
		return fmt.Errorf("--resubmit relaunches one app: run kubectl sparkha failover APP --node-down --resubmit for it, then --node %s for the others", o.Node)
	case o.AllNamespaces && o.Node == "":
		return fmt.Errorf("-A/--all-namespaces only goes with --node NODE: give --node, or APP with -n NAMESPACE")
	case o.ReleaseNode == "" && o.App == "" && o.Node == "":
		return fmt.Errorf("missing APP: kubectl sparkha failover APP [-n NAMESPACE], or --node NODE [-A] for every app on a lost node")
	case o.ReleaseNode != "" && o.NodeDown:
		return fmt.Errorf("--node-down fences a node; --release-node lifts a fence: use one")
	case o.IgnoreNodeEvidence && !o.NodeDown:
		return fmt.Errorf("--ignore-node-evidence only qualifies --node-down: add --node-down if the machine is down")
	case o.Timeout <= 0:
		return fmt.Errorf("invalid --timeout %s: use a positive duration such as 5m", o.Timeout)
	}
	return o.output.validate()
}

func (o *FailoverOptions) runner(namespace, app string) *failover.Runner {
	return &failover.Runner{
		Client: o.client, Dynamic: o.dynamic, Namespace: namespace, App: app, NodeDown: o.NodeDown, IgnoreNodeEvidence: o.IgnoreNodeEvidence, Resubmit: o.Resubmit,
		DryRun: o.dryRun == cmdutil.DryRunServer, Poll: o.poll, Now: o.now,
		Progress: func(s string) { fmt.Fprintf(o.ErrOut, "%s %s\n", time.Now().Format("15:04:05"), s) },
	}
}

// dryRunNote qualifies what a dry run prints.
func dryRunNote(s cmdutil.DryRunStrategy) string {
	switch s {
	case cmdutil.DryRunClient:
		return " (dry run)"
	case cmdutil.DryRunServer:
		return " (server dry run)"
	}
	return ""
}

// Run plans, confirms, acts and waits: for one app, or for every app on a lost node.
func (o *FailoverOptions) Run(ctx context.Context) error {
	// The client is made once the flags are valid, so a flag error is never hidden behind a
	// missing kubeconfig or an unreachable cluster.
	if o.ReleaseNode != "" {
		fmt.Fprintln(o.ErrOut, "Flag --release-node has been deprecated: use kubectl sparkha release NODE; --release-node will be removed in the next release")
		return (&ReleaseOptions{configFlags: o.configFlags, IOStreams: o.IOStreams, Node: o.ReleaseNode, dryRun: o.dryRun, client: o.client}).Run(ctx)
	}
	if o.client == nil {
		var err error
		if o.client, o.dynamic, err = newClients(o.configFlags, o.ErrOut); err != nil {
			return err
		}
	}
	if o.Node != "" {
		return o.runNode(ctx)
	}
	return o.runApp(ctx)
}

// runApp fails over one app.
func (o *FailoverOptions) runApp(ctx context.Context) error {
	r := o.runner(o.namespace, o.App)
	sw := &failover.Switch{Runner: r, Timeout: o.Timeout}
	if done, err := o.resumeResubmitted(ctx, sw); done || err != nil {
		return err
	}
	plan, app, err := r.Plan(ctx)
	if err != nil {
		return err
	}
	// Before the fence force-deletes the old driver and its ConfigMap goes with it.
	src, err := o.resubmitSource(ctx, plan, app)
	if err != nil {
		return err
	}
	if err := o.printPlan(plan, src); err != nil {
		return err
	}
	if stop, err := o.decided(plan); stop {
		return err
	}
	if err := o.confirmFence([]analysis.Plan{plan}); err != nil {
		return err
	}
	o.reconfirmAdded(r)
	var job string
	if src != nil && o.dryRun == cmdutil.DryRunNone {
		if job, err = o.prepareResubmit(ctx, sw, src); err != nil {
			return err
		}
		if src.From.SparkApplication != nil {
			// Its operator must not act on the app any more: the Job replaces it.
			why := fmt.Sprintf("kubectl sparkha failover %s --node-down --resubmit: the application runs as job.batch/%s", o.App, job)
			if _, err := sw.Stop(ctx, src.From, job, why); err != nil {
				return err
			}
		}
	}
	if err := r.Execute(ctx, plan); err != nil {
		return err
	}
	if job != "" {
		return o.resubmit(ctx, sw, job, src.From, plan)
	}
	return o.waitDone(ctx, r, plan, *app)
}

// runNode fails over every app whose lost node o.Node is, with one plan and one confirmation:
// all of them act, or none does (one fence touches every pod on the node).
func (o *FailoverOptions) runNode(ctx context.Context) error {
	ns := o.namespace
	if o.AllNamespaces {
		ns = ""
	}
	rep, _, err := inspect.Inspect(ctx, o.client, o.dynamic, inspect.Query{Namespace: ns, Now: o.now})
	if err != nil {
		return err
	}
	type appPlan struct {
		r    *failover.Runner
		plan analysis.Plan
		app  *analysis.App
	}
	var plans []appPlan
	var refused []string
	for _, a := range rep.Apps {
		if a.LostNode != o.Node {
			continue
		}
		r := o.runner(a.Namespace, a.Name)
		plan, app, err := r.Plan(ctx)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", a.Namespace, a.Name, err)
		}
		plans = append(plans, appPlan{r, plan, app})
		if plan.Outcome == analysis.Refuse {
			refused = append(refused, fmt.Sprintf("%s/%s: %s", plan.Namespace, plan.App, plan.Message))
		}
	}
	where := "namespace " + o.namespace
	if o.AllNamespaces {
		where = "any namespace"
	}
	if len(plans) == 0 {
		fmt.Fprintf(o.Out, "nothing to fail over: no app in %s has node %s as its lost node\n", where, o.Node)
		return nil
	}
	all := make([]analysis.Plan, len(plans))
	for i, p := range plans {
		all[i] = p.plan
	}
	if o.output.isHuman() {
		fmt.Fprintf(o.Out, "Node %s: %d apps%s\n", o.Node, len(plans), dryRunNote(o.dryRun))
		for _, p := range all {
			fmt.Fprintln(o.Out)
			if err := render.Plan(o.Out, p, dryRunNote(o.dryRun)); err != nil {
				return err
			}
		}
	} else if err := o.output.printDocument(o.Out, all); err != nil {
		return err
	}
	if len(refused) > 0 {
		return &failover.ErrRefused{Msg: fmt.Sprintf("refusing to act on node %s for any app, since the fence would touch them all: %s", o.Node, strings.Join(refused, "; "))}
	}
	if o.dryRun == cmdutil.DryRunClient {
		return nil
	}
	if err := o.confirmFence(all); err != nil {
		return err
	}
	for _, p := range plans {
		if p.plan.Outcome != analysis.Act {
			continue
		}
		o.reconfirmAdded(p.r)
		if err := p.r.Execute(ctx, p.plan); err != nil {
			return fmt.Errorf("%s/%s: %w", p.plan.Namespace, p.plan.App, err)
		}
	}
	for _, p := range plans {
		if p.plan.Outcome != analysis.Act {
			continue
		}
		if err := o.waitDone(ctx, p.r, p.plan, *p.app); err != nil {
			return fmt.Errorf("%s/%s: %w", p.plan.Namespace, p.plan.App, err)
		}
	}
	return nil
}

// printPlan prints the plan as text, or as a document for -o.
func (o *FailoverOptions) printPlan(plan analysis.Plan, src *failover.Source) error {
	if !o.output.isHuman() {
		return o.output.printDocument(o.Out, plan)
	}
	err := render.Plan(o.Out, plan, dryRunNote(o.dryRun))
	if err == nil && src != nil {
		_, err = fmt.Fprintf(o.Out, "Then: resubmit the application as job.batch/%s (created suspended before the fence, resumed once the old driver is gone)\n", src.App.Name)
	}
	return err
}

// decided says whether the plan ends here: refused (an error), nothing to do, or a client-side
// dry run.
func (o *FailoverOptions) decided(plan analysis.Plan) (bool, error) {
	switch plan.Outcome {
	case analysis.Refuse:
		return true, &failover.ErrRefused{Msg: plan.Message}
	case analysis.NothingToDo:
		return true, nil
	}
	return o.dryRun == cmdutil.DryRunClient, nil
}

// confirmFence asks once before any plan fences a node, unless --yes or a dry run.
func (o *FailoverOptions) confirmFence(plans []analysis.Plan) error {
	var fence *analysis.Step
	for _, p := range plans {
		if f := fenceStep(p); f != nil && fence == nil {
			fence = f
		}
	}
	// A server-side dry run changes nothing, so it needs no confirmation.
	if fence == nil || o.Yes || o.dryRun != cmdutil.DryRunNone {
		return nil
	}
	if o.confirm == nil {
		return fmt.Errorf("--node-down fences node %s and force-deletes every pod on it: confirm with --yes (there is no terminal to ask on)", fence.Node)
	}
	if !o.confirm(fmt.Sprintf("Fence node %s? Every pod on it is force-deleted and its volumes detached. Only do this if the machine is powered off or cut from its storage and network (a network partition is not enough: its containers keep writing). Type yes to continue: ", fence.Node)) {
		return fmt.Errorf("not confirmed: nothing was done")
	}
	return nil
}

// reconfirmAdded asks again when pods were scheduled on the node since the plan was shown.
func (o *FailoverOptions) reconfirmAdded(r *failover.Runner) {
	if o.Yes || o.confirm == nil {
		return
	}
	r.Reconfirm = func(node string, added []string) bool {
		return o.confirm(fmt.Sprintf("Since the plan, these pods were scheduled on node %s and the fence force-deletes them too: %s. Type yes to continue: ",
			node, strings.Join(added, ", ")))
	}
}

// waitDone waits for the plan's phases (--wait) and says how the failover ended.
func (o *FailoverOptions) waitDone(ctx context.Context, r *failover.Runner, plan analysis.Plan, app analysis.App) error {
	if !o.Wait || o.dryRun == cmdutil.DryRunServer {
		fmt.Fprintf(o.Out, "failover of %s/%s started%s\n", plan.Namespace, plan.App, dryRunNote(o.dryRun))
		return nil
	}
	if err := r.Wait(ctx, plan, app, o.Timeout); err != nil {
		var timeout *failover.TimeoutError
		if errors.As(err, &timeout) && timeout.Evidence != nil {
			var evidence bytes.Buffer
			_ = render.Tree(&evidence, &analysis.Report{Apps: []analysis.App{*timeout.Evidence}}, render.Options{Now: time.Now()})
			return fmt.Errorf("%w; the evidence:\n%s", err, strings.TrimRight(evidence.String(), "\n"))
		}
		return err
	}
	if plan.Verdict == analysis.ExecutorsOnLostNode {
		fmt.Fprintf(o.Out, "failover of %s/%s complete: its executors on %s are gone; the driver runs on and asks for new ones\n", plan.Namespace, plan.App, app.LostNode)
		return nil
	}
	fmt.Fprintf(o.Out, "failover of %s/%s complete: a new driver runs\n", plan.Namespace, plan.App)
	return nil
}

func fenceStep(p analysis.Plan) *analysis.Step {
	for i := range p.Steps {
		if p.Steps[i].Action == analysis.FenceNode {
			return &p.Steps[i]
		}
	}
	return nil
}

// forbiddenHint says which role a Forbidden error calls for: the API server's message names
// the verb and resource that were refused, this names the ClusterRole that grants them.
func forbiddenHint(err error) error {
	if err == nil || !apierrors.IsForbidden(err) {
		return err
	}
	return fmt.Errorf("%w; failover needs the permissions of the sparkha-failover ClusterRole, bound cluster-wide (see docs/rbac.yaml)", err)
}

// terminalConfirm asks a yes/no question on the terminal of streams; nil when there is no
// terminal to ask on (the caller then needs --yes).
func terminalConfirm(streams genericiooptions.IOStreams) func(question string) bool {
	if !(term.TTY{In: streams.In}).IsTerminalIn() {
		return nil
	}
	return func(question string) bool {
		fmt.Fprint(streams.ErrOut, question)
		line, _ := bufio.NewReader(streams.In).ReadString('\n')
		return strings.TrimSpace(line) == "yes"
	}
}
