// Package layering_test checks what each package may import (docs/architecture.md), so the rules
// hold by the build, not by convention: the analysis and the renderings never reach a client,
// and the product never imports the sandbox's Kubernetes.
package layering_test

import (
	"os/exec"
	"strings"
	"testing"
)

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestLayering(t *testing.T) {
	const mod = "github.com/kubectl-sparkha/kubectl-sparkha/"
	for _, tt := range []struct {
		pkg       string
		forbidden []string
	}{
		// Pure: a snapshot and a clock in, a report or a plan out.
		{mod + "pkg/analysis", []string{"k8s.io/client-go", mod + "pkg/inspect", mod + "pkg/failover", mod + "pkg/render", mod + "pkg/plugin"}},
		{mod + "pkg/sparkapp", []string{"k8s.io/client-go", mod + "pkg/"}},
		// Pure: a driver pod and its conf in, a submit request out (through pkg/submit's
		// Resolve and Build).
		{mod + "pkg/migrate", []string{"k8s.io/client-go", mod + "pkg/submit/apply", mod + "pkg/inspect", mod + "pkg/failover", mod + "pkg/render", mod + "pkg/plugin"}},
		// Printing only.
		{mod + "pkg/render", []string{"k8s.io/client-go", mod + "pkg/inspect", mod + "pkg/failover", mod + "pkg/plugin"}},
		// Gathering: no writes, no commands.
		{mod + "pkg/inspect", []string{mod + "pkg/failover", mod + "pkg/render", mod + "pkg/plugin", mod + "pkg/submit"}},
		// Every write of a failover and of a switch (which creates the replacing Job through
		// pkg/submit/apply); no printing, no commands.
		{mod + "pkg/failover", []string{mod + "pkg/render", mod + "pkg/plugin"}},
		// Pure: a request in, the objects out; pkg/submit/apply creates them with a client.
		{mod + "pkg/submit", []string{"k8s.io/client-go", mod + "pkg/submit/apply", mod + "pkg/inspect", mod + "pkg/analysis", mod + "pkg/failover", mod + "pkg/render", mod + "pkg/plugin"}},
		{mod + "pkg/submit/apply", []string{mod + "pkg/inspect", mod + "pkg/analysis", mod + "pkg/failover", mod + "pkg/render", mod + "pkg/plugin", mod + "pkg/migrate"}},
		{mod + "cmd/kubectl-sparkha", []string{"k8s.io/kubernetes"}},
	} {
		for _, d := range deps(t, tt.pkg) {
			for _, f := range tt.forbidden {
				if d != tt.pkg && (d == f || strings.HasPrefix(d, strings.TrimSuffix(f, "/")+"/")) {
					t.Errorf("%s imports %s (directly or not): %s must not", strings.TrimPrefix(tt.pkg, mod), d, f)
				}
			}
		}
	}
}
