package failover

import (
	"testing"

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
