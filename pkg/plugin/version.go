package plugin

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

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
	Output string

	genericiooptions.IOStreams
}

// NewVersionOptions returns VersionOptions with defaults.
func NewVersionOptions(streams genericiooptions.IOStreams) *VersionOptions {
	return &VersionOptions{IOStreams: streams}
}

// NewCmdVersion returns the `version` command.
func NewCmdVersion(streams genericiooptions.IOStreams) *cobra.Command {
	o := NewVersionOptions(streams)
	cmd := &cobra.Command{
		Use:          "version",
		Short:        "Print the version of kubectl sparkha",
		Long:         versionLong,
		Example:      versionExample,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "Output format. One of: (json, yaml). Default: plain text.")
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"json", "yaml"}, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// Complete has nothing to derive for version; it exists for the common command shape.
func (o *VersionOptions) Complete() error { return nil }

// Validate checks the output format.
func (o *VersionOptions) Validate() error {
	switch o.Output {
	case "", "json", "yaml":
		return nil
	}
	return fmt.Errorf("invalid --output %q: use json or yaml, or leave it out for plain text", o.Output)
}

// Run prints the build information.
func (o *VersionOptions) Run() error {
	info := version.Get()
	switch o.Output {
	case "json":
		b, err := json.MarshalIndent(info, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(o.Out, "%s\n", b)
		return err
	case "yaml":
		b, err := yaml.Marshal(info)
		if err != nil {
			return err
		}
		_, err = o.Out.Write(b)
		return err
	}
	_, err := fmt.Fprintf(o.Out, "kubectl-sparkha %s (commit %s, built %s, %s, %s)\n",
		info.Version, info.Commit, info.Date, info.GoVersion, info.Platform)
	return err
}
