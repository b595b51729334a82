package failover

import (
	"testing"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
)

// TestNewAttachedIgnoresVolumesThatNeverAttach: the new driver's NFS (or attach-less CSI)
// volume has no VolumeAttachment, and the phase is reached without one; an attaching volume
// still needs its attachment on the new driver's node.
func TestNewAttachedIgnoresVolumesThatNeverAttach(t *testing.T) {
	app := func(v inspect.Volume) *inspect.App {
		return &inspect.App{Drivers: []inspect.Driver{{UID: "new", Node: "node-b", Phase: "Pending", Volumes: []inspect.Volume{v}}}}
	}
	if !reached(WaitNewAttached, app(inspect.Volume{Name: "checkpoint", NoAttach: true}), nil, "node-a") {
		t.Error("waiting for a VolumeAttachment of a volume that never attaches")
	}
	if reached(WaitNewAttached, app(inspect.Volume{Name: "checkpoint"}), nil, "node-a") {
		t.Error("an attaching volume with no attachment counted as attached")
	}
	attached := inspect.Volume{Name: "checkpoint", Attachments: []inspect.Attachment{{Node: "node-b", Attached: true}}}
	if !reached(WaitNewAttached, app(attached), nil, "node-a") {
		t.Error("an attached volume not counted")
	}
}
