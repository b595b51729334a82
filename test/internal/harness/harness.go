// Package harness runs the packages of test/ that need a sandbox (the end-to-end
// tests of test/e2e, the scale benchmark of test/scale): the binaries built once
// per run, a sandbox per test, and proxies to a sandbox's API server.
package harness

import (
	"context"
	"errors"
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

// Bins are the binaries a run needs, built once for the whole run.
type Bins struct {
	K8s     string // the control plane (test/cmd/k8s), $SANDBOX_K8S_BIN or built into the cache
	Sandbox string // the sandbox (test/cmd/sandbox)
	Plugin  string // kubectl-sparkha, $SPARKHA_PLUGIN_BIN or built
	Kubectl string // the real kubectl, from PATH
}

// Main is the TestMain of a package that runs on sandboxes: in -short mode it
// skips the package; otherwise it finds or builds the binaries into *bins, runs
// m and exits with its code. pkg names the package in its messages.
func Main(m *testing.M, pkg string, bins *Bins) {
	flag.Parse()
	if testing.Short() {
		fmt.Printf("%s: skipped in -short mode\n", pkg)
		os.Exit(0)
	}
	code, err := run(m, bins)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s setup: %v\n", pkg, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M, bins *Bins) (int, error) {
	tmp, err := os.MkdirTemp("", "sparkha-bin")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	if *bins, err = Build(tmp); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// Build finds or builds the binaries, the built ones into dir: the control
// plane is $SANDBOX_K8S_BIN or test/hack/build-control-plane.sh's (cached
// outside the clone), the plugin $SPARKHA_PLUGIN_BIN or built from this clone.
// It runs from a package directory of the test module, as go test does.
func Build(dir string) (Bins, error) {
	root, err := moduleRoot()
	if err != nil {
		return Bins{}, err
	}
	var bins Bins
	bins.K8s = os.Getenv("SANDBOX_K8S_BIN")
	if bins.K8s == "" {
		out, err := exec.Command(filepath.Join(root, "hack", "build-control-plane.sh")).Output()
		if err != nil {
			return bins, fmt.Errorf("building the control plane: %w", err)
		}
		bins.K8s = strings.TrimSpace(string(out))
	}
	bins.Sandbox = filepath.Join(dir, "sandbox")
	build := exec.Command("go", "build", "-o", bins.Sandbox, "./cmd/sandbox")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return bins, fmt.Errorf("building the sandbox: %v\n%s", err, out)
	}
	bins.Plugin = os.Getenv("SPARKHA_PLUGIN_BIN")
	if bins.Plugin == "" {
		bins.Plugin = filepath.Join(dir, "kubectl-sparkha")
		build := exec.Command("go", "build", "-o", bins.Plugin, "./cmd/kubectl-sparkha")
		build.Dir = filepath.Dir(root)
		if out, err := build.CombinedOutput(); err != nil {
			return bins, fmt.Errorf("building the plugin: %v\n%s", err, out)
		}
	}
	if bins.Kubectl, err = exec.LookPath("kubectl"); err != nil {
		return bins, errors.New("kubectl is not on PATH: the tests compare with what kubectl prints")
	}
	return bins, nil
}

// moduleRoot is the test module's directory: the nearest go.mod above the
// working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run from a package of test/")
		}
		dir = parent
	}
}

// Start brings up a sandbox of bins with opts (its Dir, binaries and Log are
// set here) for t and takes it down when t ends. On failure its state
// directory (logs, audit log, ground truth) is kept and named.
func Start(t testing.TB, bins Bins, opts sandbox.Options) *sandbox.Sandbox {
	t.Helper()
	dir, err := os.MkdirTemp("", "sparkha-"+strings.ReplaceAll(t.Name(), "/", "_"))
	if err != nil {
		t.Fatal(err)
	}
	opts.Dir, opts.K8sBin, opts.SandboxBin = dir, bins.K8s, bins.Sandbox
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
	return sb
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
