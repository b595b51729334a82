package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

// writes is the storage's ground truth: every write of a running driver, refused or not.
func (e *env) writes() []truth.Write {
	e.t.Helper()
	ws, err := e.sb.Writes()
	if err != nil {
		e.t.Fatal(err)
	}
	return ws
}

// writerOf is uid's span of writes to its checkpoint, and whether it wrote at all.
func writerOf(ws []truth.Write, uid string) (truth.Writer, bool) {
	for _, w := range truth.Writers(ws) {
		if w.UID == uid {
			return w, true
		}
	}
	return truth.Writer{}, false
}

// TestFailoverIsolatedButWriting: the case the words of --node-down warn about. node-a is cut
// off from the API server while its machine runs on (sandbox.Isolate): its two drivers keep
// running and writing their checkpoints, one on block storage that attaches (RWOP), one on a
// file system every node mounts (RWX). The cluster has no evidence either way (Ready Unknown,
// the Lease stale), so inspect's next action stays conditional and failover --node-down acts on
// the operator's word. The fence force-detaches the block volume: the storage refuses the old
// driver's writes from then on, so one writer at a time even though the old driver still runs.
// The file system has nothing to detach: two drivers write one checkpoint, which the ground
// truth shows and the API does not (inspect says Healthy once the old pods are force-deleted).
func TestFailoverIsolatedButWriting(t *testing.T) {
	e := start(t, twoNodes)
	const ns = "iso"
	e.namespace(ns)
	e.kubectl("cordon", "node-b")
	kinds := map[string]storageKind{"blocks": storageKinds[0], "files": storageKinds[2]}
	if kinds["blocks"].name != "csi-rwop" || kinds["files"].name != "files" {
		t.Fatalf("storage kinds moved: %+v", kinds)
	}
	old := map[string]corev1.Pod{}
	for app, k := range kinds {
		e.submitWithStorage(ns, app, k, "--node-lost-timeout", "5s", "--executor-instances", "1")
		old[app] = e.runningDriver(ns, app)
		if old[app].Spec.NodeName != "node-a" {
			t.Fatalf("%s: driver on %s, want node-a", app, old[app].Spec.NodeName)
		}
	}
	e.kubectl("uncordon", "node-b")
	e.eventually(20*time.Second, "both drivers writing their checkpoints", func() (bool, string) {
		ws := e.writes()
		_, b := writerOf(ws, string(old["blocks"].UID))
		_, f := writerOf(ws, string(old["files"].UID))
		return b && f, fmt.Sprint(truth.Writers(ws))
	})

	must(t, e.sb.Isolate("node-a"))
	e.waitNodeLost("node-a")
	evicted := time.Now()
	for app := range kinds {
		e.waitEvicted(ns, old[app].Name)
		a := e.verdict(ns, app, "iso-"+app+"-isolated", analysis.StuckTerminating)
		ev := a.LostNodeEvidence
		if ev == nil || ev.Ready != "Unknown" || ev.Alive != "" || ev.Down != "" ||
			!strings.HasPrefix(a.NextAction, "if node-a comes back, recovery completes by itself;") {
			t.Fatalf("%s: evidence %+v, next %q: want no evidence either way and a conditional next action", app, ev, a.NextAction)
		}
	}
	// The API shows the drivers evicted; the machine has not heard of it.
	e.eventually(20*time.Second, "the isolated drivers still writing after their eviction", func() (bool, string) {
		ws := e.writes()
		b, _ := writerOf(ws, string(old["blocks"].UID))
		f, _ := writerOf(ws, string(old["files"].UID))
		return b.Last.After(evicted) && f.Last.After(evicted), fmt.Sprint(truth.Writers(ws))
	})

	// The operator's word, wrong: the machine is not powered off. One fence serves both apps: it
	// force-deletes every pod on node-a, as the plan says.
	out, stderr, code := e.cli("failover", "blocks", "-n", ns, "--node-down", "--yes", "--wait", "--timeout", "120s")
	if code != 0 || !strings.Contains(out, "failover of "+ns+"/blocks complete: a new driver runs") || !strings.Contains(out, old["files"].Name) {
		t.Fatalf("failover exit %d (want 0, the plan naming %s too)\n%s\n%s", code, old["files"].Name, out, stderr)
	}
	next := map[string]corev1.Pod{}
	for app := range kinds {
		next[app] = e.runningDriver(ns, app)
		e.verdict(ns, app, "iso-"+app+"-fenced", analysis.Healthy)
	}
	e.eventually(30*time.Second, "the new drivers writing", func() (bool, string) {
		ws := e.writes()
		_, b := writerOf(ws, string(next["blocks"].UID))
		_, f := writerOf(ws, string(next["files"].UID))
		return b && f, fmt.Sprint(truth.Writers(ws))
	})
	// Both old drivers still run on node-a: the fence stopped nothing there.
	for app, d := range old {
		if iv, found := truth.Process(e.truth(ns), string(d.UID)); !found || !iv.Running() {
			t.Errorf("%s: the old driver's run %v (found %t): want still running on the isolated machine", app, iv, found)
		}
	}
	ws := e.writes()
	bOld, _ := writerOf(ws, string(old["blocks"].UID))
	bNew, _ := writerOf(ws, string(next["blocks"].UID))
	if bOld.Refused == 0 || !bOld.Last.Before(bNew.First) || bOld.FirstRefused.After(bNew.First) {
		t.Errorf("block storage: old %v, new %v: want the old driver's writes refused from the detach on, before the new one wrote", bOld, bNew)
	}
	var pairs [][2]truth.Writer
	e.eventually(10*time.Second, "two writers of the file system's checkpoint", func() (bool, string) {
		pairs = truth.ConcurrentWriters(e.writes())
		return len(pairs) > 0, fmt.Sprint(truth.Writers(e.writes()))
	})
	if len(pairs) != 1 || pairs[0][0].UID != string(old["files"].UID) || pairs[0][1].UID != string(next["files"].UID) {
		t.Fatalf("two writers of one checkpoint: %v; want exactly the file system's old and new driver", pairs)
	}
	t.Logf("RWX on an isolated machine fenced on the operator's word: %s | %s", pairs[0][0], pairs[0][1])

	// The machine reconnects: its kubelet learns its pods are gone and stops them.
	must(t, e.sb.Rejoin("node-a"))
	e.eventually(60*time.Second, "the orphaned drivers stopped once node-a reconnects", func() (bool, string) {
		for _, d := range old {
			if iv, _ := truth.Process(e.truth(ns), string(d.UID)); iv.Running() {
				return false, iv.String()
			}
		}
		return true, ""
	})
}
