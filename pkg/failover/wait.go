package failover

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
)

// TimeoutError says which phase a wait was stuck in, with the evidence.
type TimeoutError struct {
	Phase    string
	Timeout  time.Duration
	Evidence *inspect.App
	// LastErr is the last error gathering the evidence, if any.
	LastErr error
}

func (e *TimeoutError) Error() string {
	msg := fmt.Sprintf("timed out after %s waiting for %s", e.Timeout, e.Phase)
	if e.LastErr != nil {
		msg += fmt.Sprintf(" (last error reading the state: %v)", e.LastErr)
	}
	return msg
}

// Wait follows the plan's phases until the new driver runs, reporting each
// phase as it is reached. It re-gathers the evidence every Poll.
func (r *Runner) Wait(ctx context.Context, plan Plan, old inspect.App, timeout time.Duration) error {
	if len(plan.Waits) == 0 {
		return nil
	}
	poll := r.Poll
	if poll == 0 {
		poll = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	oldUIDs := map[string]bool{}
	lostNode := old.LostNode
	for _, d := range old.Drivers {
		if d.Node == lostNode || d.Deleted != nil {
			oldUIDs[d.UID] = true
		}
	}
	phase := 0
	var last *inspect.App
	var lastErr error
	for {
		app, _, err := r.Inspect(ctx)
		lastErr = err
		if err == nil {
			last = app
			for phase < len(plan.Waits) && reached(plan.Waits[phase], app, oldUIDs, lostNode) {
				r.progress("%s", plan.Waits[phase])
				phase++
			}
			if phase == len(plan.Waits) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return &TimeoutError{Phase: plan.Waits[phase], Timeout: timeout, Evidence: last, LastErr: lastErr}
			}
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// reached reports whether a wait phase is done in the current evidence.
func reached(phase string, app *inspect.App, oldUIDs map[string]bool, lostNode string) bool {
	newest := newDriver(app, oldUIDs)
	switch phase {
	case WaitOldGone:
		for _, d := range app.Drivers {
			if oldUIDs[d.UID] && !terminal(d) {
				return false
			}
		}
		return true
	case WaitDetached:
		for _, d := range app.Drivers {
			for _, v := range d.Volumes {
				for _, a := range v.Attachments {
					if a.Node == lostNode && lostNode != "" {
						return false
					}
				}
			}
		}
		return true
	case WaitNewAttached:
		if newest == nil || newest.Node == "" {
			return false
		}
		for _, v := range newest.Volumes {
			if !attaching(v) {
				continue
			}
			ok := false
			for _, a := range v.Attachments {
				ok = ok || (a.Node == newest.Node && a.Attached)
			}
			if !ok {
				return false
			}
		}
		return true
	case WaitNewRunning:
		return newest != nil && newest.Phase == "Running" && app.Verdict == inspect.Healthy
	}
	return false
}

func newDriver(app *inspect.App, oldUIDs map[string]bool) *inspect.Driver {
	for i := len(app.Drivers) - 1; i >= 0; i-- {
		if !oldUIDs[app.Drivers[i].UID] && !terminal(app.Drivers[i]) {
			return &app.Drivers[i]
		}
	}
	return nil
}
