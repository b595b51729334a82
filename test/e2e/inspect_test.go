package e2e

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
)

var capture = flag.String("capture", "", "write the inspect snapshot of every asserted step to this directory (the unit tests' fixtures: internal/fixture/snapshots)")

// inspectCLI runs the real `kubectl sparkha inspect APP -n NS -o json` and
// returns the app's report and the exit code.
func (e *env) inspectCLI(ns, app string) (analysis.App, int) {
	e.t.Helper()
	out, err := e.run(bins.Plugin, "inspect", app, "-n", ns, "-o", "json")
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	var r analysis.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		e.t.Fatalf("inspect -o json printed invalid JSON (%v): %q", err, out)
	}
	if len(r.Apps) != 1 {
		e.t.Fatalf("inspect %s: want exactly one app, got %d", app, len(r.Apps))
	}
	return r.Apps[0], code
}

// verdict waits until inspect reports want for app, checks the exit code
// that goes with it, captures the snapshot when asked, and returns the app.
func (e *env) verdict(ns, app, step string, want analysis.Verdict) analysis.App {
	e.t.Helper()
	var got analysis.App
	var code int
	e.eventually(20*time.Second, "inspect verdict "+string(want)+" at "+step, func() (bool, string) {
		got, code = e.inspectCLI(ns, app)
		return got.Verdict == want, string(got.Verdict) + ": " + got.Reason
	})
	wantCode := 0
	if want.NeedsAttention() {
		wantCode = 3
	}
	if code != wantCode {
		e.t.Errorf("inspect exit code at %s = %d, want %d", step, code, wantCode)
	}
	if got.Reason == "" || got.NextAction == "" {
		e.t.Errorf("inspect at %s: empty reason or next action: %+v", step, got)
	}
	e.t.Logf("%s: %s — %s; next: %s", step, got.Verdict, got.Reason, got.NextAction)
	if *capture != "" {
		snap, err := inspect.Gather(ctx, e.client(), e.dynamic(), inspect.Query{Namespace: ns, App: app, AllEvents: true})
		if err != nil {
			e.t.Fatal(err)
		}
		b, err := json.MarshalIndent(fixture.Fixture{Now: time.Now().UTC(), Snapshot: *snap}, "", "  ")
		if err != nil {
			e.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*capture, step+".json"), append(b, '\n'), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
	return got
}
