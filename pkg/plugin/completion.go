package plugin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
)

const completionLong = `Print a shell completion script for kubectl sparkha.

Through kubectl (kubectl 1.26 or later): "kubectl sparkha <TAB>" completes when kubectl's own
completion is set up (see "kubectl completion --help") and the executable
kubectl_complete-sparkha is on PATH. It ships next to kubectl-sparkha in every release archive
(make completion-bin builds it from source); krew installs it but cannot put it on PATH (krew
issue #812), so copy it once from the installed version's directory (it runs whichever
kubectl-sparkha is on PATH, so the copy keeps working after kubectl krew upgrade):

    ` + CompletionCopyCommand + `

(on Windows, copy %USERPROFILE%\.krew\store\sparkha\VERSION\kubectl_complete-sparkha.exe to a
directory on PATH). Nothing else is needed: kubectl calls it to complete the plugin's commands,
flags, app, namespace and node names.

For the executable itself ("kubectl-sparkha <TAB>"), load the script this command prints:

Bash (needs the bash-completion package):

    source <(kubectl sparkha completion bash)
    # every new shell:
    kubectl sparkha completion bash > ~/.local/share/bash-completion/completions/kubectl-sparkha

Zsh:

    source <(kubectl sparkha completion zsh)
    # every new shell (the directory must be on $fpath before compinit):
    kubectl sparkha completion zsh > "${fpath[1]}/_kubectl-sparkha"

Fish:

    kubectl sparkha completion fish > ~/.config/fish/completions/kubectl-sparkha.fish

PowerShell:

    kubectl sparkha completion powershell | Out-String | Invoke-Expression
    # every new shell: add the line above to $PROFILE`

const completionExample = `  # Load completion for kubectl-sparkha into the current bash shell
  source <(kubectl sparkha completion bash)

  # Install the zsh completion for every new shell
  kubectl sparkha completion zsh > "${fpath[1]}/_kubectl-sparkha"`

// CompletionCopyCommand copies the completion shim krew installed to ~/.local/bin; README.md
// gives the same command (a test keeps them in step).
const CompletionCopyCommand = `cp "${KREW_ROOT:-$HOME/.krew}"/store/sparkha/$(kubectl sparkha version -o json | sed -n 's/.*"version": "\(.*\)".*/\1/p')/kubectl_complete-sparkha ~/.local/bin/`

// completionShells are the shells `completion` generates a script for.
var completionShells = []string{"bash", "zsh", "fish", "powershell"}

// NewCmdCompletion returns the `completion SHELL` command. It replaces cobra's default
// completion command so the help says how completion works through kubectl.
func NewCmdCompletion(streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:                   "completion SHELL",
		Short:                 "Print the shell completion script for bash, zsh, fish or powershell",
		Long:                  completionLong,
		Example:               completionExample,
		DisableFlagsInUseLine: true,
		ValidArgs:             completionShells,
		RunE: func(cmd *cobra.Command, args []string) error {
			{
				valid := strings.Join(completionShells, ", ")
				if len(args) != 1 {
					return fmt.Errorf("completion needs one shell, one of %s: e.g. kubectl sparkha completion bash", valid)
				}
				root, out := cmd.Root(), streams.Out
				switch args[0] {
				case "bash":
					return root.GenBashCompletionV2(out, true)
				case "zsh":
					return root.GenZshCompletion(out)
				case "fish":
					return root.GenFishCompletion(out, true)
				case "powershell":
					return root.GenPowerShellCompletionWithDesc(out)
				}
				return fmt.Errorf("unsupported shell %q: use one of %s", args[0], valid)
			}
		},
	}
}

// completionTimeout bounds the API calls of one completion request: a <TAB> must never hang
// on an unreachable cluster.
const completionTimeout = 5 * time.Second

// clientFunc returns a client and the namespace of the current context (or of -n).
type clientFunc func() (kubernetes.Interface, string, error)

// newCompletionClient builds the client completion functions query from kubectl's flags.
// Tests replace it with one returning a fake clientset.
var newCompletionClient = func(f genericclioptions.RESTClientGetter) (kubernetes.Interface, error) {
	return newClient(f, nil)
}

func clientFromFlags(f genericclioptions.RESTClientGetter) clientFunc {
	return func() (kubernetes.Interface, string, error) {
		namespace, _, err := f.ToRawKubeConfigLoader().Namespace()
		if err != nil {
			return nil, "", err
		}
		c, err := newCompletionClient(f)
		return c, namespace, err
	}
}

// lister returns the names of one kind of object; namespace is the one of the command line.
type lister func(ctx context.Context, c kubernetes.Interface, namespace string) ([]string, error)

// completeNames turns a lister into a cobra completion function: names starting with what the
// user typed, sorted, never files. Errors (no kubeconfig, unreachable cluster, forbidden) give
// no completions; cobra's debug log (BASH_COMP_DEBUG_FILE) says why.
func completeNames(client clientFunc, list lister) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		c, namespace, err := client()
		if err != nil {
			cobra.CompDebugln("kubectl sparkha completion: "+err.Error(), false)
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx := context.Background()
		if cmd != nil && cmd.Context() != nil {
			ctx = cmd.Context()
		}
		ctx, cancel := context.WithTimeout(ctx, completionTimeout)
		defer cancel()
		names, err := list(ctx, c, namespace)
		if err != nil {
			cobra.CompDebugln("kubectl sparkha completion: "+err.Error(), false)
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return filterPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// filterPrefix returns the distinct names starting with prefix, sorted.
func filterPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if n != "" && strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// CompleteAppNames completes the APP argument of commands such as `inspect APP` and
// `failover APP`: the names of the Spark apps in the namespace of the command line. It only
// completes the first positional argument.
//
//	cmd.ValidArgsFunction = plugin.CompleteAppNames(configFlags)
func CompleteAppNames(f genericclioptions.RESTClientGetter) cobra.CompletionFunc {
	return completeFirstArg(completeNames(clientFromFlags(f), listAppNames))
}

func completeFirstArg(complete cobra.CompletionFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return complete(cmd, args, toComplete)
	}
}

// listAppNames returns the app names of a namespace, as inspect and failover name them
// (sparkapp.AppOfPod, AppOfJob): from sparkha's and other driver Jobs, spark-submit's bare
// driver pods and the Spark operator's.
func listAppNames(ctx context.Context, c kubernetes.Interface, namespace string) ([]string, error) {
	apps, err := inspect.Apps(ctx, c, namespace)
	var names []string
	for _, a := range apps {
		names = append(names, a.Name)
	}
	return names, err
}

// objectNames returns the names of the objects a LIST returned.
func objectNames(list runtime.Object, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	var names []string
	err = meta.EachListItem(list, func(o runtime.Object) error {
		m, err := meta.Accessor(o)
		if err != nil {
			return err
		}
		names = append(names, m.GetName())
		return nil
	})
	return names, err
}

func listNamespaces(ctx context.Context, c kubernetes.Interface, _ string) ([]string, error) {
	return objectNames(c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}))
}

func listNodes(ctx context.Context, c kubernetes.Interface, _ string) ([]string, error) {
	return objectNames(c.CoreV1().Nodes().List(ctx, metav1.ListOptions{}))
}

func listServiceAccounts(ctx context.Context, c kubernetes.Interface, namespace string) ([]string, error) {
	return objectNames(c.CoreV1().ServiceAccounts(namespace).List(ctx, metav1.ListOptions{}))
}

func listClaims(ctx context.Context, c kubernetes.Interface, namespace string) ([]string, error) {
	return objectNames(c.CoreV1().PersistentVolumeClaims(namespace).List(ctx, metav1.ListOptions{}))
}

func listStorageClasses(ctx context.Context, c kubernetes.Interface, _ string) ([]string, error) {
	return objectNames(c.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{}))
}

// RegisterNodeCompletion completes the values of cmd's --node flag with the cluster's node
// names. The flag must be defined on cmd first.
func RegisterNodeCompletion(cmd *cobra.Command, f genericclioptions.RESTClientGetter) error {
	return cmd.RegisterFlagCompletionFunc("node", completeNames(clientFromFlags(f), listNodes))
}

// registerCompletions adds the completion of kubectl's connection flags to the root command
// (namespaces from the cluster; contexts, clusters and users from the kubeconfig) and of the
// submit flags that name cluster objects.
func registerCompletions(root *cobra.Command, f *genericclioptions.ConfigFlags) {
	client := clientFromFlags(f)
	mustRegister(root.RegisterFlagCompletionFunc("namespace", completeNames(client, listNamespaces)))
	kubeconfig := func(names func(f *genericclioptions.ConfigFlags) ([]string, error)) cobra.CompletionFunc {
		return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			list, err := names(f)
			if err != nil {
				cobra.CompDebugln("kubectl sparkha completion: "+err.Error(), false)
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return filterPrefix(list, toComplete), cobra.ShellCompDirectiveNoFileComp
		}
	}
	mustRegister(root.RegisterFlagCompletionFunc("context", kubeconfig(func(f *genericclioptions.ConfigFlags) ([]string, error) {
		config, err := f.ToRawKubeConfigLoader().RawConfig()
		return keys(config.Contexts), err
	})))
	mustRegister(root.RegisterFlagCompletionFunc("cluster", kubeconfig(func(f *genericclioptions.ConfigFlags) ([]string, error) {
		config, err := f.ToRawKubeConfigLoader().RawConfig()
		return keys(config.Clusters), err
	})))
	mustRegister(root.RegisterFlagCompletionFunc("user", kubeconfig(func(f *genericclioptions.ConfigFlags) ([]string, error) {
		config, err := f.ToRawKubeConfigLoader().RawConfig()
		return keys(config.AuthInfos), err
	})))

	if sub, _, err := root.Find([]string{"submit"}); err == nil && sub != root {
		for flag, list := range map[string]lister{
			"service-account":          listServiceAccounts,
			"checkpoint-claim":         listClaims,
			"checkpoint-storage-class": listStorageClasses,
		} {
			mustRegister(sub.RegisterFlagCompletionFunc(flag, completeNames(client, list)))
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// fixedCompletion completes a flag's value from a fixed list.
func fixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// mustRegister panics when a completion is registered on a flag the command does not have:
// a programming error, caught by any test that builds the commands (TestCompletionsRegistered).
func mustRegister(err error) {
	if err != nil {
		panic(err)
	}
}
