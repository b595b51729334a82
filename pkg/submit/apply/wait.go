package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// WaitForDriver watches the driver pods of Job job that match driverSelector in namespace until one is
// Running, writing one line to progress for every change it sees. ctx carries the timeout; on
// expiry the error says `timed out waiting for ...`.
func WaitForDriver(ctx context.Context, client kubernetes.Interface, namespace, job string, driverSelector map[string]string, progress io.Writer) (*corev1.Pod, error) {
	selector := labels.SelectorFromSet(driverSelector).String()
	pods := client.CoreV1().Pods(namespace)
	lw := cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			return pods.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = selector
			return pods.Watch(ctx, o)
		},
	}, client) // the client tells whether it supports watch-list (fake clients do not)

	last := map[string]string{}
	var running *corev1.Pod
	_, err := watchtools.UntilWithSync(ctx, lw, &corev1.Pod{}, nil, func(ev watch.Event) (bool, error) {
		pod, ok := ev.Object.(*corev1.Pod)
		if !ok {
			return false, nil
		}
		if ev.Type == watch.Deleted {
			fmt.Fprintf(progress, "driver pod %s deleted\n", pod.Name)
			delete(last, pod.Name)
			return false, nil
		}
		state := DescribePod(pod)
		if last[pod.Name] != state {
			last[pod.Name] = state
			fmt.Fprintf(progress, "driver pod %s: %s\n", pod.Name, state)
		}
		if pod.Status.Phase == corev1.PodRunning && pod.DeletionTimestamp == nil {
			running = pod
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		if errors.Is(err, watchtools.ErrWatchClosed) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			what := "no driver pod yet"
			if len(last) > 0 {
				var parts []string
				for _, name := range slices.Sorted(maps.Keys(last)) {
					parts = append(parts, name+" "+last[name])
				}
				what = "last seen: " + strings.Join(parts, ", ")
			}
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil, fmt.Errorf("interrupted while waiting for a driver pod of job/%s to be Running (%s); the app keeps running", job, what)
			}
			return nil, fmt.Errorf("timed out waiting for a driver pod of job/%s to be Running (%s); the app keeps running, check it with kubectl get pods -n %s -l %s", job, what, namespace, selector)
		}
		return nil, err
	}
	return running, nil
}

// DescribePod is a one-line state of a pod, close to what kubectl get pods prints.
func DescribePod(pod *corev1.Pod) string {
	state := string(pod.Status.Phase)
	if state == "" {
		state = "Pending"
	}
	if pod.DeletionTimestamp != nil {
		state = "Terminating"
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			state += " (" + w.Reason + ")"
			break
		}
		if t := cs.State.Terminated; t != nil && t.Reason != "" {
			state += fmt.Sprintf(" (%s, exit code %d)", t.Reason, t.ExitCode)
			break
		}
	}
	if pod.Spec.NodeName != "" {
		state += " on node " + pod.Spec.NodeName
	}
	return state
}
