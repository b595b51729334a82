package render_test

import (
	"bytes"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/render"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with testdata/NAME, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	fixture.Golden(t, filepath.Join("testdata", name), got, *update)
}

// TestRenderScenarioSnapshots renders the report of every captured step as the table, the
// wide tree and the timeline, against golden files, and checks what each must show beside.
func TestRenderScenarioSnapshots(t *testing.T) {
	time.Local = time.UTC
	for _, name := range fixture.Names(t) {
		t.Run(name, func(t *testing.T) {
			f := fixture.Load(t, name)
			r := analysis.Analyze(&f.Snapshot, f.Now)
			a := r.Apps[0]
			var table, tree, tl bytes.Buffer
			opts := render.Options{Now: f.Now}
			if err := render.Table(&table, r, opts); err != nil {
				t.Fatal(err)
			}
			if err := render.Tree(&tree, r, opts); err != nil {
				t.Fatal(err)
			}
			if err := render.Timeline(&tl, analysis.Timeline(&f.Snapshot, a)); err != nil {
				t.Fatal(err)
			}
			golden(t, name+".table", table.Bytes())
			golden(t, name+".wide", tree.Bytes())
			golden(t, name+".timeline", tl.Bytes())

			// The table's row starts with the verdict and ends with the reason.
			row := strings.Split(table.String(), "\n")[1]
			if !strings.HasPrefix(row, string(a.Verdict)+" ") || !strings.HasSuffix(row, a.Reason) {
				t.Errorf("row %q does not show verdict %s and reason %q", row, a.Verdict, a.Reason)
			}
			// Every attention verdict prints its next action.
			if a.Verdict.NeedsAttention() != strings.Contains(table.String(), "Next actions:\n  "+a.Namespace+"/"+a.Name+": "+a.NextAction+"\n") {
				t.Errorf("%s: next action %q shown=%t", a.Verdict, a.NextAction, !a.Verdict.NeedsAttention())
			}
			// The tree shows every driver generation, with its age as kubectl prints it.
			for _, d := range a.Drivers {
				if !strings.Contains(tree.String(), "pod/"+d.Pod+"  "+d.Status+"  age "+duration.HumanDuration(f.Now.Sub(d.Created))) {
					t.Errorf("tree lacks generation %d (%s) with its age", d.Generation, d.Pod)
				}
			}
		})
	}
}

// TestAgesComeFromTheClockOfTheRendering: the report holds timestamps; how long ago each was
// is the rendering's, from Options.Now: a minute later the same report renders a minute older.
func TestAgesComeFromTheClockOfTheRendering(t *testing.T) {
	f := fixture.Load(t, "s3-step4-stuck-terminating")
	r := analysis.Analyze(&f.Snapshot, f.Now)
	d := r.Apps[0].Drivers[0]
	if d.Deleted == nil || d.NodeHeartbeat == nil {
		t.Fatalf("fixture driver %s: deleted %v, heartbeat %v", d.Pod, d.Deleted, d.NodeHeartbeat)
	}
	for _, later := range []time.Duration{0, time.Minute, 3 * time.Hour} {
		now := f.Now.Add(later)
		var tree bytes.Buffer
		if err := render.Tree(&tree, r, render.Options{Now: now}); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"age " + duration.HumanDuration(now.Sub(d.Created)),
			"heartbeat " + duration.HumanDuration(now.Sub(*d.NodeHeartbeat)) + " ago",
			"deleted " + duration.HumanDuration(now.Sub(*d.Deleted)) + " ago",
		} {
			if !strings.Contains(tree.String(), want) {
				t.Errorf("%s later: tree lacks %q:\n%s", later, want, tree.String())
			}
		}
	}
}

// TestPlan renders the plans of failover: the steps with their reasons, the blast radius of a
// fence and the phases waited for; a refusal says nothing was done.
func TestPlan(t *testing.T) {
	for _, tt := range []struct {
		name, fixture string
		nodeDown      bool
		blast         []string
		note          string
		mutate        func(*analysis.Snapshot)
	}{
		{"fence", "s1-step5-replacement-blocked", true, []string{"s1/spark-pi-95sbm", "other/web-1"}, "", nil},
		{"finish", "f1-rejoined-lingering", false, nil, " (dry run)", nil},
		{"refuse", "s1-step5-replacement-blocked", false, nil, "", nil},
		{"nothing", "s1-step7-recovered", false, nil, "", nil},
		// A fence agent powered node-a off; a self node remediation of it is still in progress.
		{"fence-remediation", "s1-step5-replacement-blocked", true, []string{"s1/spark-pi-95sbm"}, "", func(s *analysis.Snapshot) {
			s.Remediations = remediationsOfNodeA()
		}},
		// The fence agents remediation also put the out-of-service taint: failover only collects.
		{"collect-remediation", "s1-step5-replacement-blocked", true, nil, "", func(s *analysis.Snapshot) {
			s.Remediations = remediationsOfNodeA()[:1]
			for i := range s.Nodes {
				if s.Nodes[i].Name == "node-a" {
					s.Nodes[i].Spec.Taints = append(s.Nodes[i].Spec.Taints, corev1.Taint{Key: corev1.TaintNodeOutOfService, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute})
				}
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture.Load(t, tt.fixture)
			if tt.mutate != nil {
				tt.mutate(&f.Snapshot)
			}
			p := analysis.Decide(analysis.Analyze(&f.Snapshot, f.Now).Apps[0], analysis.Operator{NodeDown: tt.nodeDown})
			p.BlastRadius = tt.blast
			var buf bytes.Buffer
			if err := render.Plan(&buf, p, tt.note); err != nil {
				t.Fatal(err)
			}
			golden(t, "plan-"+tt.name+".txt", buf.Bytes())
			out := buf.String()
			for i, s := range p.Steps {
				if !strings.Contains(out, analysis.Describe(s)) || !strings.Contains(out, "why: "+s.Why) {
					t.Errorf("step %d (%s) or its reason missing:\n%s", i+1, s.Action, out)
				}
			}
			for _, pod := range tt.blast {
				if !strings.Contains(out, "     - "+pod+"\n") {
					t.Errorf("blast radius lacks %s", pod)
				}
			}
			if (p.Outcome == analysis.Refuse) != strings.Contains(out, "refused, nothing was done") {
				t.Errorf("outcome %s:\n%s", p.Outcome, out)
			}
			if tt.mutate != nil && !strings.Contains(out, "What the cluster says of node node-a: ") {
				t.Errorf("the plan does not show the evidence:\n%s", out)
			}
		})
	}
}

// remediationsOfNodeA are a fence agents remediation that fenced node-a at the capture of
// s1-step5-replacement-blocked, and a self node remediation of it still waiting for its reboot time.
func remediationsOfNodeA() []analysis.Remediation {
	f := time.Date(2026, 11, 25, 14, 29, 30, 0, time.UTC)
	return []analysis.Remediation{
		{Kind: analysis.KindFenceAgentsRemediation, Namespace: "medik8s", Name: "node-a", Node: "node-a", Created: f.Add(-10 * time.Second),
			Conditions: []metav1.Condition{{Type: "FenceAgentActionSucceeded", Status: metav1.ConditionTrue, Reason: "FenceAgentSucceeded", LastTransitionTime: metav1.NewTime(f)}}},
		{Kind: analysis.KindSelfNodeRemediation, Namespace: "snr", Name: "node-a", Node: "node-a", Created: f, Phase: "Pre-Reboot-Completed",
			TimeAssumedRebooted: new(f.Add(time.Hour))},
	}
}
