package plugin

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/failover"
)

const releaseLong = `Lift the fence from a repaired node: remove the node.kubernetes.io/out-of-service taint that
kubectl sparkha failover --node-down put on it, so pods may run there again.

release refuses while the node is not Ready: a node still down must keep its pods off it. It
refuses a taint that kubectl sparkha did not put there (the node's sparkha.io/last-failover
annotation records each fence): whoever fenced the node decides when it ends. It says on
stderr which pods and volume attachments it found on the node. It records who lifted the
fence, and when, in the node's sparkha.io/last-failover annotation and in an Event. It is the
opposite of failover --node-down, as kubectl uncordon is of drain.

Exit status:
  0  released, or the node was not fenced
  1  error
  4  refused: the node is not Ready, or its fence is not kubectl sparkha's`

const releaseExample = `  # The machine behind worker-7 is repaired and its kubelet reports Ready: lift the fence
  kubectl sparkha release worker-7

  # Show what would be done
  kubectl sparkha release worker-7 --dry-run=server`

// ReleaseOptions holds the flags and clients of `kubectl sparkha release`.
type ReleaseOptions struct {
	configFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams

	Node string

	dryRun cmdutil.DryRunStrategy
	client kubernetes.Interface
}

// NewCmdRelease returns the `release NODE` command.
func NewCmdRelease(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &ReleaseOptions{configFlags: configFlags, IOStreams: streams}
	cmd := &cobra.Command{
		Use:               "release NODE",
		Short:             "Lift the fence of failover --node-down from a repaired node that is Ready again",
		Long:              releaseLong,
		Example:           releaseExample,
		Args:              maxArgs(1),
		ValidArgsFunction: completeFirstArg(completeNames(clientFromFlags(configFlags), listNodes)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{err: fmt.Errorf("missing NODE: kubectl sparkha release NODE"), command: cmd.CommandPath()}
			}
			o.Node = args[0]
			var err error
			if o.dryRun, err = cmdutil.GetDryRunStrategy(cmd); err != nil {
				return err
			}
			return forbiddenHint(o.Run(cmd.Context()))
		},
	}
	cmdutil.AddDryRunFlag(cmd)
	return cmd
}

// Run lifts the fence.
func (o *ReleaseOptions) Run(ctx context.Context) error {
	if o.dryRun == cmdutil.DryRunClient {
		fmt.Fprintf(o.Out, "would remove the %s taint from node %s if it is Ready (dry run)\n", corev1.TaintNodeOutOfService, o.Node)
		return nil
	}
	if o.client == nil {
		var err error
		if o.client, err = newClient(o.configFlags, o.ErrOut); err != nil {
			return err
		}
	}
	r := &failover.Runner{Client: o.client, DryRun: o.dryRun == cmdutil.DryRunServer}
	released, checked, err := r.Release(ctx, o.Node)
	if checked != nil {
		fmt.Fprintf(o.ErrOut, "checked node %s: pods %s; volume attachments %s\n", o.Node, listOrNone(checked.Pods), listOrNone(checked.VolumeAttachments))
	}
	if err != nil {
		return err
	}
	if !released {
		fmt.Fprintf(o.Out, "node/%s is not fenced: nothing to release\n", o.Node)
		return nil
	}
	fmt.Fprintf(o.Out, "node/%s released%s\n", o.Node, dryRunNote(o.dryRun))
	return nil
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}
