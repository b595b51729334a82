// Command kubectl-sparkha is the kubectl plugin `kubectl sparkha`: it runs Spark drivers as
// partition-safe Kubernetes Jobs. kubectl finds it on PATH as a plugin.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/plugin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	err := plugin.NewCmdRoot(streams).ExecuteContext(ctx)
	stop()
	var exit *plugin.ExitCodeError
	switch {
	case errors.As(err, &exit):
		os.Exit(exit.Code)
	case err != nil:
		// An error no command printed, such as an unknown command.
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(plugin.ExitError)
	}
}
