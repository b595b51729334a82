package kubelet

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/sparkrt"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/storage"
)

// Pods whose image is one of the sandbox's Spark images (sparkrt.Images) run for real when the
// machine has a Spark runtime: the driver's JVM asks the API server for its executors, and
// their JVMs register with it over the pod network, so the stand-in allocator, the stand-in's
// executor exit and the simulated checkpoint writes stay out of their way. The kubelet keeps
// its part: when a container starts (volumes first), SIGTERM and the grace period on delete,
// the ground truth, and the status; the exit code and the time are the process's.

// realImage says whether pod runs for real on this machine, and on which image.
func (k *Kubelet) realImage(pod *corev1.Pod) (sparkrt.Image, bool) {
	if k.Spark == nil || len(pod.Spec.Containers) == 0 {
		return sparkrt.Image{}, false
	}
	images, err := sparkrt.Images(k.Spark.Dir)
	if err != nil {
		k.Log.Printf("spark images: %v", err)
		return sparkrt.Image{}, false
	}
	img, ok := images[pod.Spec.Containers[0].Image]
	return img, ok
}

// runReal starts the pod's container as processes. A container that cannot start ends at once
// with exit code 128, as a runtime's StartError.
func (k *Kubelet) runReal(ctx context.Context, pod *corev1.Pod, c *container, img sparkrt.Image) {
	claims := map[string]sparkrt.Volume{}
	for _, v := range k.claimVolumes(pod) {
		// The storage's data side: the same directory for every machine mounting the volume.
		claims[v.podVolume] = sparkrt.Volume{Dir: storage.ContentDir(k.VolumesDir, v.dataKey)}
	}
	p, err := k.Spark.Run(ctx, sparkrt.PodSpec{
		Pod: pod, Image: img, IP: c.ip, HostIP: k.NodeIP, Claims: claims,
		ConfigMap: func(ns, name string) (*corev1.ConfigMap, error) { return k.cms.ConfigMaps(ns).Get(name) },
		Secret:    func(ns, name string) (*corev1.Secret, error) { return k.secrets.Secrets(ns).Get(name) },
	})
	if err != nil {
		k.Log.Printf("start %s/%s: %v", pod.Namespace, pod.Name, err)
		k.recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		c.startErr = err.Error()
		return
	}
	c.proc = p
	k.Log.Printf("%s/%s runs for real (output in %s)", pod.Namespace, pod.Name, p.Log)
}

// realExit reports a real container that ended on its own (not on this kubelet's SIGTERM):
// Spark's driver when its application finished or failed, an executor when its driver went.
// The pod's phase turns terminal as the kubelet's status manager turns it once no container can
// run again under restartPolicy Never (generateAPIPodStatus, getPhase): Succeeded if every
// container exited 0, else Failed.
func (k *Kubelet) realExit(ctx context.Context, pod *corev1.Pod, c *container) bool {
	code, at, ended := c.exitCode()
	if !ended {
		return false
	}
	delete(k.running, pod.UID)
	reason := fmt.Sprintf("exited with code %d", code)
	k.recordStop(pod.UID, c, reason, at)
	k.Log.Printf("%s/%s %s", pod.Namespace, pod.Name, reason)
	k.exited[pod.UID] = &exited{code: code, started: c.started, finished: at, real: true, startErr: c.startErr}
	k.reportExit(ctx, pod)
	return true
}

// reportExit writes the terminal status of a pod whose real container ended, and unmounts its
// volumes once the status is written. Until then every sync tries again: a pod whose container
// ended is never started again (restartPolicy Never).
func (k *Kubelet) reportExit(ctx context.Context, pod *corev1.Pod) {
	e := k.exited[pod.UID]
	if err := k.writeStatus(ctx, pod, k.exitStatus(pod, e.code, e.started, e.finished, e.startErr)); err != nil {
		return
	}
	k.unmount(pod)
}

// exitStatus is the status of a pod whose container ended with code.
func (k *Kubelet) exitStatus(pod *corev1.Pod, code int32, started, finished time.Time, message string) *corev1.PodStatus {
	status := pod.Status.DeepCopy()
	status.Phase = corev1.PodFailed
	reason := "Error"
	switch {
	case code == 0:
		status.Phase, reason = corev1.PodSucceeded, "Completed"
	case message != "":
		reason = "StartError"
	}
	now := metav1.Now()
	status.ContainerStatuses = nil
	for _, ctr := range pod.Spec.Containers {
		status.ContainerStatuses = append(status.ContainerStatuses, corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image, ImageID: "sandbox://" + ctr.Image,
			ContainerID: fmt.Sprintf("sandbox://%s-%s", pod.UID, ctr.Name),
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, Message: message,
				StartedAt: metav1.NewTime(started), FinishedAt: metav1.NewTime(finished)}},
		})
	}
	condReason := "PodCompleted"
	if status.Phase == corev1.PodFailed {
		condReason = "PodFailed"
	}
	for _, t := range []corev1.PodConditionType{corev1.PodReady, corev1.ContainersReady} {
		setPodCondition(status, corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: condReason, LastTransitionTime: now})
	}
	return status
}

// exitCode says whether c's real container ended, how and when; a container that never
// started ended with 128 when it was to start.
func (c *container) exitCode() (int32, time.Time, bool) {
	if c.startErr != "" {
		return 128, c.started, true
	}
	if c.proc == nil {
		return 0, time.Time{}, false
	}
	return c.proc.Exited()
}

// stopReal is stopContainers for a real container: SIGTERM on the first sync of the deletion,
// SIGKILL at the end of the grace period; done once the process ended.
func (k *Kubelet) stopReal(pod *corev1.Pod, c *container, kl *killing, now time.Time) (time.Time, int32, bool) {
	if code, at, exited := c.exitCode(); exited {
		return at, code, true
	}
	if !now.Before(kl.deadline) {
		c.proc.Kill()
		select {
		case <-c.proc.Done():
		case <-time.After(5 * time.Second):
			k.Log.Printf("%s/%s: still running 5 s after SIGKILL", pod.Namespace, pod.Name)
			return time.Time{}, 0, false
		}
		code, at, _ := c.proc.Exited()
		return at, code, true
	}
	return time.Time{}, 0, false
}

// killReal ends a real container at once (a pod gone from the API, or terminal).
func (k *Kubelet) killReal(uid types.UID, c *container) {
	if c.proc == nil {
		return
	}
	c.proc.Kill()
	select {
	case <-c.proc.Done():
	case <-time.After(5 * time.Second):
		k.Log.Printf("%s/%s: still running 5 s after SIGKILL", c.namespace, c.name)
	}
}
