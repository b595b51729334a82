// Package plugin holds the cobra commands of `kubectl sparkha`. Commands only wire flags,
// clients and printers; the decisions live in the packages they call (pkg/submit, ...).
package plugin

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	// Client auth plugins (exec, OIDC) so every kubeconfig kubectl accepts works here too.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

const rootLong = `kubectl sparkha runs Apache Spark drivers as partition-safe Kubernetes Jobs.

spark-submit creates the Spark driver as a bare Pod: when its node is lost, the application
is lost. kubectl sparkha submits the driver as a batch/v1 Job instead, so Kubernetes starts a
new driver generation after a node loss, and configures that Job so that two drivers never run
at the same time, whatever the checkpoint storage is.`

const rootExample = `  # Submit a streaming application with a new 10Gi checkpoint volume
  kubectl sparkha submit clicks --image apache/spark:4.0.0 \
    --class com.example.Clicks --checkpoint-size 10Gi local:///opt/app/clicks.jar

  # Print what would be created, without creating anything
  kubectl sparkha submit clicks --image apache/spark:4.0.0 \
    --class com.example.Clicks local:///opt/app/clicks.jar --dry-run=client -o yaml

  # Show the plugin version
  kubectl sparkha version`

// NewCmdRoot returns the root command `kubectl sparkha` with all its subcommands.
func NewCmdRoot(streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdRoot(streams, nil)
}

// newCmdRoot lets tests adjust the submit options (fake client, fixed application ID).
func newCmdRoot(streams genericiooptions.IOStreams, customizeSubmit func(*SubmitOptions)) *cobra.Command {
	configFlags := genericclioptions.NewConfigFlags(true)

	cmd := &cobra.Command{
		Use:     "kubectl-sparkha",
		Short:   "Run Spark drivers as partition-safe Kubernetes Jobs",
		Long:    rootLong,
		Example: rootExample,
		// Errors are printed once, in kubectl's form, by Run, which maps them to exit codes;
		// cobra prints neither errors nor the usage on error, for any subcommand.
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl sparkha",
		},
		// The root command does nothing itself; without a subcommand cobra prints the help.
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	configFlags.AddFlags(cmd.PersistentFlags())
	// Subcommands inherit it: a flag error is a usage error, printed by Run.
	cmd.SetFlagErrorFunc(flagError)

	cmd.AddCommand(NewCmdVersion(streams))
	submitOptions := NewSubmitOptions(configFlags, streams)
	if customizeSubmit != nil {
		customizeSubmit(submitOptions)
	}
	cmd.AddCommand(newCmdSubmit(submitOptions))
	cmd.AddCommand(NewCmdInspect(configFlags, streams))
	cmd.AddCommand(NewCmdFailover(configFlags, streams))
	cmd.AddCommand(NewCmdMigrate(configFlags, streams))
	cmd.AddCommand(NewCmdRelease(configFlags, streams))
	cmd.AddCommand(NewCmdCompletion(streams))
	registerCompletions(cmd, configFlags)
	return cmd
}
