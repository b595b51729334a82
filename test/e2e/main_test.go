// Package e2e replays the node-partition incident (see test/README.md) on the sandbox:
// a real control plane, simulated machines, and the ground truth of which
// driver really ran when. Each test starts its own sandbox.
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/internal/harness"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
)

// Binaries built once for the whole run.
var bins harness.Bins

func TestMain(m *testing.M) { harness.Main(m, "e2e", &bins) }

// env is one test's sandbox.
type env struct {
	t  testing.TB
	sb *sandbox.Sandbox
}

// start brings up a sandbox with the given nodes for t. On failure its state
// directory (logs, audit log, ground truth) is kept and named.
func start(t testing.TB, opts sandbox.Options) *env {
	t.Helper()
	return &env{t: t, sb: harness.Start(t, bins, opts)}
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
	out, err := e.run(bins.Kubectl, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}
