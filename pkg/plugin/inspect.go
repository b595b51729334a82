package plugin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubectl/pkg/util/term"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/render"
)

const inspectLong = `Show every Spark application's driver generations, where they run, what blocks them, and
the next safe action, in one view.

Drivers are recognised by Spark's labels (spark-role=driver) whatever created them: Jobs from
kubectl sparkha submit, plain driver Jobs, bare spark-submit driver pods and Spark operator
applications. Evidence comes from a fixed number of LIST calls (nodes, node leases, driver pods, executor pods,
Jobs, PVCs, PVs, VolumeAttachments, events, and medik8s's FenceAgentsRemediations and
SelfNodeRemediations where installed), never one request per object.

Verdicts:
  Healthy             one driver runs on a Ready node
  Starting            a driver is being created, scheduled or started
  Finished            the application completed
  DriverAtRisk        the driver's node is not Ready; the driver is not evicted yet
  ExecutorsOnLostNode the driver runs, but executors of it are on a lost node: Spark asks for no
                      others while their pods are in the API; fence the node once it is known down
  StuckTerminating    the old driver was deleted but only its unreachable node can confirm it stopped
  ReplacementBlocked  a new driver waits for a volume still attached to the lost node, or for a node
                      allowed to mount it (a local or zonal volume)
  SplitBrainRisk      two driver generations may run at once: act now
  SafeToComplete      the old driver is confirmed stopped (node rejoined or fenced); failover can finish
  StrayExecutors      executors of a gone, deleted or fenced driver still run on Ready nodes
  RetriesExhausted    the Job failed, or a bare driver pod failed: nothing starts a new driver

Exit status:
  0  every app is Healthy, Starting or Finished (and --watch, when interrupted)
  1  error (bad flags, cannot list driver pods)
  3  at least one app needs attention (any other verdict)

--watch lists each kind once, then follows the API server's watches (so it costs the cluster
the same however large it is), re-reads on every change and every --watch-interval, and
reprints when the report changes: a verdict, a driver, a node's state, a volume attachment,
an executor (not when only ages or heartbeats do). --no-headers prints only the table's rows, for scripts. -o json, yaml, jsonpath and
go-template print the report for scripts; it holds facts and timestamps, never ages, so an
unchanged cluster gives the same document from one second to the next.

If you may not list a cluster-scoped kind (nodes, PVs, VolumeAttachments), inspect still
answers with what it can see and says what it could not.`

const inspectExample = `  # Every Spark app in the current namespace
  kubectl sparkha inspect

  # Every Spark app in the cluster, with drivers, nodes and volume chains
  kubectl sparkha inspect -A -o wide

  # One app, as JSON for a script: {"apps": [{"namespace", "name", "verdict", "reason", "nextAction", "drivers": [...]}]}
  kubectl sparkha inspect clicks -n streaming -o json

  # The verdict of every app, one per line
  kubectl sparkha inspect -A -o jsonpath='{range .apps[*]}{.namespace}/{.name} {.verdict}{"\n"}{end}'

  # Apps with a driver on one node
  kubectl sparkha inspect -A --node worker-7

  # The incident of one app as a time line
  kubectl sparkha inspect clicks -n streaming --timeline

  # Reprint whenever something changes
  kubectl sparkha inspect -A --watch`

// InspectOptions holds the flags and clients of `kubectl sparkha inspect`.
type InspectOptions struct {
	configFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams

	App           string
	AllNamespaces bool
	Node          string
	NoHeaders     bool
	Watch         bool
	WatchInterval time.Duration
	Timeline      bool
	output        *outputFlags

	namespace string
	client    kubernetes.Interface
	dynamic   dynamic.Interface
	color     bool
	now       func() time.Time
}

// NewInspectOptions returns InspectOptions with defaults.
func NewInspectOptions(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *InspectOptions {
	return &InspectOptions{configFlags: configFlags, IOStreams: streams, WatchInterval: 2 * time.Second, now: time.Now, output: newOutputFlags("wide")}
}

// NewCmdInspect returns the `inspect` command.
func NewCmdInspect(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewInspectOptions(configFlags, streams)
	cmd := &cobra.Command{
		Use:               "inspect [APP]",
		Short:             "Show Spark drivers in trouble, the evidence and the next safe action",
		Long:              inspectLong,
		Example:           inspectExample,
		Args:              maxArgs(1),
		ValidArgsFunction: CompleteAppNames(configFlags),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return usage(cmd, err)
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", o.AllNamespaces, "Inspect Spark apps in every namespace.")
	f.StringVar(&o.Node, "node", o.Node, "Only apps with a driver on this node.")
	o.output.addFlags(cmd, "a table, one line per app")
	f.BoolVar(&o.NoHeaders, "no-headers", o.NoHeaders, "Print the table without its header.")
	f.BoolVarP(&o.Watch, "watch", "w", o.Watch, "Keep inspecting and reprint whenever the result changes (Ctrl-C to stop).")
	f.DurationVar(&o.WatchInterval, "watch-interval", o.WatchInterval, "How often --watch re-reads the watched evidence when nothing changed (rules of time, such as a driver terminating too long).")
	f.BoolVar(&o.Timeline, "timeline", o.Timeline, "Show the incident of APP as a time line: node NotReady, taints, eviction, replacement, volume errors, rejoin, recovery.")
	mustRegister(RegisterNodeCompletion(cmd, configFlags))
	return cmd
}

// Complete resolves the namespace.
func (o *InspectOptions) Complete(args []string) error {
	if len(args) == 1 {
		o.App = args[0]
	}
	var err error
	if o.namespace, _, err = o.configFlags.ToRawKubeConfigLoader().Namespace(); err != nil {
		return err
	}
	if o.AllNamespaces {
		o.namespace = ""
	}
	o.color = os.Getenv("NO_COLOR") == "" && term.TTY{Out: o.Out}.IsTerminalOut()
	return nil
}

// Validate checks the flags without I/O.
func (o *InspectOptions) Validate() error {
	if err := o.output.validate(); err != nil {
		return err
	}
	if o.Timeline && o.App == "" {
		return fmt.Errorf("--timeline needs an APP: kubectl sparkha inspect APP --timeline")
	}
	if o.Timeline && o.Watch {
		return fmt.Errorf("--timeline and --watch cannot be combined: rerun --timeline to see new moments")
	}
	if o.WatchInterval < 100*time.Millisecond {
		return fmt.Errorf("invalid --watch-interval %s: use at least 100ms", o.WatchInterval)
	}
	return nil
}

// Run gathers, analyses and prints; with --watch it keeps the evidence current through
// watches (inspect.Watch) and reprints when the report changes, until the context ends.
func (o *InspectOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	// The client is made once the flags are valid (see FailoverOptions.Run).
	if o.client == nil {
		var err error
		if o.client, o.dynamic, err = newClients(o.configFlags, o.ErrOut); err != nil {
			return err
		}
	}
	if !o.Watch {
		now := o.now()
		q := o.query()
		q.Now = func() time.Time { return now }
		report, snap, err := inspect.Inspect(ctx, o.client, o.dynamic, q)
		if err != nil {
			return err
		}
		r, err := o.render(report, snap, now)
		if err != nil {
			return err
		}
		if err := r.print(o.IOStreams); err != nil {
			return err
		}
		if r.attention {
			return errNeedsAttention
		}
		return nil
	}
	w, err := inspect.Watch(ctx, o.client, o.dynamic, o.query())
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	var last string
	tick := time.NewTicker(o.WatchInterval)
	defer tick.Stop()
	for {
		// Rules of time (a driver terminating too long) change verdicts without an event:
		// the report is read again every --watch-interval too, from the watch caches.
		now := o.now()
		report, snap, err := w.Inspect(now)
		var r rendering
		if err == nil {
			r, err = o.render(report, snap, now)
		}
		switch {
		case err != nil:
			fmt.Fprintf(o.ErrOut, "%s: %v (retrying)\n", now.Format("15:04:05"), err)
		case r.state != last:
			if last != "" {
				fmt.Fprintln(o.Out)
			}
			fmt.Fprintf(o.ErrOut, "--- %s\n", now.Format("15:04:05"))
			if err := r.print(o.IOStreams); err != nil {
				return err
			}
			last = r.state
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.Changed():
		case <-tick.C:
		}
	}
}

// query is what the flags ask for.
func (o *InspectOptions) query() inspect.Query {
	return inspect.Query{Namespace: o.namespace, App: o.App, Node: o.Node, AllEvents: o.Timeline}
}

// rendering is one inspection, ready to print.
type rendering struct {
	out       []byte
	warning   string // for stderr
	attention bool
	// state identifies what the report says (analysis.Report.State), for --watch.
	state string
}

func (r rendering) print(s genericiooptions.IOStreams) error {
	if r.warning != "" {
		fmt.Fprintln(s.ErrOut, r.warning)
	}
	_, err := s.Out.Write(r.out)
	return err
}

// render prints one report, in the format of the flags.
func (o *InspectOptions) render(report *analysis.Report, snap *analysis.Snapshot, now time.Time) (rendering, error) {
	var r rendering
	for _, a := range report.Apps {
		r.attention = r.attention || a.Verdict.NeedsAttention()
	}
	var err error
	if r.state, err = report.State(); err != nil {
		return r, err
	}
	var buf bytes.Buffer
	ropts := render.Options{AllNamespaces: o.AllNamespaces, NoHeaders: o.NoHeaders, Color: o.color, Now: now}
	switch {
	case o.Timeline:
		err = render.Timeline(&buf, analysis.Timeline(snap, report.Apps[0]))
	case !o.output.isHuman():
		err = o.output.printDocument(&buf, report)
	case len(report.Apps) == 0:
		r.warning = o.nothingFound() // the table and -o wide; json and yaml say "apps": []
	case o.output.Format == "wide":
		err = render.Tree(&buf, report, ropts)
	default:
		err = render.Table(&buf, report, ropts)
		if len(report.Unavailable) > 0 {
			r.warning = fmt.Sprintf("warning: partial answer, not visible with your permissions: %v", report.Unavailable)
		}
	}
	r.out = buf.Bytes()
	return r, err
}

// nothingFound says where inspect looked and found no driver.
func (o *InspectOptions) nothingFound() string {
	where := "in namespace " + o.namespace
	if o.AllNamespaces {
		where = "in any namespace"
	}
	if o.Node != "" {
		where = "on node " + o.Node + " " + where
	}
	return "No Spark drivers found " + where + "."
}
