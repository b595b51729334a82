package plugin

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/version"
)

const versionLong = `Print the version, git commit and build date of kubectl sparkha.

Release builds stamp these values at link time; a plain "go build" reports version "dev".`

const versionExample = `  # Print the version
  kubectl sparkha version

  # Print the version as JSON, e.g. for a bug report or a script
  kubectl sparkha version -o json`

// VersionOptions holds the flags of `kubectl sparkha version`.
type VersionOptions struct {
	output *outputFlags

	genericiooptions.IOStreams
}

// NewVersionOptions returns VersionOptions with defaults.
func NewVersionOptions(streams genericiooptions.IOStreams) *VersionOptions {
	return &VersionOptions{IOStreams: streams, output: newOutputFlags()}
}

// NewCmdVersion returns the `version` command.
func NewCmdVersion(streams genericiooptions.IOStreams) *cobra.Command {
	o := NewVersionOptions(streams)
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the version of kubectl sparkha",
		Long:    versionLong,
		Example: versionExample,
		Args:    maxArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return usage(cmd, err)
			}
			return o.Run()
		},
	}
	o.output.addFlags(cmd, "plain text")
	return cmd
}

// Complete has nothing to derive for version; it exists for the common command shape.
func (o *VersionOptions) Complete() error { return nil }

// Validate checks the output format.
func (o *VersionOptions) Validate() error { return o.output.validate() }

// Run prints the build information.
func (o *VersionOptions) Run() error {
	info := version.Get()
	if !o.output.isHuman() {
		return o.output.printDocument(o.Out, info)
	}
	_, err := fmt.Fprintf(o.Out, "kubectl-sparkha %s (commit %s, built %s, %s, %s)\n",
		info.Version, info.Commit, info.Date, info.GoVersion, info.Platform)
	return err
}
