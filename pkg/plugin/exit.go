package plugin

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/failover"
)

// Exit codes a script or an alert can rely on.
const (
	// ExitOK: every app is healthy, starting or finished; the action succeeded.
	ExitOK = 0
	// ExitError: the command failed (bad input, API error).
	ExitError = 1
	// ExitNeedsAttention: inspect found an app that needs a responder.
	ExitNeedsAttention = 3
	// ExitRefused: failover or release refused because acting now would not be safe.
	ExitRefused = 4
)

// errNeedsAttention ends inspect with ExitNeedsAttention; the report said why.
var errNeedsAttention = errors.New("an app needs attention")

// usageError is an error of the command line (a flag, an argument), printed with where the
// usage is, as kubectl does.
type usageError struct {
	err     error
	command string
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// flagError keeps cobra's flag errors (unknown flag, bad value) for Run to print.
func flagError(c *cobra.Command, err error) error {
	return &usageError{err: err, command: c.CommandPath()}
}

// usage marks err, an error of the command line that Validate found, as a usage error.
func usage(c *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	return &usageError{err: err, command: c.CommandPath()}
}

// maxArgs is cobra.MaximumNArgs whose error is a usage error.
func maxArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error { return usage(c, cobra.MaximumNArgs(n)(c, args)) }
}

// Run executes root with ctx and returns the process's exit code. It is the one place that
// prints a command's error, once, in kubectl's form ("error: ..." on stderr), and maps it to
// its exit code: commands only return errors.
func Run(ctx context.Context, root *cobra.Command) int {
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	errOut := root.ErrOrStderr()
	var usage *usageError
	var refused *failover.ErrRefused
	switch {
	case errors.Is(err, errNeedsAttention):
		return ExitNeedsAttention
	case errors.As(err, &usage):
		fmt.Fprintf(errOut, "error: %v\nSee '%s --help' for usage.\n", err, usage.command)
		return ExitError
	case errors.As(err, &refused):
		fmt.Fprintf(errOut, "error: %v\n", err)
		return ExitRefused
	}
	if msg := describeConnError(err); msg != "" {
		fmt.Fprintf(errOut, "error: %s\n", msg)
	} else {
		fmt.Fprintf(errOut, "error: %v\n", err)
	}
	return ExitError
}
