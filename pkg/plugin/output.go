package plugin

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// outputFlags is the -o flag of inspect, failover and version: cli-runtime's printers for the
// machine formats (json, yaml, kyaml, jsonpath, go-template and their -file forms, with
// --template and --allow-missing-template-keys, as kubectl get has them), plus the human
// formats a command prints itself ("" for its default, "wide" for inspect). submit prints
// Kubernetes objects and uses genericclioptions.PrintFlags whole, name printer included.
type outputFlags struct {
	// Format is the value of -o.
	Format string
	human  []string
	print  *genericclioptions.PrintFlags
}

func newOutputFlags(human ...string) *outputFlags {
	f := &outputFlags{human: append([]string{""}, human...)}
	f.print = &genericclioptions.PrintFlags{
		JSONYamlPrintFlags:   genericclioptions.NewJSONYamlPrintFlags(),
		TemplatePrinterFlags: genericclioptions.NewKubeTemplatePrintFlags(),
		OutputFormat:         &f.Format,
	}
	return f
}

// formats are the values -o accepts.
func (f *outputFlags) formats() []string {
	return append(slices.Clone(f.human[1:]), f.print.AllowedFormats()...)
}

func (f *outputFlags) addFlags(cmd *cobra.Command, defaultHelp string) {
	cmd.Flags().StringVarP(&f.Format, "output", "o", f.Format,
		fmt.Sprintf("Output format. One of: (%s). Default: %s.", strings.Join(f.formats(), ", "), defaultHelp))
	f.print.TemplatePrinterFlags.AddFlags(cmd)
	f.print.OutputFlagSpecified = func() bool { return cmd.Flag("output").Changed }
	mustRegister(cmd.RegisterFlagCompletionFunc("output", fixedCompletion(f.formats()...)))
}

// isHuman says whether the command prints this format itself.
func (f *outputFlags) isHuman() bool {
	if slices.Contains(f.human, f.Format) {
		// --template without -o asks for a go-template, as in kubectl get.
		t := f.print.TemplatePrinterFlags.TemplateArgument
		return f.Format != "" || t == nil || *t == ""
	}
	return false
}

// validate checks -o without printing anything.
func (f *outputFlags) validate() error {
	if f.isHuman() {
		return nil
	}
	_, err := f.print.ToPrinter()
	if genericclioptions.IsNoCompatiblePrinterError(err) {
		return fmt.Errorf("invalid --output %q: use one of %s, or leave it out", f.Format, strings.Join(f.formats(), ", "))
	}
	return err
}

// printDocument prints v (a report, a plan, a version: plain Go values with JSON tags) in the
// machine format of -o. It reaches cli-runtime's printers as a runtime.Unknown holding its
// JSON, which they print as given (indented, converted to YAML, or queried): our documents
// are not Kubernetes objects and carry no apiVersion or kind.
func (f *outputFlags) printDocument(w io.Writer, v any) error {
	p, err := f.print.ToPrinter()
	if err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return p.PrintObj(&runtime.Unknown{Raw: raw, ContentType: runtime.ContentTypeJSON}, w)
}
