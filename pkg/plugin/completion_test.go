package plugin

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// completionCluster holds apps in two namespaces, in the shapes the completion must tell apart.
func completionCluster() *fake.Clientset {
	managed := map[string]string{"app.kubernetes.io/managed-by": "kubectl-sparkha"}
	label := func(base map[string]string, kv ...string) map[string]string {
		l := map[string]string{}
		for k, v := range base {
			l[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			l[kv[i]] = kv[i+1]
		}
		return l
	}
	objects := []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "streaming"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system"}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-b"}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "gpu-1"}},
		// Jobs kubectl sparkha created: the app is the Job (its spark-app-name label agrees).
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "clicks", Namespace: "streaming",
			Labels: label(managed, "spark-app-name", "clicks")}},
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "clickstream-sessions", Namespace: "streaming",
			Labels: label(managed, "spark-app-name", "clickstream-sessions")}},
		// Without the label (edited by hand) the app is still the Job.
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "streaming", Labels: label(managed)}},
		// A Job of some other tool: not an app.
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "backup", Namespace: "streaming"}},
		// The driver pod of a sparkha Job (same app, listed once) and of a hand-written
		// driver Job and a spark-submit driver (apps sparkha did not create).
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "clicks-x7k2p", Namespace: "streaming",
			Labels: label(managed, "spark-role", "driver", "spark-app-name", "clicks")}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "legacy-abcde", Namespace: "streaming",
			Labels: map[string]string{"spark-role": "driver", "spark-app-name": "legacy"}}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pi-driver", Namespace: "streaming",
			Labels: map[string]string{"spark-role": "driver", "spark-app-name": "spark-pi"}}},
		// Executors name no app; a driver pod without Spark's name labels is its own app, as
		// inspect names it.
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "clicks-exec-1", Namespace: "streaming",
			Labels: map[string]string{"spark-role": "executor", "spark-app-name": "executor-only"}}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "anonymous-driver", Namespace: "streaming",
			Labels: map[string]string{"spark-role": "driver"}}},
		// A hand-written driver Job whose pods' spark-app-name label says otherwise: the app is
		// the Job, which recreates the driver and which failover acts on.
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "sessionize", Namespace: "streaming"},
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{
				Labels: map[string]string{"spark-role": "driver", "spark-app-name": "sessions"}}}}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "sessionize-q2w3e", Namespace: "streaming",
			Labels:          map[string]string{"spark-role": "driver", "spark-app-name": "sessions"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "sessionize", Controller: ptr.To(true)}}}},
		// Another namespace.
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: "default",
			Labels: label(managed, "spark-app-name", "nightly")}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "spark", Namespace: "streaming"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "streaming"}},
		&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "clicks-checkpoint", Namespace: "streaming"}},
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "fast-ssd"}},
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard"}},
	}
	return fake.NewClientset(objects...)
}

func fixedClient(c kubernetes.Interface, namespace string) clientFunc {
	return func() (kubernetes.Interface, string, error) { return c, namespace, nil }
}

func TestCompletionFunctions(t *testing.T) {
	c := completionCluster()
	tests := []struct {
		name       string
		complete   cobra.CompletionFunc
		args       []string
		toComplete string
		want       []string
	}{
		{"apps: as inspect names them, deduplicated, sorted", completeNames(fixedClient(c, "streaming"), listAppNames),
			nil, "", []string{"anonymous-driver", "clicks", "clickstream-sessions", "legacy", "orders", "sessionize", "spark-pi"}},
		{"apps: prefix", completeNames(fixedClient(c, "streaming"), listAppNames),
			nil, "click", []string{"clicks", "clickstream-sessions"}},
		{"apps: other namespace", completeNames(fixedClient(c, "default"), listAppNames),
			nil, "", []string{"nightly"}},
		{"apps: empty namespace", completeNames(fixedClient(c, "empty"), listAppNames),
			nil, "", nil},
		{"apps: first argument only", completeFirstArg(completeNames(fixedClient(c, "streaming"), listAppNames)),
			[]string{"clicks"}, "", nil},
		{"namespaces", completeNames(fixedClient(c, "streaming"), listNamespaces),
			nil, "", []string{"default", "kube-system", "streaming"}},
		{"namespaces: prefix", completeNames(fixedClient(c, "streaming"), listNamespaces),
			nil, "kube", []string{"kube-system"}},
		{"nodes", completeNames(fixedClient(c, "streaming"), listNodes),
			nil, "node-", []string{"node-a", "node-b"}},
		{"service accounts", completeNames(fixedClient(c, "streaming"), listServiceAccounts),
			nil, "", []string{"default", "spark"}},
		{"claims", completeNames(fixedClient(c, "streaming"), listClaims),
			nil, "", []string{"clicks-checkpoint"}},
		{"storage classes", completeNames(fixedClient(c, "streaming"), listStorageClasses),
			nil, "f", []string{"fast-ssd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, directive := tt.complete(&cobra.Command{}, tt.args, tt.toComplete)
			if !slices.Equal(got, tt.want) {
				t.Errorf("completions = %q, want %q", got, tt.want)
			}
			if directive != cobra.ShellCompDirectiveNoFileComp {
				t.Errorf("directive = %d, want ShellCompDirectiveNoFileComp", directive)
			}
		})
	}
}

// Errors never reach the shell: no completions, and no file names either.
func TestCompletionErrors(t *testing.T) {
	forbidden := completionCluster()
	forbidden.PrependReactor("list", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: a.GetResource().Resource}, "", errors.New("RBAC"))
	})
	noClient := func() (kubernetes.Interface, string, error) { return nil, "", errors.New("no configuration") }
	for name, complete := range map[string]cobra.CompletionFunc{
		"forbidden": completeNames(fixedClient(forbidden, "streaming"), listAppNames),
		"no client": completeNames(noClient, listNodes),
	} {
		t.Run(name, func(t *testing.T) {
			got, directive := complete(&cobra.Command{}, nil, "")
			if got != nil || directive != cobra.ShellCompDirectiveNoFileComp {
				t.Errorf("got %q, %d; want no completions and ShellCompDirectiveNoFileComp", got, directive)
			}
		})
	}
}

// useFakeCompletionClient makes the completion functions of the commands use c.
func useFakeCompletionClient(t *testing.T, c kubernetes.Interface) {
	t.Helper()
	saved := newCompletionClient
	newCompletionClient = func(genericclioptions.RESTClientGetter) (kubernetes.Interface, error) { return c, nil }
	t.Cleanup(func() { newCompletionClient = saved })
}

// runRoot runs `kubectl-sparkha ARGS...` with test streams and a kubeconfig with two contexts.
func runRoot(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://prod.example.com"}
- name: staging
  cluster: {server: "https://staging.example.com"}
users:
- name: alice
  user: {token: t}
contexts:
- name: prod
  context: {cluster: prod, user: alice, namespace: streaming}
- name: staging
  context: {cluster: staging, user: alice}
current-context: prod
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kubeconfig)
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	root := NewCmdRoot(streams)
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

// TestCompleteCommand drives cobra's hidden __complete command, which is what the shell scripts
// and kubectl_complete-sparkha call: one completion a line, then :DIRECTIVE.
func TestCompleteCommand(t *testing.T) {
	useFakeCompletionClient(t, completionCluster())
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"subcommands", []string{""}, "completion\tPrint the shell completion script for bash, zsh, fish or powershell\n" +
			"failover\tFinish a driver failover safely, or refuse while the old driver may run\n" +
			"help\tHelp about any command\n" +
			"inspect\tShow Spark drivers in trouble, the evidence and the next safe action\n" +
			"migrate\tMove a running spark-submit or Spark operator application onto a sparkha Job\n" +
			"release\tLift the fence of failover --node-down from a repaired node that is Ready again\n" +
			"submit\t"}, // prefix: the rest of the line is submit's Short
		{"shells", []string{"completion", ""}, "bash\nzsh\nfish\npowershell\n:4\n"},
		{"namespace flag", []string{"-n", ""}, "default\nkube-system\nstreaming\n:4\n"},
		{"namespace long flag with prefix", []string{"version", "--namespace", "st"}, "streaming\n:4\n"},
		{"namespace flag with =", []string{"--namespace=k"}, "kube-system\n:4\n"},
		{"context flag from the kubeconfig", []string{"--context", ""}, "prod\nstaging\n:4\n"},
		{"cluster flag", []string{"--cluster", "st"}, "staging\n:4\n"},
		{"user flag", []string{"--user", ""}, "alice\n:4\n"},
		{"submit service account in the context's namespace", []string{"submit", "clicks", "--service-account", ""}, "default\nspark\n:4\n"},
		{"submit service account in -n", []string{"submit", "-n", "default", "clicks", "--service-account", ""}, ":4\n"},
		{"submit checkpoint claim", []string{"submit", "clicks", "--checkpoint-claim", ""}, "clicks-checkpoint\n:4\n"},
		{"submit storage class", []string{"submit", "clicks", "--checkpoint-storage-class", ""}, "fast-ssd\nstandard\n:4\n"},
		{"inspect app", []string{"inspect", "sess"}, "sessionize\n:4\n"},
		{"inspect node", []string{"inspect", "--node", "gpu"}, "gpu-1\n:4\n"},
		{"failover app", []string{"failover", "cl"}, "clicks\nclickstream-sessions\n:4\n"},
		{"release node", []string{"release", "node-"}, "node-a\nnode-b\n:4\n"},
		{"release one node only", []string{"release", "node-a", ""}, ":4\n"},
		{"deprecated failover --release-node", []string{"failover", "--release-node", "node-"}, "node-a\nnode-b\n:4\n"},
		{"inspect output (the shell filters)", []string{"inspect", "-o", "w"}, "wide\njson\nyaml\nkyaml\ngo-template\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := runRoot(t, append([]string{cobra.ShellCompRequestCmd}, tt.args...)...)
			if err != nil {
				t.Fatalf("__complete %q: %v\n%s", tt.args, err, stderr)
			}
			if !strings.HasPrefix(stdout, tt.want) {
				t.Errorf("__complete %q printed\n%s\nwant it to start with\n%s", tt.args, stdout, tt.want)
			}
		})
	}
}

// The helpers the lead's inspect and failover commands call, through cobra.
func TestCompleteAppNamesAndNodeFlag(t *testing.T) {
	useFakeCompletionClient(t, completionCluster())
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	// A fresh command tree each time: ConfigFlags keeps the kubeconfig loader it built first.
	newRoot := func() *cobra.Command {
		configFlags := genericclioptions.NewConfigFlags(true)
		root := &cobra.Command{Use: "kubectl-sparkha"}
		configFlags.AddFlags(root.PersistentFlags())
		inspect := &cobra.Command{Use: "inspect APP", Args: cobra.ExactArgs(1), ValidArgsFunction: CompleteAppNames(configFlags),
			RunE: func(*cobra.Command, []string) error { return nil }}
		inspect.Flags().String("node", "", "")
		if err := RegisterNodeCompletion(inspect, configFlags); err != nil {
			t.Fatal(err)
		}
		root.AddCommand(inspect)
		if err := RegisterNodeCompletion(root, configFlags); err == nil {
			t.Error("RegisterNodeCompletion on a command without --node: want an error")
		}
		return root
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"inspect", "-n", "streaming", "c"}, "clicks\nclickstream-sessions\n:4\n"},
		{[]string{"inspect", "--namespace=default", ""}, "nightly\n:4\n"},
		{[]string{"inspect", "-n", "streaming", "clicks", ""}, ":4\n"},
		{[]string{"inspect", "--node", ""}, "gpu-1\nnode-a\nnode-b\n:4\n"},
	} {
		streams, _, out, _ := genericiooptions.NewTestIOStreams()
		root := newRoot()
		root.SetOut(streams.Out)
		root.SetErr(streams.ErrOut)
		root.SetArgs(append([]string{cobra.ShellCompRequestCmd}, tt.args...))
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); !strings.HasPrefix(got, tt.want) {
			t.Errorf("__complete %q printed\n%s\nwant\n%s", tt.args, got, tt.want)
		}
	}
}

func TestCompletionCommand(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash":       "__start_kubectl-sparkha",
		"zsh":        "#compdef kubectl-sparkha",
		"fish":       "complete -c kubectl-sparkha",
		"powershell": "Register-ArgumentCompleter",
	} {
		t.Run(shell, func(t *testing.T) {
			stdout, stderr, err := runRoot(t, "completion", shell)
			if err != nil {
				t.Fatalf("completion %s: %v\n%s", shell, err, stderr)
			}
			if !strings.Contains(stdout, marker) {
				t.Errorf("completion %s lacks %q:\n%.400s", shell, marker, stdout)
			}
		})
	}
	stdout, _, err := runRoot(t, "completion", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kubectl_complete-sparkha", "#812", "kubectl sparkha completion bash"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("completion --help lacks %q", want)
		}
	}
}

// TestCompletionsRegistered: every flag that names something in the cluster or a fixed set
// completes, and every registration is on a flag the command has (mustRegister panics on any
// other while NewCmdRoot builds the commands).
func TestCompletionsRegistered(t *testing.T) {
	root := NewCmdRoot(genericiooptions.NewTestIOStreamsDiscard())
	var got []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if _, ok := c.GetFlagCompletionFunc(f.Name); ok {
				got = append(got, c.CommandPath()+" --"+f.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	slices.Sort(got)
	want := []string{
		"kubectl sparkha --cluster", "kubectl sparkha --context", "kubectl sparkha --namespace", "kubectl sparkha --user",
		"kubectl sparkha failover --node",
		"kubectl sparkha failover --output", "kubectl sparkha failover --release-node",
		"kubectl sparkha inspect --node", "kubectl sparkha inspect --output",
		"kubectl sparkha submit --checkpoint-access-mode", "kubectl sparkha submit --checkpoint-claim",
		"kubectl sparkha submit --checkpoint-storage-class", "kubectl sparkha submit --output", "kubectl sparkha submit --service-account",
		"kubectl sparkha version --output",
	}
	if !slices.Equal(got, want) {
		t.Errorf("flags with a completion:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, name := range []string{"inspect", "failover", "release"} {
		c, _, err := root.Find([]string{name})
		if err != nil || c.ValidArgsFunction == nil {
			t.Errorf("%s completes no argument", name)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a completion on a missing flag did not panic")
		}
	}()
	mustRegister((&cobra.Command{}).RegisterFlagCompletionFunc("node", fixedCompletion("x")))
}
