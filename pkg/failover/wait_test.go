package failover

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
)

// TestNewAttachedIgnoresVolumesThatNeverAttach: the new driver's NFS (or attach-less CSI)
// volume has no VolumeAttachment, and the phase is reached without one; an attaching volume
// still needs its attachment on the new driver's node.
func TestNewAttachedIgnoresVolumesThatNeverAttach(t *testing.T) {
	app := func(v analysis.Volume) *analysis.App {
		return &analysis.App{Drivers: []analysis.Driver{{UID: "new", Node: "node-b", Phase: "Pending", Volumes: []analysis.Volume{v}}}}
	}
	if !reached(analysis.WaitNewAttached, app(analysis.Volume{Name: "checkpoint", NoAttach: true}), nil, "node-a") {
		t.Error("waiting for a VolumeAttachment of a volume that never attaches")
	}
	if reached(analysis.WaitNewAttached, app(analysis.Volume{Name: "checkpoint"}), nil, "node-a") {
		t.Error("an attaching volume with no attachment counted as attached")
	}
	attached := analysis.Volume{Name: "checkpoint", Attachments: []analysis.Attachment{{Node: "node-b", Attached: true}}}
	if !reached(analysis.WaitNewAttached, app(attached), nil, "node-a") {
		t.Error("an attached volume not counted")
	}
}

// TestWaitDoesNotSpin: with Poll unset, Wait re-reads the evidence on each change and once a
// second, not in a busy loop.
func TestWaitDoesNotSpin(t *testing.T) {
	ctx := context.Background()
	_, r, _ := cluster(t, "s1-step5-replacement-blocked", true, nil)
	p, old, err := r.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reads, now := 0, r.Now
	r.Poll, r.Now = 0, func() time.Time { reads++; return now() }
	var timeout *TimeoutError
	if err := r.Wait(ctx, p, *old, 500*time.Millisecond); !errors.As(err, &timeout) || timeout.Phase != analysis.WaitOldGone {
		t.Fatalf("Wait on a blocked cluster: %v", err)
	}
	if reads < 1 || reads > 5 {
		t.Errorf("%d reads of the evidence in 500ms with nothing changing, want 1 (and a few for the informers' first sync)", reads)
	}
}

// TestExecutorsGone: the wait of an executor failover ends when no executor of the app, of any
// generation or orphaned, is left on the lost node, unless it ended there.
func TestExecutorsGone(t *testing.T) {
	app := func(execs, orphans []analysis.Executor) *analysis.App {
		return &analysis.App{Drivers: []analysis.Driver{{UID: "d", Node: "node-b", Phase: "Running", Executors: execs}}, OrphanExecutors: orphans}
	}
	on := func(node, phase string) []analysis.Executor {
		return []analysis.Executor{{Pod: "x", Node: node, Phase: phase}}
	}
	for _, tt := range []struct {
		name     string
		app      *analysis.App
		lostNode string
		want     bool
	}{
		{"running on the lost node", app(on("node-a", "Running"), nil), "node-a", false},
		{"pending on the lost node", app(on("node-a", "Pending"), nil), "node-a", false},
		{"orphan on the lost node", app(nil, on("node-a", "Running")), "node-a", false},
		{"ended there", app(on("node-a", "Failed"), on("node-a", "Succeeded")), "node-a", true},
		{"elsewhere", app(on("node-c", "Running"), nil), "node-a", true},
		{"no lost node", app(on("", "Pending"), nil), "", true},
		{"gone", app(nil, nil), "node-a", true},
	} {
		if got := reached(analysis.WaitExecutorsGone, tt.app, nil, tt.lostNode); got != tt.want {
			t.Errorf("%s: reached %t, want %t", tt.name, got, tt.want)
		}
	}
}
