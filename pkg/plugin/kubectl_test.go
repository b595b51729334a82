package plugin

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestKubectlFindsPlugin builds the plugin binary, puts it on PATH and runs the real kubectl:
// `kubectl plugin list` must list it and `kubectl sparkha version` must run it.
func TestKubectlFindsPlugin(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not on PATH: install kubectl to run this test (it checks that kubectl finds and runs the plugin)")
	}
	if testing.Short() {
		t.Skip("builds the plugin binary; skipped with -short")
	}
	bin := t.TempDir()
	exe := filepath.Join(bin, "kubectl-sparkha")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	const pkg = "github.com/kubectl-sparkha/kubectl-sparkha/pkg/version"
	build := exec.Command("go", "build", "-o", exe,
		"-ldflags", "-X "+pkg+".Version=v0.0.0-test -X "+pkg+".Commit=abc1234 -X "+pkg+".Date=2026-01-02T03:04:05Z",
		"../../cmd/kubectl-sparkha")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// Only our directory and kubectl's on PATH, so no other installed plugin interferes.
	env := append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+filepath.Dir(kubectl),
		"KUBECONFIG="+filepath.Join(t.TempDir(), "none"),
	)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(kubectl, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	if out := run("plugin", "list"); !strings.Contains(out, exe) {
		t.Errorf("kubectl plugin list does not show %s:\n%s", exe, out)
	}
	if out, want := run("sparkha", "version"), "kubectl-sparkha v0.0.0-test (commit abc1234, built 2026-01-02T03:04:05Z"; !strings.HasPrefix(out, want) {
		t.Errorf("kubectl sparkha version printed %q, want it to start with %q", out, want)
	}
	if out := run("sparkha", "version", "-o", "json"); !strings.Contains(out, `"commit": "abc1234"`) {
		t.Errorf("kubectl sparkha version -o json printed %q", out)
	}
	if out := run("sparkha", "submit", "--help"); !strings.Contains(out, "kubectl sparkha submit clicks") {
		t.Errorf("kubectl sparkha submit --help lacks the examples:\n%s", out)
	}
}
