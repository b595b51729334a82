// Package failover carries out the failover plans of pkg/analysis against the API server:
// Runner.Plan decides from fresh evidence (pkg/inspect) and lists the blast radius of a fence,
// Execute decides again before every write and writes with preconditions, Wait follows the
// recovery, Release lifts a fence. It never deletes a PVC, a PV or anything holding data.
package failover

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/apiretry"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
)

// AuditAnnotation records, on the Job (or bare driver pod) and on a fenced
// node, who did what, when and why: JSON of Audit.
const AuditAnnotation = "sparkha.io/last-failover"

// EventSource is the component name of our audit Events.
const EventSource = "kubectl-sparkha"

// Audit is the content of AuditAnnotation.
type Audit struct {
	By     string          `json:"by"`
	At     time.Time       `json:"at"`
	Action analysis.Action `json:"action"`
	Node   string          `json:"node,omitempty"`
	Pod    string          `json:"pod,omitempty"`
	App    string          `json:"app,omitempty"`
	Why    string          `json:"why"`
}

// Runner carries out failovers. It never deletes a PVC, a PV or anything
// holding data: its only writes are a node taint, a driver pod's status and
// deletion, Events and annotations.
type Runner struct {
	Client kubernetes.Interface
	// Dynamic lists the medik8s remediations, evidence of a fenced machine (inspect.Remediations).
	Dynamic   dynamic.Interface
	Namespace string
	App       string
	NodeDown  bool
	// IgnoreNodeEvidence fences against evidence that the machine runs (recorded in the audit).
	IgnoreNodeEvidence bool
	// Resubmit plans the fence for a bare spark-submit driver, whose replacement the caller
	// starts (ResumeJob) once the old driver is gone.
	Resubmit bool
	// DryRun sends every write with dryRun=All (server-side dry run).
	DryRun bool
	// Progress receives one line per step or phase change.
	Progress func(string)
	Now      func() time.Time
	// Poll is how often Wait re-gathers the evidence.
	Poll time.Duration
	// Reconfirm asks the operator again when pods appeared on a node to fence since the plan
	// listed them (the fence force-deletes them too); nil (--yes) fences and records them.
	Reconfirm func(node string, added []string) bool

	// confirmed is the blast radius the operator saw in the plan.
	confirmed []string

	actor string
}

func (r *Runner) operator() analysis.Operator {
	return analysis.Operator{NodeDown: r.NodeDown, IgnoreNodeEvidence: r.IgnoreNodeEvidence, Resubmit: r.Resubmit}
}

func (r *Runner) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

func (r *Runner) progress(format string, args ...any) {
	if r.Progress != nil {
		r.Progress(fmt.Sprintf(format, args...))
	}
}

// Inspect gathers and analyses the app, as `inspect APP` does. Failover decides nothing on a
// partial view.
func (r *Runner) Inspect(ctx context.Context) (*analysis.App, error) {
	rep, _, err := inspect.Inspect(ctx, r.Client, r.Dynamic, inspect.Query{Namespace: r.Namespace, App: r.App, Now: r.now})
	if err != nil {
		return nil, err
	}
	if len(rep.Unavailable) > 0 {
		return nil, fmt.Errorf("cannot decide safely without seeing %s: failover needs to list nodes, PVs and VolumeAttachments (see docs/rbac.yaml)", strings.Join(rep.Unavailable, ", "))
	}
	return &rep.Apps[0], nil
}

// Plan decides what to do now and lists the blast radius of a fence.
func (r *Runner) Plan(ctx context.Context) (analysis.Plan, *analysis.App, error) {
	app, err := r.Inspect(ctx)
	if err != nil {
		return analysis.Plan{}, nil, err
	}
	p := analysis.Decide(*app, r.operator())
	for _, s := range p.Steps {
		if s.Action != analysis.FenceNode {
			continue
		}
		pods, err := r.podsOn(ctx, s.Node)
		if err != nil {
			return analysis.Plan{}, nil, fmt.Errorf("listing the pods on %s to show what the fence affects: %w", s.Node, err)
		}
		p.BlastRadius = append(p.BlastRadius, pods...)
	}
	return p, app, nil
}

// Execute runs the plan's steps. Before each step it decides again from fresh
// evidence and stops if the step is no longer part of the plan; each write
// carries a resourceVersion or UID precondition, so of two concurrent runs
// only one acts.
func (r *Runner) Execute(ctx context.Context, plan analysis.Plan) error {
	r.Actor(ctx)
	r.confirmed = plan.BlastRadius
	for i, step := range plan.Steps {
		app, err := r.Inspect(ctx)
		if err != nil {
			return err
		}
		again := analysis.Decide(*app, r.operator())
		if !containsStep(again, step) {
			// Done by someone else: nothing is left, or only the steps that follow this one.
			if again.Outcome == analysis.Act && allIn(again.Steps, plan.Steps[i+1:]) || again.Outcome == analysis.NothingToDo {
				r.progress("%s: already done (now %s)", analysis.Describe(step), app.Verdict)
				continue
			}
			return fmt.Errorf("the state changed before %s (now %s: %s); nothing was done: rerun to decide again", analysis.Describe(step), app.Verdict, app.Reason)
		}
		var acted bool
		switch step.Action {
		case analysis.FenceNode:
			acted, err = r.fence(ctx, step)
		case analysis.FinishOldDriver:
			acted, err = r.finish(ctx, step)
		case analysis.CollectOldDriver, analysis.CollectExecutor:
			acted, err = r.collect(ctx, step)
		}
		if err != nil {
			return err
		}
		if !acted {
			r.progress("%s: already done by someone else", analysis.Describe(step))
			continue
		}
		r.progress("%s: done", analysis.Describe(step))
		if err := r.audit(ctx, app, step); err != nil {
			return fmt.Errorf("%s was done, but recording it failed (%d tries): %w", analysis.Describe(step), apiretry.Backoff.Steps, err)
		}
	}
	return nil
}

func containsStep(p analysis.Plan, s analysis.Step) bool {
	return slices.ContainsFunc(p.Steps, func(x analysis.Step) bool { return sameStep(x, s) })
}

func sameStep(a, b analysis.Step) bool {
	return a.Action == b.Action && a.Node == b.Node && a.PodUID == b.PodUID
}

// allIn says whether every step of steps is one of in.
func allIn(steps, in []analysis.Step) bool {
	for _, s := range steps {
		if !slices.ContainsFunc(in, func(x analysis.Step) bool { return sameStep(x, s) }) {
			return false
		}
	}
	return true
}

// dryRun is the dryRun option of every write: All for a server-side dry run.
func (r *Runner) dryRun() []string {
	if r.DryRun {
		return []string{metav1.DryRunAll}
	}
	return nil
}

func (r *Runner) writeOpts() metav1.UpdateOptions { return metav1.UpdateOptions{DryRun: r.dryRun()} }

// fence taints the node; it reports false if the taint is already there.
// The update carries the resourceVersion just read, so of two concurrent
// runs one wins; the other re-reads, finds the taint and does nothing.
func (r *Runner) fence(ctx context.Context, step analysis.Step) (bool, error) {
	// The blast radius, listed again right before the write: what appeared since the plan is
	// force-deleted too, so the operator confirms it again, or, with --yes, the audit says so.
	pods, err := r.podsOn(ctx, step.Node)
	if err != nil {
		return false, fmt.Errorf("listing the pods on %s again before the fence: %w", step.Node, err)
	}
	if added := slices.DeleteFunc(pods, func(p string) bool { return slices.Contains(r.confirmed, p) }); len(added) > 0 {
		if r.Reconfirm != nil && !r.Reconfirm(step.Node, added) {
			return false, fmt.Errorf("not confirmed: nothing was done")
		}
		r.progress("the fence also force-deletes pods that appeared on %s since the plan: %s", step.Node, strings.Join(added, ", "))
		step.Why += "; also force-deleted, appeared since the plan: " + strings.Join(added, ", ")
	}
	acted := false
	// Heartbeats and other failovers change the node: on a conflict, read it again.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := r.Client.CoreV1().Nodes().Get(ctx, step.Node, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("reading node %s: %w", step.Node, err)
		}
		if analysis.Fenced(node) {
			return nil
		}
		if analysis.NodeReady(node) == string(corev1.ConditionTrue) {
			return &ErrRefused{Msg: fmt.Sprintf("refusing to fence node %s: it is Ready again, so it is not down. Rerun without --node-down: kubectl sparkha failover %s -n %s", step.Node, r.App, r.Namespace)}
		}
		// The evidence again, from the live Node and Lease: a kubelet that came back to life
		// since the plan stops the fence.
		ev, err := r.liveEvidence(ctx, node)
		if err != nil {
			return fmt.Errorf("reading the evidence of node %s again before the fence: %w", step.Node, err)
		}
		if ev.Alive != "" && !r.IgnoreNodeEvidence {
			return &ErrRefused{Msg: fmt.Sprintf("refusing to fence node %s: %s, so its machine is running; nothing was done (--ignore-node-evidence overrides, and the audit records it)", step.Node, ev.Alive)}
		}
		node.Spec.Taints = append(node.Spec.Taints, corev1.Taint{
			Key: corev1.TaintNodeOutOfService, Value: analysis.OutOfServiceValue, Effect: corev1.TaintEffectNoExecute,
			TimeAdded: ptr.To(metav1.NewTime(r.now())),
		})
		if err := r.annotate(&node.ObjectMeta, Audit{Action: analysis.FenceNode, Node: step.Node, App: r.Namespace + "/" + r.App, Why: step.Why}); err != nil {
			return err
		}
		if _, err := r.Client.CoreV1().Nodes().Update(ctx, node, r.writeOpts()); err != nil {
			return fmt.Errorf("tainting node %s: %w", step.Node, err)
		}
		acted = true
		return nil
	})
	if apierrors.IsConflict(err) {
		return false, fmt.Errorf("node %s keeps changing while fencing it; nothing was done: rerun", step.Node)
	}
	return acted, err
}

// podsOn lists the pods bound to node, as namespace/name.
func (r *Runner) podsOn(ctx context.Context, node string) ([]string, error) {
	pods, err := r.Client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", node).String(),
	})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range pods.Items {
		if p.Spec.NodeName == node { // a fake client ignores field selectors
			out = append(out, p.Namespace+"/"+p.Name)
		}
	}
	return out, nil
}

// liveEvidence reads the node's Lease (a Lease the caller may not read counts as unknown) and
// lists the remediations again, and says what they and the node show of the machine.
func (r *Runner) liveEvidence(ctx context.Context, node *corev1.Node) (*analysis.NodeEvidence, error) {
	m := analysis.Machine{Node: node}
	if l, err := r.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, node.Name, metav1.GetOptions{}); err == nil && l.Spec.RenewTime != nil {
		m.LeaseRenewed = &l.Spec.RenewTime.Time
	}
	rems, unseen, err := inspect.Remediations(ctx, r.Dynamic, inspect.Query{PageSize: 500})
	if err != nil {
		return nil, err
	}
	m.Remediations = slices.DeleteFunc(rems, func(x analysis.Remediation) bool { return x.Node != node.Name })
	m.RemediationsUnseen = unseen
	return analysis.Evidence(node.Name, m, r.now()), nil
}

// finish marks the old driver Failed, as PodGC does for orphaned pods, so the
// Job controller counts it (the DisruptionTarget rule keeps it off the retry
// budget), then deletes it with grace period 0.
func (r *Runner) finish(ctx context.Context, step analysis.Step) (bool, error) {
	pods := r.Client.CoreV1().Pods(r.Namespace)
	pod, err := pods.Get(ctx, step.Pod, metav1.GetOptions{})
	if apierrors.IsNotFound(err) || (err == nil && pod.UID != types.UID(step.PodUID)) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// Someone (the kubelet, PodGC, another failover) finished it already.
	if pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		return false, nil
	}
	// Re-check the premise on the object about to be written: deleted, every
	// container reported terminated, and the node Ready.
	node, err := r.Client.CoreV1().Nodes().Get(ctx, pod.Spec.NodeName, metav1.GetOptions{})
	if err != nil {
		return false, fmt.Errorf("reading node %s: %w", pod.Spec.NodeName, err)
	}
	if pod.DeletionTimestamp == nil || !analysis.ContainersStopped(pod) || analysis.NodeReady(node) != string(corev1.ConditionTrue) {
		return false, fmt.Errorf("pod %s no longer shows its containers stopped on a Ready node; nothing was done: rerun to decide again", step.Pod)
	}
	return r.failAndDelete(ctx, pod, "kubectl sparkha failover: the node's kubelet reported the containers stopped")
}

// failAndDelete marks pod Failed with the DisruptionTarget condition (kept if the pod has one
// already), so the Job controller counts it off the retry budget, then deletes it with grace
// period 0, as PodGC's markFailedAndDeletePod does. The status update carries the
// resourceVersion just read and the delete the pod's UID: of two concurrent runs only one
// acts; the other reports false.
func (r *Runner) failAndDelete(ctx context.Context, pod *corev1.Pod, why string) (bool, error) {
	pods := r.Client.CoreV1().Pods(pod.Namespace)
	pod.Status.Phase = corev1.PodFailed
	setCondition(&pod.Status, corev1.PodCondition{
		Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "DeletionBySparkhaFailover",
		Message: why, LastTransitionTime: metav1.NewTime(r.now()),
	})
	if _, err := pods.UpdateStatus(ctx, pod, r.writeOpts()); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("marking pod %s Failed: %w", pod.Name, err)
	}
	del := metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0), Preconditions: &metav1.Preconditions{UID: &pod.UID}, DryRun: r.dryRun()}
	if err := pods.Delete(ctx, pod.Name, del); err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("deleting pod %s: %w", pod.Name, err)
	}
	return true, nil
}

func setCondition(s *corev1.PodStatus, c corev1.PodCondition) {
	for i := range s.Conditions {
		if s.Conditions[i].Type == c.Type {
			if s.Conditions[i].Status == c.Status {
				return
			}
			s.Conditions[i] = c
			return
		}
	}
	s.Conditions = append(s.Conditions, c)
}

// evictionWait bounds how long collect waits for the taint manager to evict the old driver
// from the fenced node (it does so at once for a pod that does not tolerate the taint).
var evictionWait = 10 * time.Second

// collect does at once what the pod garbage collector's next pass would for the old driver, or
// an executor, on the node just fenced (kube-controller-manager pkg/controller/podgc, gcTerminating and
// markFailedAndDeletePod): a pod being deleted, on a node that is not Ready and carries the
// out-of-service taint, is marked Failed and deleted with grace period 0. Each condition is
// checked on the live objects; a pod that tolerates the taint is never evicted, so never
// collected here either (evictionWait passes, and it is left to Kubernetes).
func (r *Runner) collect(ctx context.Context, step analysis.Step) (bool, error) {
	pods := r.Client.CoreV1().Pods(r.Namespace)
	var pod *corev1.Pod
	deadline := time.Now().Add(evictionWait) // a wait on the wall clock, not the analysis clock
	for {
		var err error
		pod, err = pods.Get(ctx, step.Pod, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || (err == nil && (pod.UID != types.UID(step.PodUID) || pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded)) {
			return false, nil // gone or finished already: PodGC or the kubelet did it
		}
		if err != nil {
			return false, err
		}
		if pod.DeletionTimestamp != nil {
			break
		}
		if r.DryRun || !time.Now().Before(deadline) {
			r.progress("%s: not evicted yet, left to Kubernetes' pod garbage collector", analysis.Describe(step))
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	node, err := r.Client.CoreV1().Nodes().Get(ctx, pod.Spec.NodeName, metav1.GetOptions{})
	if err != nil {
		return false, fmt.Errorf("reading node %s: %w", pod.Spec.NodeName, err)
	}
	if !analysis.Fenced(node) || analysis.NodeReady(node) == string(corev1.ConditionTrue) {
		return false, fmt.Errorf("node %s is no longer fenced and not Ready; pod %s was left alone: rerun to decide again", node.Name, step.Pod)
	}
	return r.failAndDelete(ctx, pod, fmt.Sprintf("kubectl sparkha failover: node %s is fenced (out-of-service) and not Ready", node.Name))
}

// Actor is who this client is, from a SelfSubjectReview.
func (r *Runner) Actor(ctx context.Context) string {
	if r.actor != "" {
		return r.actor
	}
	r.actor = "unknown (SelfSubjectReview not allowed)"
	review, err := r.Client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err == nil && review.Status.UserInfo.Username != "" {
		r.actor = review.Status.UserInfo.Username
	}
	return r.actor
}

func (r *Runner) annotate(meta *metav1.ObjectMeta, a Audit) error {
	a.By, a.At = r.actor, r.now().UTC()
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	meta.Annotations[AuditAnnotation] = string(b)
	return nil
}

// recordEvent creates an audit Event, retried on transient failures. Its name
// is fixed before the first try, so an AlreadyExists is an earlier try that
// landed and whose answer was lost.
func (r *Runner) recordEvent(ctx context.Context, ev *corev1.Event) error {
	return apiretry.OnTransient(func() error {
		_, err := r.Client.CoreV1().Events(ev.Namespace).Create(ctx, ev, metav1.CreateOptions{DryRun: r.dryRun()})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	})
}

// audit leaves an Event and the annotation on the app's Job (or its bare
// driver pod) for a step that was carried out. Each write is idempotent, so
// it is retried: the Event through recordEvent, the annotations as merge
// patches.
func (r *Runner) audit(ctx context.Context, app *analysis.App, step analysis.Step) error {
	ref := corev1.ObjectReference{Kind: "Job", APIVersion: "batch/v1", Namespace: app.Namespace, Name: app.Job}
	var job *batchv1.Job
	if app.Job != "" {
		var err error
		if err = apiretry.OnTransient(func() (err error) {
			job, err = r.Client.BatchV1().Jobs(app.Namespace).Get(ctx, app.Job, metav1.GetOptions{})
			return err
		}); err != nil {
			return err
		}
		ref.UID, ref.ResourceVersion = job.UID, job.ResourceVersion
	} else {
		ref = corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: app.Namespace, Name: step.Pod, UID: types.UID(step.PodUID)}
		if d, ok := runningDriver(app); ok && (step.Pod == "" || step.Action == analysis.CollectExecutor) {
			// A step on executors or on the node alone: the record goes on their driver.
			ref.Name, ref.UID = d.Pod, types.UID(d.UID)
		}
	}
	reason := map[analysis.Action]string{analysis.FenceNode: "FailoverFencedNode", analysis.FinishOldDriver: "FailoverFinishedOldDriver",
		analysis.CollectOldDriver: "FailoverCollectedOldDriver", analysis.CollectExecutor: "FailoverCollectedExecutor"}[step.Action]
	now := metav1.NewTime(r.now())
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", ref.Name, now.UnixNano()), Namespace: app.Namespace},
		InvolvedObject: ref, Reason: reason, Type: corev1.EventTypeNormal,
		Message:        fmt.Sprintf("%s by %s: %s", analysis.Describe(step), r.actor, step.Why),
		Source:         corev1.EventSource{Component: EventSource},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: EventSource, ReportingInstance: r.actor,
	}
	if err := r.recordEvent(ctx, ev); err != nil {
		return err
	}
	a := Audit{Action: step.Action, Node: step.Node, Pod: step.Pod, App: app.Namespace + "/" + app.Name, Why: step.Why}
	if job == nil {
		// A driver without a Job: the annotation goes on the pod the event names, if it still exists.
		var meta metav1.ObjectMeta
		if err := r.annotate(&meta, a); err != nil {
			return err
		}
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": meta.Annotations}})
		if err != nil {
			return err
		}
		return apiretry.OnTransient(func() error {
			_, err := r.Client.CoreV1().Pods(app.Namespace).Patch(ctx, ref.Name, types.MergePatchType, patch, metav1.PatchOptions{DryRun: r.dryRun()})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return err
		})
	}
	if err := r.annotate(&job.ObjectMeta, a); err != nil {
		return err
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{AuditAnnotation: job.Annotations[AuditAnnotation]}}})
	if err != nil {
		return err
	}
	return apiretry.OnTransient(func() error {
		_, err := r.Client.BatchV1().Jobs(app.Namespace).Patch(ctx, app.Job, types.MergePatchType, patch, metav1.PatchOptions{DryRun: r.dryRun()})
		return err
	})
}

// runningDriver is the app's driver that runs on a node that is not lost, if any.
func runningDriver(app *analysis.App) (analysis.Driver, bool) {
	for i := len(app.Drivers) - 1; i >= 0; i-- {
		if d := app.Drivers[i]; d.MayRun && !d.NodeLost {
			return d, true
		}
	}
	return analysis.Driver{}, false
}
