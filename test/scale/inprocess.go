package scale

import (
	"context"
	"encoding/json"
	"io"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
)

// inspectInProcess does in this process what `kubectl sparkha inspect -A -o
// json` does: gather every namespace, analyse, print the report as JSON to w.
// It returns how many nodes and events the snapshot kept.
//
// This is the benchmark's only use of the plugin's packages (everything else
// runs the plugin's binary), so that renaming them touches this file alone.
func inspectInProcess(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, w io.Writer) (nodes, events int, err error) {
	report, snap, err := inspect.Inspect(ctx, client, dyn, inspect.Query{})
	if err != nil {
		return 0, 0, err
	}
	if err := json.NewEncoder(w).Encode(report); err != nil {
		return 0, 0, err
	}
	return len(snap.Nodes), len(snap.Events), nil
}
