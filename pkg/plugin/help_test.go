package plugin

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"

	"k8s.io/client-go/kubernetes/fake"
)

// A flag whose value is applied only when given must not show a "(default ...)" in the help:
// without it the Spark conf (or Spark's own default) decides.
func TestSubmitHelpClaimsNoDefaultThatIsNotApplied(t *testing.T) {
	stdout, _, err := runRoot(t, "submit", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"driver-cores", "driver-memory", "executor-instances", "executor-cores", "executor-memory", "backoff-limit"} {
		var line string
		for _, l := range strings.Split(stdout, "\n") {
			if strings.Contains(l, "--"+name+" ") {
				line = l
			}
		}
		if line == "" {
			t.Errorf("--%s is not in submit --help", name)
			continue
		}
		if strings.Contains(line, "(default") || !strings.Contains(line, "Without this flag:") {
			t.Errorf("--%s help claims a default or does not say what applies without it:\n%s", name, line)
		}
	}
}

// One way to put the completion shim on PATH everywhere: cp from the installed version's
// directory (README, completion --help; the krew caveats name the version itself).
func TestCompletionSetupIsTheSameEverywhere(t *testing.T) {
	stdout, _, err := runRoot(t, "completion", "--help")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	caveats, err := os.ReadFile("../../krew/.krew.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"completion --help": stdout, "README.md": string(readme)} {
		if !strings.Contains(text, CompletionCopyCommand) {
			t.Errorf("%s lacks the copy command %s", name, CompletionCopyCommand)
		}
	}
	for name, text := range map[string]string{"completion --help": stdout, "README.md": string(readme), "krew/.krew.yaml": string(caveats)} {
		if strings.Contains(text, "ln -s") {
			t.Errorf("%s says ln -s: the shim is copied, not linked", name)
		}
	}
	if want := `cp "${KREW_ROOT:-$HOME/.krew}/store/sparkha/{{ .TagName }}/kubectl_complete-sparkha" ~/.local/bin/`; !strings.Contains(string(caveats), want) {
		t.Errorf("krew caveats lack %s", want)
	}
}

func TestCompletionListsTheShells(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"completion"}, "error: completion needs one shell, one of bash, zsh, fish, powershell: e.g. kubectl sparkha completion bash\n"},
		{[]string{"completion", "tcsh"}, "error: unsupported shell \"tcsh\": use one of bash, zsh, fish, powershell\n"},
		{[]string{"completion", "bash", "zsh"}, "error: completion needs one shell, one of bash, zsh, fish, powershell: e.g. kubectl sparkha completion bash\n"},
	} {
		stdout, stderr, code := runCmd(t, c.args...)
		if stderr != c.want || stdout != "" || code != ExitError {
			t.Errorf("%q: stderr %q, stdout %q, exit %d; want stderr %q, exit 1", c.args, stderr, stdout, code, c.want)
		}
	}
}

func TestInspectNothingFoundNamesWhereItLooked(t *testing.T) {
	for _, c := range []struct {
		all    bool
		node   string
		output string
		want   string
	}{
		{false, "", "wide", "No Spark drivers found in namespace nosuchns.\n"},
		{false, "", "", "No Spark drivers found in namespace nosuchns.\n"},
		{true, "", "", "No Spark drivers found in any namespace.\n"},
		{false, "node-9", "", "No Spark drivers found on node node-9 in namespace nosuchns.\n"},
	} {
		o, out, errOut := newTestInspect(t, "s1-step7-recovered", "nosuchns")
		o.client, o.dynamic = fake.NewClientset(), fixture.Dynamic()
		o.AllNamespaces, o.Node, o.output.Format = c.all, c.node, c.output
		if err := o.Complete(nil); err != nil {
			t.Fatal(err)
		}
		if err := o.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if errOut.String() != c.want || out.String() != "" {
			t.Errorf("-A=%t --node=%q: stderr %q, stdout %q; want stderr %q", c.all, c.node, errOut, out, c.want)
		}
	}
}
