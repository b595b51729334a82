package kubelet

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/sparkstandin"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

// The Spark processes of this machine. A Spark driver's container starts an
// executor allocator (package sparkstandin) that runs in the driver's
// process, on this machine: while the machine is stopped (partitioned) the
// driver runs on but its requests reach no API server, exactly as the
// machine's other traffic to it. An executor's container runs while its
// driver's process runs, wherever that is; the driver's machine records
// that in the ground truth, which stands in for the executor's connection to
// its driver (CoarseGrainedExecutorBackend.onDisconnected: the executor exits
// with code 1 when its driver disassociates).

// startDriver derives the driver run's conf and starts its allocator. A conf
// the driver could not load means no executors (the real driver would fail).
func (k *Kubelet) startDriver(pod *corev1.Pod, c *container) {
	d, err := sparkstandin.NewDriver(pod, c.ip, k.cms.ConfigMaps(pod.Namespace).Get, time.Now())
	if err != nil {
		k.Log.Printf("spark driver %s/%s: no executors: %v", pod.Namespace, pod.Name, err)
		return
	}
	c.appID = d.AppID
	c.alloc = sparkstandin.NewAllocator(d)
	k.Log.Printf("spark driver %s/%s: app id %s, executors %s-exec-N, %d wanted", pod.Namespace, pod.Name, d.AppID, d.Prefix, d.Instances())
}

// groundTruth reads every machine's record once per sync.
func (k *Kubelet) groundTruth() []truth.Interval {
	if k.truthNow == nil {
		ivs, err := truth.Read(k.TruthDir)
		if err != nil {
			k.Log.Printf("truth: %v", err)
		}
		k.truthNow = append(ivs, truth.Interval{}) // non-nil even when empty
	}
	return k.truthNow
}

// driverProcess reports how the process of the driver pod with this UID
// stands: whether it runs, and if it stopped, when.
func (k *Kubelet) driverProcess(uid string) (end time.Time, runs bool) {
	if uid == "" {
		return time.Time{}, false
	}
	iv, found := truth.Process(k.groundTruth(), uid)
	if !found {
		return time.Time{}, false
	}
	return iv.End, iv.Running()
}

// sparkProcesses runs the allocators of the drivers on this machine and
// stops the executors whose driver is gone. syncPods holds mu.
func (k *Kubelet) sparkProcesses(ctx context.Context, pods []*corev1.Pod) {
	byUID := map[types.UID]*corev1.Pod{}
	for _, p := range pods {
		byUID[p.UID] = p
	}
	now := time.Now()
	for uid, c := range k.running {
		switch {
		case c.real():
			// Its JVM talks to its driver and the API server itself.
		case c.role == sparkstandin.RoleExecutor:
			end, runs := k.driverProcess(c.driver)
			if runs {
				continue
			}
			// The executor exited when its driver did; if this machine was
			// stopped then, it only records it now, at the time it happened.
			at := time.Time{}
			if !end.IsZero() && end.After(k.frozen[0]) && end.Before(k.frozen[1]) && end.After(c.started) {
				at = end
			}
			delete(k.running, uid)
			delete(k.killing, uid)
			k.recordStop(uid, c, "driver disassociated", at)
			if at.IsZero() {
				at = now
			}
			k.exited[uid] = &exited{code: 1, started: c.started, finished: at}
			k.Log.Printf("executor %s/%s exited: its driver %s stopped", c.namespace, c.name, c.driver)
			if p := byUID[uid]; p != nil && p.DeletionTimestamp == nil {
				k.exitExecutor(ctx, p, c, "Driver disassociated! Shutting down.")
			}
		case c.alloc != nil:
			p := byUID[uid]
			if p == nil || p.DeletionTimestamp != nil || !podConditionTrue(p, corev1.PodReady) {
				// ExecutorPodsAllocator.start waits for the driver pod to be Ready.
				continue
			}
			k.allocate(ctx, c.alloc, now)
		}
	}
}

// allocate runs one allocator round and creates the executors it asks for,
// from this machine.
func (k *Kubelet) allocate(ctx context.Context, a *sparkstandin.Allocator, now time.Time) {
	execs, err := k.execs.Pods(a.Driver.Pod.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, id := range a.Round(execs, now) {
		pod := a.Driver.Executor(id)
		if _, err := k.Client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			// requestNewExecutors throws; the id is spent, the next round asks again.
			k.Log.Printf("spark driver %s/%s: creating executor %s: %v", a.Driver.Pod.Namespace, a.Driver.Pod.Name, pod.Name, err)
			return
		}
		a.Created(id, now)
		k.Log.Printf("spark driver %s/%s: created executor %s", a.Driver.Pod.Namespace, a.Driver.Pod.Name, pod.Name)
	}
}

// exitExecutor writes the terminal status of an executor whose JVM exited
// with code 1 (c nil: it never got to run).
func (k *Kubelet) exitExecutor(ctx context.Context, pod *corev1.Pod, c *container, message string) {
	status := pod.Status.DeepCopy()
	status.Phase = corev1.PodFailed
	now := metav1.Now()
	started := now
	if c != nil {
		started = metav1.NewTime(c.started)
	}
	if status.StartTime == nil {
		status.StartTime = &started
	}
	status.HostIP = k.NodeIP
	status.HostIPs = []corev1.HostIP{{IP: k.NodeIP}}
	status.ContainerStatuses = nil
	for _, ctr := range pod.Spec.Containers {
		status.ContainerStatuses = append(status.ContainerStatuses, corev1.ContainerStatus{Name: ctr.Name, Image: ctr.Image,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: message,
				StartedAt: started, FinishedAt: now}}})
	}
	for _, t := range []corev1.PodConditionType{corev1.PodReady, corev1.ContainersReady} {
		setPodCondition(status, corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: "PodFailed", LastTransitionTime: now})
	}
	if err := k.writeStatus(ctx, pod, status); err != nil && !apierrors.IsNotFound(err) {
		k.Log.Printf("executor %s/%s exit status: %v", pod.Namespace, pod.Name, err)
	}
}
