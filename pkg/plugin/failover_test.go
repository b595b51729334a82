package plugin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/failover"
)

// runFailover runs failover on a snapshot captured on the sandbox (f2-node-dead: the driver of
// f2/stream on node-a, which died), through a fake clientset, at the capture's time, after
// mutate set its flags; it returns what it printed on stdout.
func runFailover(t *testing.T, mutate func(o *FailoverOptions)) (string, error) {
	t.Helper()
	client, now := fixtureClient(t, "f2-node-dead")
	streams, _, out, _ := genericiooptions.NewTestIOStreams()
	ns := "f2"
	flags := genericclioptions.NewConfigFlags(false)
	flags.Namespace = &ns
	o := NewFailoverOptions(flags, streams)
	o.client, o.dynamic, o.now, o.namespace = client, fixture.Dynamic(), func() time.Time { return now }, ns
	mutate(o)
	if err := o.Validate(); err != nil {
		return "", err
	}
	err := o.Run(context.Background())
	return out.String(), err
}

// TestFailoverCommand: the plan, refusals and confirmation of one app and of a node, without a
// cluster: what the command prints and returns before it would write.
func TestFailoverCommand(t *testing.T) {
	var refused *failover.ErrRefused
	out, err := runFailover(t, func(o *FailoverOptions) { o.App = "stream" })
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "refusing to fail over f2/stream") || out != "f2/stream (StuckTerminating): refused, nothing was done\n" {
		t.Errorf("without --node-down: %v\n%s", err, out)
	}
	out, err = runFailover(t, func(o *FailoverOptions) { o.App, o.NodeDown, o.dryRun = "stream", true, cmdutil.DryRunClient })
	if err != nil || !strings.Contains(out, "Failover plan for f2/stream (StuckTerminating) (dry run):") || !strings.Contains(out, "1. fence node node-a") {
		t.Errorf("--node-down --dry-run=client: %v\n%s", err, out)
	}
	// No terminal and no --yes: the fence is not confirmed, nothing is written.
	out, err = runFailover(t, func(o *FailoverOptions) { o.App, o.NodeDown = "stream", true })
	if err == nil || err.Error() != "--node-down fences node node-a and force-deletes every pod on it: confirm with --yes (there is no terminal to ask on)" {
		t.Errorf("--node-down without --yes: %v\n%s", err, out)
	}
	out, err = runFailover(t, func(o *FailoverOptions) {
		o.App, o.NodeDown = "stream", true
		o.confirm = func(string) bool { return false }
	})
	if err == nil || err.Error() != "not confirmed: nothing was done" {
		t.Errorf("not confirmed: %v\n%s", err, out)
	}

	// Every app of a node: one plan each, a refusal for all.
	out, err = runFailover(t, func(o *FailoverOptions) { o.Node, o.AllNamespaces = "node-a", true })
	if !errors.As(err, &refused) || !strings.HasPrefix(err.Error(), "refusing to act on node node-a for any app, since the fence would touch them all: f2/stream: refusing to fail over f2/stream") ||
		!strings.HasPrefix(out, "Node node-a: 1 apps\n") {
		t.Errorf("--node without --node-down: %v\n%s", err, out)
	}
	out, err = runFailover(t, func(o *FailoverOptions) { o.Node, o.NodeDown, o.dryRun = "node-a", true, cmdutil.DryRunClient })
	if err != nil || !strings.HasPrefix(out, "Node node-a: 1 apps (dry run)\n") || !strings.Contains(out, "1. fence node node-a") {
		t.Errorf("--node --node-down --dry-run=client: %v\n%s", err, out)
	}
	out, err = runFailover(t, func(o *FailoverOptions) { o.Node, o.NodeDown = "node-b", true })
	if err != nil || out != "nothing to fail over: no app in namespace f2 has node node-b as its lost node\n" {
		t.Errorf("a node no app lost: %v\n%q", err, out)
	}
}

// TestFailoverFlags: flag combinations refused before any request.
func TestFailoverFlags(t *testing.T) {
	for _, tt := range []struct {
		mutate func(o *FailoverOptions)
		want   string
	}{
		{func(o *FailoverOptions) {}, "missing APP: kubectl sparkha failover APP [-n NAMESPACE], or --node NODE [-A] for every app on a lost node"},
		{func(o *FailoverOptions) { o.App, o.Node = "stream", "node-a" }, "give either APP or --node NODE, not both"},
		{func(o *FailoverOptions) { o.Node, o.Resubmit = "node-a", true }, "--resubmit relaunches one app: run kubectl sparkha failover APP --node-down --resubmit for it, then --node node-a for the others"},
		{func(o *FailoverOptions) { o.App, o.AllNamespaces = "stream", true }, "-A/--all-namespaces only goes with --node NODE: give --node, or APP with -n NAMESPACE"},
		{func(o *FailoverOptions) { o.App, o.IgnoreNodeEvidence = "stream", true }, "--ignore-node-evidence only qualifies --node-down: add --node-down if the machine is down"},
		{func(o *FailoverOptions) { o.App, o.Timeout = "stream", 0 }, "invalid --timeout 0s: use a positive duration such as 5m"},
	} {
		if _, err := runFailover(t, tt.mutate); err == nil || err.Error() != tt.want {
			t.Errorf("error %v, want %q", err, tt.want)
		}
	}
}
