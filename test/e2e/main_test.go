// Package e2e replays the node-partition incident (see test/README.md) on the sandbox:
// a real control plane, simulated machines, and the ground truth of which
// driver really ran when. Each test starts its own sandbox.
package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
)

// Binaries built once for the whole run.
var bins struct {
	k8s, sandbox, plugin, kubectl string
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode")
		os.Exit(0)
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	tmp, err := os.MkdirTemp("", "sparkha-e2e-bin")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	bins.k8s = os.Getenv("SANDBOX_K8S_BIN")
	if bins.k8s == "" {
		out, err := exec.Command("../hack/build-control-plane.sh").Output()
		if err != nil {
			return 0, fmt.Errorf("building the control plane: %w", err)
		}
		bins.k8s = strings.TrimSpace(string(out))
	}
	bins.sandbox = filepath.Join(tmp, "sandbox")
	if out, err := exec.Command("go", "build", "-o", bins.sandbox, "../cmd/sandbox").CombinedOutput(); err != nil {
		return 0, fmt.Errorf("building the sandbox: %v\n%s", err, out)
	}
	bins.plugin = os.Getenv("SPARKHA_PLUGIN_BIN")
	if bins.plugin == "" {
		bins.plugin = filepath.Join(tmp, "kubectl-sparkha")
		build := exec.Command("go", "build", "-o", bins.plugin, "./cmd/kubectl-sparkha")
		build.Dir = "../.."
		if out, err := build.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("building the plugin: %v\n%s", err, out)
		}
	}
	if bins.kubectl, err = exec.LookPath("kubectl"); err != nil {
		return 0, fmt.Errorf("kubectl is not on PATH: the e2e tests compare with what kubectl prints")
	}
	return m.Run(), nil
}

// env is one test's sandbox.
type env struct {
	t  testing.TB
	sb *sandbox.Sandbox
}

// start brings up a sandbox with the given nodes for t. On failure its state
// directory (logs, audit log, ground truth) is kept and named.
func start(t testing.TB, opts sandbox.Options) *env {
	t.Helper()
	dir, err := os.MkdirTemp("", "sparkha-"+strings.ReplaceAll(t.Name(), "/", "_"))
	if err != nil {
		t.Fatal(err)
	}
	opts.Dir, opts.K8sBin, opts.SandboxBin = dir, bins.k8s, bins.sandbox
	opts.Log = testWriter{t}
	began := time.Now()
	sb, err := sandbox.Up(context.Background(), opts)
	if err != nil {
		t.Fatalf("sandbox up: %v", err)
	}
	t.Logf("sandbox up in %.1fs: %s", time.Since(began).Seconds(), dir)
	t.Cleanup(func() {
		if err := sb.Down(); err != nil {
			t.Errorf("sandbox down: %v", err)
		}
		if t.Failed() {
			t.Logf("sandbox state kept for inspection: %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return &env{t: t, sb: sb}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// run runs a command with the sandbox's kubeconfig and returns stdout.
func (e *env) run(name string, args ...string) (string, error) {
	e.t.Helper()
	out, _, err := e.runAll(name, args...)
	return out, err
}

// runAll runs a command with the sandbox's kubeconfig and returns stdout and
// stderr; a failure's error includes stderr too.
func (e *env) runAll(name string, args ...string) (string, string, error) {
	e.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.sb.Kubeconfig(), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s %s: %w\nstderr: %s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), stderr.String(), err
}

// kubectl runs the real kubectl and fails the test on error.
func (e *env) kubectl(args ...string) string {
	e.t.Helper()
	out, err := e.run(bins.kubectl, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}
