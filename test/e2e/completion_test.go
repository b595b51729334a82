package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// completions parses what cobra's __complete prints: one completion a line, then :DIRECTIVE.
func completions(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != ":4" {
		t.Errorf("directive %q, want :4 (ShellCompDirectiveNoFileComp) in\n%s", last, out)
	}
	var names []string
	for _, l := range lines[:len(lines)-1] {
		names = append(names, strings.SplitN(l, "\t", 2)[0])
	}
	return names
}

// TestCompletion asks the plugin's hidden __complete command, as the shells and
// kubectl_complete-sparkha do, for names from the sandbox's cluster; then the real kubectl,
// through the shim, the way `kubectl sparkha <TAB>` does.
func TestCompletion(t *testing.T) {
	e := start(t, twoNodes)
	const ns = "completion"
	e.namespace(ns)
	e.submit("clicks", "-n", ns, "--image", "spark:3.5.3", "--class", "org.example.Clicks",
		"local:///opt/app/clicks.jar", "--checkpoint-size", "1Gi")
	// A hand-written driver Job (not created by kubectl sparkha): its app is known by its driver pod.
	e.seedJob(ns, "legacy", corev1.ReadWriteOnce)
	e.eventually(60*time.Second, "driver pod of legacy", func() (bool, string) {
		pods := e.jobPods(ns, "legacy")
		return len(pods) > 0, describePods(pods)
	})

	complete := func(args ...string) []string {
		t.Helper()
		out, err := e.run(bins.Plugin, append([]string{"__complete"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return completions(t, out)
	}
	expect := func(what string, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: completions %q, want %q", what, got, want)
		}
	}
	expectSome := func(what string, got []string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: completions %q lack %q", what, got, w)
			}
		}
	}

	expectSome("namespaces", complete("-n", ""), ns, "default", "kube-system")
	expect("namespaces with a prefix", complete("inspect", "--namespace", "compl"), ns)
	expect("apps", complete("inspect", "-n", ns, ""), "clicks", "legacy")
	expect("apps with a prefix", complete("inspect", "-n", ns, "cl"), "clicks")
	expect("apps of the default namespace", complete("inspect", ""))
	expect("nodes", complete("inspect", "--node", ""), twoNodes.Nodes...)
	expectSome("service accounts", complete("submit", "x", "-n", ns, "--service-account", ""), "default")
	expect("checkpoint claims", complete("submit", "x", "-n", ns, "--checkpoint-claim", ""), "clicks-checkpoint", "legacy-checkpoint")

	// The real kubectl completing `kubectl sparkha inspect -n completion <TAB>`: it runs
	// kubectl_complete-sparkha from PATH, which runs the kubectl-sparkha on PATH.
	dir := t.TempDir()
	exe := ""
	if runtime.GOOS == "windows" {
		exe = ".exe"
	}
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "kubectl_complete-sparkha"+exe), "./cmd/kubectl_complete-sparkha")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building kubectl_complete-sparkha: %v\n%s", err, out)
	}
	if err := os.Symlink(bins.Plugin, filepath.Join(dir, "kubectl-sparkha"+exe)); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bins.Kubectl, "__complete", "sparkha", "inspect", "-n", ns, "")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.sb.Kubeconfig(),
		"PATH="+dir+string(os.PathListSeparator)+filepath.Dir(bins.Kubectl))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl __complete sparkha: %v\n%s", err, out)
	}
	expect("kubectl sparkha inspect -n "+ns+" <TAB>", completions(t, string(out)), "clicks", "legacy")
}
