package kubelet

import (
	"context"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// How a v1.37 kubelet tears a deleted pod down (pkg/kubelet/pod_workers.go and kubelet.go):
// SyncTerminatingPod stops the containers, each with SIGTERM and, at the end of the grace
// period, SIGKILL, then writes the pod's status with a terminal phase (generateAPIPodStatus
// with podIsTerminal: Failed unless every container succeeded); the status manager lets the
// phase turn terminal once no container can run (status_manager.go, mergePodStatus), without
// waiting for the volumes. SyncTerminatedPod then waits for the volumes to be unmounted
// (WaitForUnmount), and only then may the status manager delete the pod with grace period 0
// (canBeDeleted: the pod's phase is terminal and its termination finished).

// mount is what this machine has mounted for a pod: its attachable volumes.
type mount struct {
	volumes []corev1.UniqueVolumeName
	// pod is the pod as last seen, so a pod that vanished is unmounted as it was.
	pod *corev1.Pod
}

// killing is a pod whose containers got SIGTERM.
type killing struct {
	grace    int64 // seconds; only ever shortened
	sigterm  time.Time
	deadline time.Time // SIGKILL
}

// exited is how a pod's containers ended on this machine.
type exited struct {
	code              int32
	started, finished time.Time
	// real: the container was a real process (real.go); startErr why it never started.
	real     bool
	startErr string
}

// minimumGracePeriodInSeconds: killContainer always gives a container this long
// (pkg/kubelet/kuberuntime/kuberuntime_manager.go).
const minimumGracePeriodInSeconds = 2

// effectiveGrace is the pod workers' calculateEffectiveGracePeriod (pkg/kubelet/pod_workers.go)
// given the grace period already in force (0: none yet): the API server's
// deletionGracePeriodSeconds, which can only shorten it, else the pod's
// terminationGracePeriodSeconds, at least 1 s; killContainer then raises it to
// minimumGracePeriodInSeconds.
func effectiveGrace(current int64, pod *corev1.Pod) int64 {
	grace, overridden := current, false
	if d := pod.DeletionGracePeriodSeconds; d != nil && (grace == 0 || *d < grace) {
		grace, overridden = *d, true
	}
	if !overridden && grace == 0 && pod.Spec.TerminationGracePeriodSeconds != nil {
		grace = *pod.Spec.TerminationGracePeriodSeconds
	}
	return max(grace, minimumGracePeriodInSeconds)
}

// sigtermExit is how long the pod's containers take to exit on SIGTERM (SIGTERMExitAnnotation).
func sigtermExit(pod *corev1.Pod) time.Duration {
	n, err := strconv.Atoi(pod.Annotations[SIGTERMExitAnnotation])
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// stopAt says when the containers of a pod being killed end, and how: on SIGTERM (143) if
// they exit before the deadline, else killed at the deadline (137).
func (kl *killing) stopAt(exitAfter time.Duration) (time.Time, int32) {
	if at := kl.sigterm.Add(exitAfter); at.Before(kl.deadline) {
		return at, 143
	}
	return kl.deadline, 137
}

// stopContainers sends SIGTERM to a deleted pod's containers on its first sync, shortens the
// grace period when the API server does (the pod worker restarts the kill with it), and says
// whether, when and how they ended. The grace period counts from this kubelet's SIGTERM, not
// from the deletion: a kubelet that learns of a deletion late still gives it in full.
func (k *Kubelet) stopContainers(pod *corev1.Pod, c *container, now time.Time) (at time.Time, code int32, done bool) {
	kl := k.killing[pod.UID]
	if kl == nil {
		g := effectiveGrace(0, pod)
		kl = &killing{grace: g, sigterm: now, deadline: now.Add(time.Duration(g) * time.Second)}
		k.killing[pod.UID] = kl
		for _, ctr := range pod.Spec.Containers {
			k.recorder.Eventf(pod, corev1.EventTypeNormal, "Killing", "Stopping container %s", ctr.Name)
		}
		if c.proc != nil {
			c.proc.Term()
		}
		k.Log.Printf("SIGTERM %s/%s, grace period %ds", pod.Namespace, pod.Name, g)
	} else if g := effectiveGrace(kl.grace, pod); g < kl.grace {
		kl.grace = g
		if d := now.Add(time.Duration(g) * time.Second); d.Before(kl.deadline) {
			kl.deadline = d
		}
	}
	if c.real() {
		return k.stopReal(pod, c, kl, now)
	}
	at, code = kl.stopAt(sigtermExit(pod))
	return at, code, !now.Before(at)
}

// terminate does what a kubelet does for a pod with a deletion timestamp: stop its
// containers, write its terminal status, unmount its volumes, then delete it with grace
// period 0. Finalizers are not touched; their owners remove them.
func (k *Kubelet) terminate(ctx context.Context, pod *corev1.Pod, now time.Time) {
	if c := k.running[pod.UID]; c != nil {
		at, code, done := k.stopContainers(pod, c, now)
		if !done {
			return
		}
		delete(k.running, pod.UID)
		delete(k.killing, pod.UID)
		how := "exited on SIGTERM"
		if code == 137 {
			how = "killed at the end of the grace period"
		}
		k.recordStop(pod.UID, c, "pod deleted: "+how, at)
		k.Log.Printf("stopped %s/%s: %s (exit %d)", pod.Namespace, pod.Name, how, code)
		k.exited[pod.UID] = &exited{code: code, started: c.started, finished: at}
	}
	if !isTerminal(pod) {
		if err := k.writeStatus(ctx, pod, k.terminalStatus(pod)); err != nil {
			return
		}
	}
	if !k.unmount(pod) {
		return
	}
	err := k.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		k.Log.Printf("delete %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}

// terminalStatus is a deleted pod's status once its containers stopped: Failed, each
// container terminated as it ended here, or ContainerStatusUnknown if it never ran here.
func (k *Kubelet) terminalStatus(pod *corev1.Pod) *corev1.PodStatus {
	status := pod.Status.DeepCopy()
	status.Phase = corev1.PodFailed
	now := metav1.Now()
	status.ContainerStatuses = nil
	for _, ctr := range pod.Spec.Containers {
		term := &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "ContainerStatusUnknown",
			Message: "The container could not be located when the pod was terminated", FinishedAt: now}
		if e := k.exited[pod.UID]; e != nil {
			term = &corev1.ContainerStateTerminated{ExitCode: e.code, Reason: "Error",
				StartedAt: metav1.NewTime(e.started), FinishedAt: metav1.NewTime(e.finished)}
		}
		status.ContainerStatuses = append(status.ContainerStatuses, corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image, State: corev1.ContainerState{Terminated: term},
		})
	}
	for _, t := range []corev1.PodConditionType{corev1.PodReady, corev1.ContainersReady} {
		setPodCondition(status, corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: "PodFailed", LastTransitionTime: now})
	}
	return status
}

// unmount unmounts the volumes of a pod whose containers stopped and says whether they are
// unmounted; SlowTeardownAnnotation keeps them mounted. A volume of a pod annotated
// StuckUnmountAnnotation stays in use on the machine: its device never unmounts.
func (k *Kubelet) unmount(pod *corev1.Pod) bool {
	m := k.mounted[pod.UID]
	if m == nil {
		return true
	}
	if pod.Annotations[SlowTeardownAnnotation] == "true" {
		return false
	}
	if pod.Annotations[StuckUnmountAnnotation] == "true" {
		for _, v := range m.volumes {
			k.stuck[v] = true
		}
	}
	delete(k.mounted, pod.UID)
	k.Log.Printf("unmounted the volumes of %s/%s", pod.Namespace, pod.Name)
	return true
}
