package plugin

import (
	"fmt"

	"github.com/spf13/cobra"
)

// Exit codes a script or an alert can rely on.
const (
	// ExitOK: every app is healthy, starting or finished; the action succeeded.
	ExitOK = 0
	// ExitError: the command failed (bad input, API error).
	ExitError = 1
	// ExitNeedsAttention: inspect found an app that needs a responder.
	ExitNeedsAttention = 3
	// ExitRefused: failover refused because acting now could run two drivers.
	ExitRefused = 4
)

// ExitCodeError ends the process with Code. Its message, if any, has already
// been printed by the command.
type ExitCodeError struct {
	Code int
	Err  error
}

func (e *ExitCodeError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit code %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitCodeError) Unwrap() error { return e.Err }

// flagError prints a flag error as kubectl does ("error: unknown flag: --x", then where the
// usage is) and exits 1; without it cobra's flag errors would end the command silently.
func flagError(c *cobra.Command, err error) error {
	fmt.Fprintf(c.ErrOrStderr(), "error: %v\nSee '%s --help' for usage.\n", err, c.CommandPath())
	return &ExitCodeError{Code: ExitError, Err: err}
}
