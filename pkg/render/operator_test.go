package render_test

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/render"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// TestRenderOperatorApp: an operator app's SparkApplication shows in the table (a SPARKAPP
// column, only when such an app is shown) and in the wide tree.
func TestRenderOperatorApp(t *testing.T) {
	f := fixture.Load(t, "s3-step4-stuck-terminating")
	p := &f.Snapshot.DriverPods[0]
	p.OwnerReferences, f.Snapshot.Jobs = nil, nil
	delete(p.Labels, sparkapp.LabelManagedBy)
	p.Labels[sparkapp.LabelOperatorApp] = "stream"
	f.Snapshot.SparkApplications = []analysis.SparkApplication{{APIVersion: "sparkoperator.k8s.io/v1beta2", Namespace: "s3", Name: "stream",
		RestartPolicy: "OnFailure", State: "RUNNING", OnFailureRetries: ptr.To[int64](3), ExecutionAttempts: 2}}
	r := analysis.Analyze(&f.Snapshot, f.Now)
	var table, tree bytes.Buffer
	if err := render.Table(&table, r, render.Options{Now: f.Now}); err != nil {
		t.Fatal(err)
	}
	if err := render.Tree(&tree, r, render.Options{Now: f.Now}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(table.String(), "\n")
	if h := strings.Fields(lines[0]); strings.Join(h, " ") != "VERDICT APP DRIVER NODE STATUS EXEC SPARKAPP AGE REASON" {
		t.Fatalf("header %q", lines[0])
	}
	if !strings.Contains(lines[1], "   RUNNING (OnFailure, 2 left)   ") {
		t.Fatalf("row %q", lines[1])
	}
	want := "  operator: sparkapplication/stream (sparkoperator.k8s.io/v1beta2) RUNNING, restart policy OnFailure: its operator starts the next driver " +
		"(restart policy OnFailure, onFailureRetries 3, 2 attempts so far: 2 retries left)\n"
	if !strings.Contains(tree.String(), want) {
		t.Fatalf("tree lacks\n%s\n%s", want, tree.String())
	}
}
