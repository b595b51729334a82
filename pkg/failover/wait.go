package failover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
)

// TimeoutError says which phase a wait was stuck in, with the evidence.
type TimeoutError struct {
	Phase    string
	Timeout  time.Duration
	Evidence *analysis.App
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

// Wait follows the plan's phases until the new driver runs, reporting each phase as it is
// reached. It watches the app's evidence (inspect.Watch: one LIST and WATCH per kind, then
// only changes) and re-reads it on every change, and every Poll for the rules of time, so a
// long wait costs the API server no more on a large cluster than on a small one.
func (r *Runner) Wait(ctx context.Context, plan analysis.Plan, old analysis.App, timeout time.Duration) error {
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
	var last *analysis.App
	var lastErr error
	w, err := inspect.Watch(ctx, r.Client, r.Dynamic, inspect.Query{Namespace: r.Namespace, App: r.App})
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &TimeoutError{Phase: plan.Waits[phase], Timeout: timeout, LastErr: err}
		}
		return err
	}
	for {
		rep, _, err := w.Inspect(r.now())
		lastErr = err
		if err == nil {
			app := &rep.Apps[0]
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
		case <-w.Changed():
		case <-time.After(poll):
		}
	}
}

// reached reports whether a wait phase is done in the current evidence.
func reached(phase string, app *analysis.App, oldUIDs map[string]bool, lostNode string) bool {
	newest := newDriver(app, oldUIDs)
	switch phase {
	case analysis.WaitOldGone:
		for _, d := range app.Drivers {
			if oldUIDs[d.UID] && !d.Ended {
				return false
			}
		}
		return true
	case analysis.WaitDetached:
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
	case analysis.WaitNewAttached:
		if newest == nil || newest.Node == "" {
			return false
		}
		for _, v := range newest.Volumes {
			if v.NoAttach {
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
	case analysis.WaitNewRunning:
		return newest != nil && newest.Phase == "Running" && app.Verdict == analysis.Healthy
	case analysis.WaitExecutorsGone:
		xs := slices.Clone(app.OrphanExecutors)
		for _, d := range app.Drivers {
			xs = append(xs, d.Executors...)
		}
		return !slices.ContainsFunc(xs, func(x analysis.Executor) bool {
			return lostNode != "" && x.Node == lostNode && !x.Ended()
		})
	}
	return false
}

func newDriver(app *analysis.App, oldUIDs map[string]bool) *analysis.Driver {
	for i := len(app.Drivers) - 1; i >= 0; i-- {
		if !oldUIDs[app.Drivers[i].UID] && !app.Drivers[i].Ended {
			return &app.Drivers[i]
		}
	}
	return nil
}
