package failover

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
)

// cluster serves a captured snapshot (internal/fixture/snapshots) from a fake clientset,
// changed by mutate first, and a Runner on it at the moment of the capture.
func cluster(t *testing.T, name string, nodeDown bool, mutate func(*analysis.Snapshot)) (*fake.Clientset, *Runner, *[]string) {
	t.Helper()
	f := fixture.Load(t, name)
	if mutate != nil {
		mutate(&f.Snapshot)
	}
	s := &f.Snapshot
	client := fake.NewClientset(f.Objects()...)
	var lines []string
	ns, app := s.DriverPods[0].Namespace, s.DriverPods[0].OwnerReferences[0].Name
	r := &Runner{Client: client, Dynamic: fixture.Dynamic(), Namespace: ns, App: app, NodeDown: nodeDown, actor: "oncall",
		Now: func() time.Time { return f.Now }, Progress: func(l string) { lines = append(lines, l) }, Poll: time.Millisecond}
	return client, r, &lines
}

func getNode(t *testing.T, c *fake.Clientset, name string) *corev1.Node {
	t.Helper()
	n, err := c.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func outOfService(n *corev1.Node) *corev1.Taint {
	for i := range n.Spec.Taints {
		if n.Spec.Taints[i].Key == corev1.TaintNodeOutOfService {
			return &n.Spec.Taints[i]
		}
	}
	return nil
}

func setNodeReady(n *corev1.Node, status corev1.ConditionStatus) {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == corev1.NodeReady {
			n.Status.Conditions[i].Status = status
		}
	}
}

func TestPlanThenExecuteFences(t *testing.T) {
	ctx := context.Background()
	client, r, lines := cluster(t, "s1-step5-replacement-blocked", true, nil)
	p, app, err := r.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if app.Verdict != analysis.ReplacementBlocked || p.Outcome != analysis.Act || len(p.Steps) != 2 || p.Steps[0].Action != analysis.FenceNode || p.Steps[0].Node != "node-a" ||
		p.Steps[1].Action != analysis.CollectOldDriver || p.Steps[1].Pod != "spark-pi-95sbm" || p.Steps[1].Node != "node-a" {
		t.Fatalf("plan %+v (verdict %s)", p, app.Verdict)
	}
	// The blast radius is what runs on node-a (the fake clientset ignores the field selector,
	// so it lists node-b's pods too).
	if !slices.Contains(p.BlastRadius, "s1/spark-pi-95sbm") {
		t.Errorf("blast radius %q misses the old driver", p.BlastRadius)
	}
	if err := r.Execute(ctx, p); err != nil {
		t.Fatal(err)
	}
	taint := outOfService(getNode(t, client, "node-a"))
	if taint == nil || taint.Value != analysis.OutOfServiceValue || taint.Effect != corev1.TaintEffectNoExecute {
		t.Fatalf("node-a taint %+v", taint)
	}
	if outOfService(getNode(t, client, "node-b")) != nil {
		t.Fatal("node-b fenced too")
	}
	want := "fence node node-a (taint node.kubernetes.io/out-of-service=nodeshutdown:NoExecute): done\n" +
		"collect old driver spark-pi-95sbm from fenced node node-a once it is evicted (mark Failed, delete with grace period 0, as the pod garbage collector would): done"
	if strings.Join(*lines, "\n") != want {
		t.Errorf("progress %q, want %q", *lines, want)
	}
	// The old driver, terminating on the fenced node, was marked Failed (DisruptionTarget) and
	// deleted with grace period 0, as PodGC would: the Job counts it and starts no other.
	var failed, deleted bool
	for _, a := range client.Actions() {
		switch a := a.(type) {
		case k8stesting.UpdateAction:
			if pod, ok := a.GetObject().(*corev1.Pod); ok && a.GetSubresource() == "status" && pod.Name == "spark-pi-95sbm" {
				c := podCondition(pod, corev1.DisruptionTarget)
				// The taint manager's DisruptionTarget (DeletionByTaintManager) stays, as with PodGC.
				failed = pod.Status.Phase == corev1.PodFailed && c != nil && c.Status == corev1.ConditionTrue
			}
		case k8stesting.DeleteAction:
			if a.GetName() == "spark-pi-95sbm" {
				o := a.GetDeleteOptions()
				deleted = failed && o.GracePeriodSeconds != nil && *o.GracePeriodSeconds == 0 && o.Preconditions != nil && o.Preconditions.UID != nil
			}
		}
	}
	if !failed || !deleted {
		t.Errorf("old driver marked Failed %t, then deleted with grace period 0 and its UID %t", failed, deleted)
	}
	var a Audit
	if err := json.Unmarshal([]byte(getNode(t, client, "node-a").Annotations[AuditAnnotation]), &a); err != nil || a.Action != analysis.FenceNode || a.By != "oncall" {
		t.Errorf("node audit %+v (%v)", a, err)
	}
}

// TestExecuteDecidesAgain: between the plan and the write the state changes; Execute re-decides
// from fresh evidence before the fence and does not fence.
func TestExecuteDecidesAgain(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		cond    batchv1.JobConditionType
		fenced  bool // someone else fenced node-a meanwhile
		wantErr string
		lines   string
	}{
		{name: "fenced by someone else meanwhile: the collection goes on", fenced: true,
			lines: "fence node node-a (taint node.kubernetes.io/out-of-service=nodeshutdown:NoExecute): already done (now SafeToComplete)\n" +
				"collect old driver spark-pi-95sbm from fenced node node-a once it is evicted (mark Failed, delete with grace period 0, as the pod garbage collector would): done"},
		{name: "the Job completed meanwhile: nothing left to do", cond: batchv1.JobComplete,
			lines: "fence node node-a (taint node.kubernetes.io/out-of-service=nodeshutdown:NoExecute): already done (now Finished)\n" +
				"collect old driver spark-pi-95sbm from fenced node node-a once it is evicted (mark Failed, delete with grace period 0, as the pod garbage collector would): already done (now Finished)"},
		{name: "the Job failed meanwhile: stop", cond: batchv1.JobFailed,
			wantErr: "the state changed before fence node node-a (taint node.kubernetes.io/out-of-service=nodeshutdown:NoExecute) (now RetriesExhausted: the Job failed (BackoffLimitExceeded: injected); no new driver will start); nothing was done: rerun to decide again"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, r, lines := cluster(t, "s1-step5-replacement-blocked", true, nil)
			p, _, err := r.Plan(ctx)
			if err != nil || p.Outcome != analysis.Act {
				t.Fatalf("plan %+v, %v", p, err)
			}
			job, err := client.BatchV1().Jobs(r.Namespace).Get(ctx, r.App, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.cond != "" {
				job.Status.Conditions = append(job.Status.Conditions, batchv1.JobCondition{Type: tc.cond, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "injected"})
				if _, err := client.BatchV1().Jobs(r.Namespace).UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.fenced {
				n := getNode(t, client, "node-a")
				n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeOutOfService, Value: analysis.OutOfServiceValue, Effect: corev1.TaintEffectNoExecute})
				if _, err := client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			err = r.Execute(ctx, p)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("Execute: %v, want %q", err, tc.wantErr)
			}
			if got := strings.Join(*lines, "\n"); got != tc.lines {
				t.Errorf("progress %q, want %q", got, tc.lines)
			}
			if n := getNode(t, client, "node-a"); outOfService(n) != nil && !tc.fenced || n.Annotations[AuditAnnotation] != "" {
				t.Fatalf("node-a fenced after the state changed: %+v", n.Spec.Taints)
			}
		})
	}
}

// TestFenceRechecksReady: the node's kubelet came back between the decision and the write.
func TestFenceRechecksReady(t *testing.T) {
	ctx := context.Background()
	client, r, _ := cluster(t, "s1-step5-replacement-blocked", true, func(s *analysis.Snapshot) {
		for i := range s.Nodes {
			setNodeReady(&s.Nodes[i], corev1.ConditionTrue)
		}
	})
	acted, err := r.fence(ctx, analysis.Step{Action: analysis.FenceNode, Node: "node-a"})
	var refused *ErrRefused
	if acted || !errors.As(err, &refused) || err.Error() != "refusing to fence node node-a: it is Ready again, so it is not down. Rerun without --node-down: kubectl sparkha failover spark-pi -n s1" {
		t.Fatalf("fence of a Ready node: %v, %v", acted, err)
	}
	if outOfService(getNode(t, client, "node-a")) != nil {
		t.Fatal("a Ready node was fenced")
	}
	// Already fenced (by another run): nothing to do, no second taint.
	n := getNode(t, client, "node-a")
	n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeOutOfService, Value: analysis.OutOfServiceValue, Effect: corev1.TaintEffectNoExecute})
	if _, err := client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if acted, err := r.fence(ctx, analysis.Step{Action: analysis.FenceNode, Node: "node-a"}); acted || err != nil {
		t.Fatalf("fence of a fenced node: %v, %v", acted, err)
	}
}

func TestExecuteFinishesTheOldDriver(t *testing.T) {
	ctx := context.Background()
	client, r, lines := cluster(t, "f1-rejoined-lingering", false, nil)
	p, app, err := r.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Finishing a driver force-deletes nothing else: only a fence has a blast radius.
	if app.Verdict != analysis.SafeToComplete || len(p.Steps) != 1 || p.Steps[0].Action != analysis.FinishOldDriver || p.BlastRadius != nil {
		t.Fatalf("plan %+v (verdict %s)", p, app.Verdict)
	}
	pod := p.Steps[0].Pod
	if err := r.Execute(ctx, p); err != nil {
		t.Fatal(err)
	}
	var status *corev1.Pod
	var deleted bool
	for _, a := range client.Actions() {
		switch {
		case a.GetVerb() == "update" && a.GetSubresource() == "status" && a.GetResource().Resource == "pods":
			status = a.(k8stesting.UpdateAction).GetObject().(*corev1.Pod)
		case a.GetVerb() == "delete" && a.GetResource().Resource == "pods":
			d := a.(k8stesting.DeleteAction)
			o := d.GetDeleteOptions()
			deleted = d.GetName() == pod && o.GracePeriodSeconds != nil && *o.GracePeriodSeconds == 0 &&
				o.Preconditions != nil && o.Preconditions.UID != nil && string(*o.Preconditions.UID) == p.Steps[0].PodUID
		}
	}
	if status == nil || status.Status.Phase != corev1.PodFailed {
		t.Fatalf("pod %s not marked Failed: %+v", pod, status)
	}
	// The taint manager's DisruptionTarget condition is kept: the Job controller does not count
	// the pod against the backoff limit either way.
	disrupted := false
	for _, c := range status.Status.Conditions {
		disrupted = disrupted || c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue
	}
	if !disrupted {
		t.Errorf("no DisruptionTarget condition: %+v", status.Status.Conditions)
	}
	for _, c := range status.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Reason != "DeletionByTaintManager" {
			t.Errorf("the taint manager's DisruptionTarget condition was replaced: %+v", c)
		}
	}
	if !deleted {
		t.Fatalf("pod %s not deleted with grace period 0 and its UID: %v", pod, client.Actions())
	}
	if want := "finish old driver " + pod + " (mark Failed, delete with grace period 0): done"; strings.Join(*lines, "\n") != want {
		t.Errorf("progress %q, want %q", *lines, want)
	}
}

// TestFinishRechecksThePremise: finish writes only a deleted pod whose containers all stopped on
// a Ready node, the one the plan named; otherwise it does nothing.
func TestFinishRechecksThePremise(t *testing.T) {
	ctx := context.Background()
	refusal := "pod stream-j4nqb no longer shows its containers stopped on a Ready node; nothing was done: rerun to decide again"
	for _, tc := range []struct {
		name    string
		mutate  func(*analysis.Snapshot)
		uid     string
		wantErr string
	}{
		{name: "node no longer Ready", wantErr: refusal, mutate: func(s *analysis.Snapshot) { setNodeReady(&s.Nodes[0], corev1.ConditionUnknown) }},
		{name: "deletion withdrawn", wantErr: refusal, mutate: func(s *analysis.Snapshot) { s.DriverPods[0].DeletionTimestamp = nil }},
		{name: "a container runs again", wantErr: refusal, mutate: func(s *analysis.Snapshot) {
			s.DriverPods[0].Status.ContainerStatuses[0].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
		}},
		{name: "no container status", wantErr: refusal, mutate: func(s *analysis.Snapshot) { s.DriverPods[0].Status.ContainerStatuses = nil }},
		{name: "already Failed", mutate: func(s *analysis.Snapshot) { s.DriverPods[0].Status.Phase = corev1.PodFailed }},
		{name: "already Succeeded", mutate: func(s *analysis.Snapshot) { s.DriverPods[0].Status.Phase = corev1.PodSucceeded }},
		{name: "another pod by that name", uid: "other-uid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, r, _ := cluster(t, "f1-rejoined-lingering", false, tc.mutate)
			pod, err := client.CoreV1().Pods(r.Namespace).Get(ctx, "stream-j4nqb", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if pod.Spec.NodeName != "node-a" || r.Client.(*fake.Clientset) != client {
				t.Fatalf("fixture: pod on %q", pod.Spec.NodeName)
			}
			uid := string(pod.UID)
			if tc.uid != "" {
				uid = tc.uid
			}
			client.ClearActions()
			acted, err := r.finish(ctx, analysis.Step{Action: analysis.FinishOldDriver, Node: "node-a", Pod: pod.Name, PodUID: uid})
			if acted || tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("finish: %v, %v; want false, %q", acted, err, tc.wantErr)
			}
			for _, a := range client.Actions() {
				if a.GetVerb() != "get" {
					t.Errorf("wrote %s %s/%s", a.GetVerb(), a.GetResource().Resource, a.GetSubresource())
				}
			}
		})
	}
}

// sparkhaFence taints the first node out-of-service as failover does, its fence recorded in
// the node's audit annotation.
func sparkhaFence(s *analysis.Snapshot) {
	s.Nodes[0].Spec.Taints = append(s.Nodes[0].Spec.Taints, corev1.Taint{Key: corev1.TaintNodeOutOfService, Value: analysis.OutOfServiceValue, Effect: corev1.TaintEffectNoExecute})
	if s.Nodes[0].Annotations == nil {
		s.Nodes[0].Annotations = map[string]string{}
	}
	s.Nodes[0].Annotations[AuditAnnotation] = `{"by":"oncall","action":"fence-node","node":"` + s.Nodes[0].Name + `","why":"down"}`
}

func TestRelease(t *testing.T) {
	ctx := context.Background()
	fence := func(ready corev1.ConditionStatus) func(*analysis.Snapshot) {
		return func(s *analysis.Snapshot) {
			setNodeReady(&s.Nodes[0], ready)
			s.Nodes[0].Spec.Taints = []corev1.Taint{{Key: "example.com/maintenance", Effect: corev1.TaintEffectNoSchedule}}
			sparkhaFence(s)
		}
	}
	t.Run("repaired and Ready: the fence is lifted, other taints stay", func(t *testing.T) {
		client, r, _ := cluster(t, "f1-rejoined-lingering", false, func(s *analysis.Snapshot) {
			fence(corev1.ConditionTrue)(s)
			// What returns to service is the PV attached to node-a: not one attached to
			// node-b, nor an inline volume (migrated in-tree, no PV) attached to node-a.
			other := *s.VolumeAttachments[0].DeepCopy()
			other.Name, other.Spec.NodeName = "csi-on-node-b", "node-b"
			other.Spec.Source.PersistentVolumeName = ptr.To("pvc-on-node-b")
			inline := *s.VolumeAttachments[0].DeepCopy()
			inline.Name = "csi-inline"
			inline.Spec.Source = storagev1.VolumeAttachmentSource{InlineVolumeSpec: &corev1.PersistentVolumeSpec{}}
			s.VolumeAttachments = append(s.VolumeAttachments, other, inline)
		})
		released, checked, err := r.Release(ctx, "node-a")
		if !released || err != nil {
			t.Fatalf("release: %v, %v", released, err)
		}
		if !slices.Contains(checked.Pods, "f1/stream-j4nqb") {
			t.Errorf("checked pods %v, want the lingering driver on node-a", checked.Pods)
		}
		if want := "pvc-ecda2799-5376-4211-a0b0-ebdd5fd17dab@node-a"; strings.Join(checked.VolumeAttachments, ",") != want {
			t.Errorf("checked volume attachments %v, want %s", checked.VolumeAttachments, want)
		}
		n := getNode(t, client, "node-a")
		if len(n.Spec.Taints) != 1 || n.Spec.Taints[0].Key != "example.com/maintenance" {
			t.Fatalf("taints %+v", n.Spec.Taints)
		}
		var a Audit
		if err := json.Unmarshal([]byte(n.Annotations[AuditAnnotation]), &a); err != nil || a.Action != "release-node" || a.By != "oncall" {
			t.Errorf("audit %+v (%v)", a, err)
		}
		evs, _ := client.CoreV1().Events(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{})
		if len(evs.Items) != 1 || evs.Items[0].Reason != "FailoverReleasedNode" || evs.Items[0].InvolvedObject.Name != "node-a" {
			t.Errorf("events %+v", evs.Items)
		}
	})
	t.Run("not Ready: refused, the fence stays", func(t *testing.T) {
		client, r, _ := cluster(t, "f1-rejoined-lingering", false, fence(corev1.ConditionUnknown))
		released, _, err := r.Release(ctx, "node-a")
		var refused *ErrRefused
		if released || !errors.As(err, &refused) || !strings.HasPrefix(err.Error(), "refusing to release node node-a: it is not Ready.") {
			t.Fatalf("release: %v, %v", released, err)
		}
		if outOfService(getNode(t, client, "node-a")) == nil {
			t.Fatal("fence lifted from a node that is not Ready")
		}
	})
	t.Run("a taint sparkha did not put: refused, the fence stays", func(t *testing.T) {
		client, r, _ := cluster(t, "f1-rejoined-lingering", false, func(s *analysis.Snapshot) {
			s.Nodes[0].Spec.Taints = []corev1.Taint{{Key: corev1.TaintNodeOutOfService, Value: "by-the-storage-team", Effect: corev1.TaintEffectNoExecute}}
		})
		released, _, err := r.Release(ctx, "node-a")
		var refused *ErrRefused
		if released || !errors.As(err, &refused) || !strings.Contains(err.Error(), "was not put there by kubectl sparkha failover") ||
			!strings.HasSuffix(err.Error(), "kubectl taint node node-a node.kubernetes.io/out-of-service-") {
			t.Fatalf("release: %v, %v", released, err)
		}
		if outOfService(getNode(t, client, "node-a")) == nil {
			t.Fatal("someone else's fence lifted")
		}
	})
	t.Run("no fence: nothing to do", func(t *testing.T) {
		client, r, _ := cluster(t, "f1-rejoined-lingering", false, nil)
		client.ClearActions()
		if released, _, err := r.Release(ctx, "node-b"); released || err != nil {
			t.Fatalf("release: %v, %v", released, err)
		}
		for _, a := range client.Actions() {
			if a.GetVerb() != "get" && a.GetVerb() != "list" && a.GetResource().Resource != "selfsubjectreviews" {
				t.Errorf("wrote %s %s", a.GetVerb(), a.GetResource().Resource)
			}
		}
	})
}

// TestWaitFollowsThePhases: after a fence the waits are reached in order on the recovered
// cluster; on a cluster still blocked the wait times out naming the phase it was stuck in.
func TestWaitFollowsThePhases(t *testing.T) {
	ctx := context.Background()
	_, before, _ := cluster(t, "s1-step5-replacement-blocked", true, nil)
	p, old, err := before.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, r, lines := cluster(t, "s1-step7-recovered", true, nil)
	if err := r.Wait(ctx, p, *old, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(*lines, "|"), strings.Join(p.Waits, "|"); got != want || len(p.Waits) != 4 {
		t.Errorf("phases %q, want %q", got, want)
	}

	_, r, lines = cluster(t, "s1-step5-replacement-blocked", true, nil)
	// The deadline may cut a gather short: the error then adds it as the last one.
	err = r.Wait(ctx, p, *old, 300*time.Millisecond)
	var timeout *TimeoutError
	if !errors.As(err, &timeout) || timeout.Phase != analysis.WaitOldGone || timeout.Evidence == nil || timeout.Evidence.Verdict != analysis.ReplacementBlocked ||
		!strings.HasPrefix(err.Error(), "timed out after 300ms waiting for old driver gone") {
		t.Fatalf("Wait on a blocked cluster: %v", err)
	}
	if len(*lines) != 0 {
		t.Errorf("phases reached on a blocked cluster: %q", *lines)
	}
	if err := r.Wait(ctx, analysis.Plan{}, *old, time.Minute); err != nil {
		t.Errorf("Wait with no phases: %v", err)
	}

	// Fenced before eviction: the old driver on the lost node was never deleted, and it is
	// still the old one while its pod stays.
	_, r, lines = cluster(t, "s1-step3-node-lost", true, nil)
	p, old, err = r.Plan(ctx)
	if err != nil || p.Outcome != analysis.Act {
		t.Fatalf("plan %+v, %v", p, err)
	}
	err = r.Wait(ctx, p, *old, 300*time.Millisecond)
	if !errors.As(err, &timeout) || timeout.Phase != analysis.WaitOldGone || len(*lines) != 0 {
		t.Fatalf("Wait while the old driver's pod stays: %v, phases %q", err, *lines)
	}
}

// TestReached: each phase on hand-made evidence, one case on each side of its rule.
func TestReached(t *testing.T) {
	old := map[string]bool{"old": true}
	oldOn := func(phase string) analysis.Driver {
		return analysis.Driver{UID: "old", Node: "node-a", Phase: phase, Ended: phase == "Failed"}
	}
	vol := func(nodes ...string) []analysis.Volume {
		v := analysis.Volume{Name: "checkpoint"}
		for _, n := range nodes {
			v.Attachments = append(v.Attachments, analysis.Attachment{Node: n, Attached: true})
		}
		return []analysis.Volume{v}
	}
	newOn := func(node, phase string, vols []analysis.Volume) analysis.Driver {
		return analysis.Driver{UID: "new", Node: node, Phase: phase, Volumes: vols}
	}
	for _, tc := range []struct {
		name, phase, lost string
		app               analysis.App
		want              bool
	}{
		{"old driver still Running", analysis.WaitOldGone, "node-a", analysis.App{Drivers: []analysis.Driver{oldOn("Running")}}, false},
		{"old driver Failed", analysis.WaitOldGone, "node-a", analysis.App{Drivers: []analysis.Driver{oldOn("Failed"), newOn("", "Pending", nil)}}, true},
		{"old driver gone", analysis.WaitOldGone, "node-a", analysis.App{Drivers: []analysis.Driver{newOn("", "Pending", nil)}}, true},
		{"volume still on the lost node", analysis.WaitDetached, "node-a", analysis.App{Drivers: []analysis.Driver{newOn("node-b", "Pending", vol("node-a"))}}, false},
		{"volume left the lost node", analysis.WaitDetached, "node-a", analysis.App{Drivers: []analysis.Driver{newOn("node-b", "Pending", vol("node-b"))}}, true},
		{"no lost node named", analysis.WaitDetached, "", analysis.App{Drivers: []analysis.Driver{{UID: "new", Volumes: []analysis.Volume{{Attachments: []analysis.Attachment{{Node: ""}}}}}}}, true},
		{"new driver not scheduled", analysis.WaitNewAttached, "node-a", analysis.App{Drivers: []analysis.Driver{newOn("", "Pending", vol())}}, false},
		{"no new driver", analysis.WaitNewAttached, "node-a", analysis.App{Drivers: []analysis.Driver{oldOn("Running")}}, false},
		{"attached elsewhere only", analysis.WaitNewAttached, "node-a", analysis.App{Drivers: []analysis.Driver{newOn("node-b", "Pending", vol("node-a"))}}, false},
		{"attached to the new node", analysis.WaitNewAttached, "node-a", analysis.App{Drivers: []analysis.Driver{newOn("node-b", "Pending", vol("node-a", "node-b"))}}, true},
		{"new driver Running, Healthy", analysis.WaitNewRunning, "node-a", analysis.App{Verdict: analysis.Healthy, Drivers: []analysis.Driver{newOn("node-b", "Running", nil)}}, true},
		{"new driver Running, not Healthy yet", analysis.WaitNewRunning, "node-a", analysis.App{Verdict: analysis.SplitBrainRisk, Drivers: []analysis.Driver{oldOn("Running"), newOn("node-b", "Running", nil)}}, false},
		{"new driver Pending", analysis.WaitNewRunning, "node-a", analysis.App{Verdict: analysis.Healthy, Drivers: []analysis.Driver{newOn("node-b", "Pending", nil)}}, false},
		{"only the old driver Running", analysis.WaitNewRunning, "node-a", analysis.App{Verdict: analysis.Healthy, Drivers: []analysis.Driver{oldOn("Running")}}, false},
		{"newest driver ended: the one before counts", analysis.WaitNewRunning, "node-a", analysis.App{Verdict: analysis.Healthy,
			Drivers: []analysis.Driver{newOn("node-b", "Running", nil), {UID: "newer", Node: "node-b", Phase: "Failed", Ended: true}}}, true},
		{"unknown phase", "something else", "node-a", analysis.App{Verdict: analysis.Healthy, Drivers: []analysis.Driver{newOn("node-b", "Running", nil)}}, false},
	} {
		if got := reached(tc.phase, &tc.app, old, tc.lost); got != tc.want {
			t.Errorf("%s: %s reached %v, want %v", tc.name, tc.phase, got, tc.want)
		}
	}
}

// TestConflictsAreTriedFiveTimes: a node that changes under every write (heartbeats, another
// run) is read again and written again, five tries in all (client-go's retry.DefaultRetry),
// then the fence or release gives up unchanged.
func TestConflictsAreTriedFiveTimes(t *testing.T) {
	ctx := context.Background()
	conflicts := func(c *fake.Clientset) *int {
		n := 0
		c.PrependReactor("update", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
			n++
			return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "nodes"}, "node-a", errors.New("injected"))
		})
		return &n
	}
	client, r, _ := cluster(t, "s1-step5-replacement-blocked", true, nil)
	updates := conflicts(client)
	acted, err := r.fence(ctx, analysis.Step{Action: analysis.FenceNode, Node: "node-a"})
	if acted || err == nil || err.Error() != "node node-a keeps changing while fencing it; nothing was done: rerun" || *updates != retry.DefaultRetry.Steps {
		t.Fatalf("fence: %v, %v after %d updates", acted, err, *updates)
	}
	client, r, _ = cluster(t, "f1-rejoined-lingering", false, sparkhaFence)
	updates = conflicts(client)
	released, _, err := r.Release(ctx, "node-a")
	if released || err == nil || !strings.HasPrefix(err.Error(), "removing the taint from node node-a: ") || *updates != retry.DefaultRetry.Steps {
		t.Fatalf("release: %v, %v after %d updates", released, err, *updates)
	}
}

// TestFinishAddsDisruptionTarget: a pod without the condition gets ours, beside its others.
func TestFinishAddsDisruptionTarget(t *testing.T) {
	ctx := context.Background()
	var before []corev1.PodCondition
	client, r, _ := cluster(t, "f1-rejoined-lingering", false, func(s *analysis.Snapshot) {
		p := &s.DriverPods[0]
		var kept []corev1.PodCondition
		for _, c := range p.Status.Conditions {
			if c.Type != corev1.DisruptionTarget {
				kept = append(kept, c)
			}
		}
		p.Status.Conditions = kept
		before = kept
	})
	if len(before) == 0 {
		t.Fatal("fixture: the pod has no other condition")
	}
	pod, err := client.CoreV1().Pods(r.Namespace).Get(ctx, "stream-j4nqb", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	client.ClearActions()
	if acted, err := r.finish(ctx, analysis.Step{Action: analysis.FinishOldDriver, Node: "node-a", Pod: pod.Name, PodUID: string(pod.UID)}); !acted || err != nil {
		t.Fatalf("finish: %v, %v", acted, err)
	}
	for _, a := range client.Actions() {
		if a.GetVerb() != "update" || a.GetSubresource() != "status" {
			continue
		}
		conds := a.(k8stesting.UpdateAction).GetObject().(*corev1.Pod).Status.Conditions
		last := conds[len(conds)-1]
		if len(conds) != len(before)+1 || last.Type != corev1.DisruptionTarget || last.Reason != "DeletionBySparkhaFailover" {
			t.Fatalf("conditions %+v, want the %d before and DisruptionTarget", conds, len(before))
		}
		return
	}
	t.Fatal("no status update")
}

func TestTimeoutErrorMessage(t *testing.T) {
	e := &TimeoutError{Phase: analysis.WaitNewRunning, Timeout: time.Minute}
	if got := e.Error(); got != "timed out after 1m0s waiting for new driver Running" {
		t.Errorf("%q", got)
	}
	e.LastErr = errors.New("connection refused")
	if got := e.Error(); got != "timed out after 1m0s waiting for new driver Running (last error reading the state: connection refused)" {
		t.Errorf("%q", got)
	}
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// TestCollectRechecks: the old driver is collected only while it is terminating on a node that
// is fenced and not Ready, each read from the live objects just before the writes.
func TestCollectRechecks(t *testing.T) {
	saved := evictionWait
	evictionWait = 50 * time.Millisecond
	t.Cleanup(func() { evictionWait = saved })
	ctx := context.Background()
	fence := func(s *analysis.Snapshot) {
		s.Nodes[0].Spec.Taints = append(s.Nodes[0].Spec.Taints, corev1.Taint{Key: corev1.TaintNodeOutOfService, Value: analysis.OutOfServiceValue, Effect: corev1.TaintEffectNoExecute})
	}
	for _, tt := range []struct {
		name    string
		mutate  func(*analysis.Snapshot)
		acted   bool
		wantErr string
		exists  bool
	}{
		{name: "terminating on a fenced, lost node: collected", mutate: fence, acted: true},
		{name: "not fenced: left alone", mutate: nil, exists: true,
			wantErr: "node node-a is no longer fenced and not Ready; pod spark-pi-95sbm was left alone: rerun to decide again"},
		{name: "fenced but Ready again: left alone", exists: true, mutate: func(s *analysis.Snapshot) { fence(s); setNodeReady(&s.Nodes[0], corev1.ConditionTrue) },
			wantErr: "node node-a is no longer fenced and not Ready; pod spark-pi-95sbm was left alone: rerun to decide again"},
		{name: "not evicted (tolerates the taint): left to Kubernetes", exists: true, mutate: func(s *analysis.Snapshot) { fence(s); s.DriverPods[0].DeletionTimestamp = nil }},
		{name: "already Failed: nothing to do", exists: true, mutate: func(s *analysis.Snapshot) { fence(s); s.DriverPods[0].Status.Phase = corev1.PodFailed }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client, r, _ := cluster(t, "s1-step5-replacement-blocked", true, tt.mutate)
			step := analysis.Step{Action: analysis.CollectOldDriver, Node: "node-a", Pod: "spark-pi-95sbm", PodUID: "a3711613-d1d2-4e3c-80ee-e9a32342ed51"}
			acted, err := r.collect(ctx, step)
			if acted != tt.acted || (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Fatalf("collect: %t, %v; want %t, %q", acted, err, tt.acted, tt.wantErr)
			}
			_, err = client.CoreV1().Pods("s1").Get(ctx, "spark-pi-95sbm", metav1.GetOptions{})
			if exists := err == nil; exists != tt.exists {
				t.Errorf("old driver exists %t, want %t", exists, tt.exists)
			}
		})
	}
}

// TestFenceRechecksEvidenceOfLife: the kubelet renewed its Lease between the plan and the
// write: the fence is refused on the live evidence, unless the operator overrides it.
func TestFenceRechecksEvidenceOfLife(t *testing.T) {
	ctx := context.Background()
	for _, ignore := range []bool{false, true} {
		client, r, _ := cluster(t, "s3-step4-stuck-terminating", true, nil)
		r.IgnoreNodeEvidence = ignore
		l, err := client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, "node-a", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		l.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
		if _, err := client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Update(ctx, l, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		acted, err := r.fence(ctx, analysis.Step{Action: analysis.FenceNode, Node: "node-a"})
		var refused *ErrRefused
		if ignore {
			if !acted || err != nil || outOfService(getNode(t, client, "node-a")) == nil {
				t.Errorf("--ignore-node-evidence: fenced %t, %v", acted, err)
			}
			continue
		}
		if acted || !errors.As(err, &refused) || !strings.Contains(err.Error(), "refusing to fence node node-a: its kubelet renewed its Lease at") ||
			outOfService(getNode(t, client, "node-a")) != nil {
			t.Errorf("a Lease renewed after NotReady: fenced %t, %v", acted, err)
		}
	}
}

// TestFenceRelistsTheBlastRadius: a pod scheduled on the node after the plan is force-deleted
// by the fence too: the operator is asked again (refusing stops the fence), or, with --yes,
// the progress and the audit name it.
func TestFenceRelistsTheBlastRadius(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name      string
		reconfirm func(string, []string) bool
		fenced    bool
	}{
		{"--yes: fenced, the newcomer recorded", nil, true},
		{"asked again, confirmed", func(string, []string) bool { return true }, true},
		{"asked again, declined", func(string, []string) bool { return false }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client, r, lines := cluster(t, "s1-step5-replacement-blocked", true, nil)
			p, _, err := r.Plan(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var asked []string
			if tt.reconfirm != nil {
				r.Reconfirm = func(node string, added []string) bool { asked = added; return tt.reconfirm(node, added) }
			}
			late := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "late", Namespace: "other"}, Spec: corev1.PodSpec{NodeName: "node-a"}}
			if _, err := client.CoreV1().Pods("other").Create(ctx, late, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			err = r.Execute(ctx, p)
			if fenced := outOfService(getNode(t, client, "node-a")) != nil; fenced != tt.fenced {
				t.Fatalf("fenced %t, want %t (%v)", fenced, tt.fenced, err)
			}
			if tt.reconfirm != nil && strings.Join(asked, ",") != "other/late" {
				t.Errorf("asked about %v, want other/late", asked)
			}
			if !tt.fenced {
				if err == nil || err.Error() != "not confirmed: nothing was done" {
					t.Errorf("declined: %v", err)
				}
				return
			}
			if !strings.Contains(strings.Join(*lines, "\n"), "the fence also force-deletes pods that appeared on node-a since the plan: other/late") {
				t.Errorf("progress %q", *lines)
			}
			var a Audit
			if err := json.Unmarshal([]byte(getNode(t, client, "node-a").Annotations[AuditAnnotation]), &a); err != nil || !strings.HasSuffix(a.Why, "also force-deleted, appeared since the plan: other/late") {
				t.Errorf("audit %+v (%v)", a, err)
			}
		})
	}
}

// TestCollectWaitsForTheEviction: right after the fence the taint manager has not deleted the
// old driver yet; collect waits for the eviction (up to evictionWait, 10 s), reading the pod
// every 200 ms rather than in a busy loop, then collects it.
func TestCollectWaitsForTheEviction(t *testing.T) {
	ctx := context.Background()
	client, r, _ := cluster(t, "s1-step5-replacement-blocked", true, func(s *analysis.Snapshot) {
		s.Nodes[0].Spec.Taints = append(s.Nodes[0].Spec.Taints, corev1.Taint{Key: corev1.TaintNodeOutOfService, Value: analysis.OutOfServiceValue, Effect: corev1.TaintEffectNoExecute})
		s.DriverPods[0].DeletionTimestamp = nil
	})
	start, gets := time.Now(), 0
	client.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		gets++
		if time.Since(start) < 300*time.Millisecond {
			return false, nil, nil
		}
		// The taint manager evicts the pod: kube-controller-manager's
		// pkg/controller/tainteviction/taint_eviction.go, processPodOnNode, queues a pod that does
		// not tolerate a NoExecute taint for deletion at once; here it lands 300 ms after the fence.
		o, err := client.Tracker().Get(corev1.SchemeGroupVersion.WithResource("pods"), "s1", "spark-pi-95sbm")
		if err != nil {
			return false, nil, nil
		}
		pod := o.(*corev1.Pod)
		if pod.DeletionTimestamp == nil {
			pod.DeletionTimestamp = &metav1.Time{Time: time.Now()}
			if err := client.Tracker().Update(corev1.SchemeGroupVersion.WithResource("pods"), pod, "s1"); err != nil {
				t.Error(err)
			}
		}
		return false, nil, nil
	})
	step := analysis.Step{Action: analysis.CollectOldDriver, Node: "node-a", Pod: "spark-pi-95sbm", PodUID: "a3711613-d1d2-4e3c-80ee-e9a32342ed51"}
	if acted, err := r.collect(ctx, step); !acted || err != nil {
		t.Fatalf("collect: %t, %v; want the evicted pod collected", acted, err)
	}
	if _, err := client.CoreV1().Pods("s1").Get(ctx, "spark-pi-95sbm", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("old driver still there: %v", err)
	}
	// Reads at 0, 200 and 400 ms, the last one finding the pod evicted (and the check above).
	if gets > 5 {
		t.Errorf("%d reads of the pod in %s", gets, time.Since(start))
	}
}
