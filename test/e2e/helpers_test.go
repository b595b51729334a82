package e2e

import (
	"context"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

var ctx = context.Background()

func (e *env) client() kubernetes.Interface {
	e.t.Helper()
	c, err := e.sb.Client()
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) dynamic() dynamic.Interface {
	e.t.Helper()
	d, err := e.sb.Dynamic()
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// eventually polls check until it reports done, failing the test with the
// last state it described once timeout passes.
func (e *env) eventually(timeout time.Duration, what string, check func() (bool, string)) time.Duration {
	e.t.Helper()
	began := time.Now()
	var state string
	for time.Since(began) < timeout {
		var done bool
		if done, state = check(); done {
			e.t.Logf("%s after %.1fs", what, time.Since(began).Seconds())
			return time.Since(began)
		}
		time.Sleep(250 * time.Millisecond)
	}
	e.t.Fatalf("timed out after %s waiting for %s; last seen: %s", timeout, what, state)
	return 0
}

// holds checks that cond stays true for the whole duration.
func (e *env) holds(d time.Duration, what string, cond func() (bool, string)) {
	e.t.Helper()
	began := time.Now()
	for time.Since(began) < d {
		if ok, state := cond(); !ok {
			e.t.Fatalf("%s stopped holding after %.1fs: %s", what, time.Since(began).Seconds(), state)
		}
		time.Sleep(500 * time.Millisecond)
	}
	e.t.Logf("%s held for %s", what, d)
}

func (e *env) namespace(name string) {
	e.t.Helper()
	_, err := e.client().CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.eventually(30*time.Second, "default ServiceAccount in "+name, func() (bool, string) {
		_, err := e.client().CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, fmt.Sprint(err)
	})
}

// seedJob creates the driver Job of the 2018 fork: backoffLimit from the
// conf, no podFailurePolicy, Kubernetes' default replacement policy, the
// checkpoint claim mounted at /checkpoint.
func (e *env) seedJob(ns, name string, mode corev1.PersistentVolumeAccessMode) {
	e.t.Helper()
	c := e.client()
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-checkpoint", Namespace: ns},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{mode},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	if _, err := c.CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](1),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"spark-role": "driver", "spark-app-name": name}},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{
						Name: "spark-kubernetes-driver", Image: "spark:3.5.3",
						Args:         []string{"driver", "--class", "org.apache.spark.examples.SparkPi", "local:///opt/spark/examples/jars/spark-examples.jar"},
						VolumeMounts: []corev1.VolumeMount{{Name: "checkpointpvc", MountPath: "/checkpoint"}},
					}},
					Volumes: []corev1.Volume{{Name: "checkpointpvc", VolumeSource: corev1.VolumeSource{
						PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: pvc.Name},
					}}},
				},
			},
		},
	}
	if _, err := c.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

// jobPods lists the pods of a Job, oldest first.
func (e *env) jobPods(ns, job string) []corev1.Pod {
	e.t.Helper()
	list, err := e.client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + job})
	if err != nil {
		e.t.Fatal(err)
	}
	pods := list.Items
	for i := range pods {
		for j := i + 1; j < len(pods); j++ {
			if pods[j].CreationTimestamp.Before(&pods[i].CreationTimestamp) {
				pods[i], pods[j] = pods[j], pods[i]
			}
		}
	}
	return pods
}

// runningDriver waits for the Job's single driver pod to be Running and returns it.
func (e *env) runningDriver(ns, job string) corev1.Pod {
	e.t.Helper()
	var pod corev1.Pod
	e.eventually(60*time.Second, "driver of "+job+" Running", func() (bool, string) {
		pods := e.jobPods(ns, job)
		if len(pods) != 1 {
			return false, fmt.Sprintf("%d pods", len(pods))
		}
		pod = pods[0]
		return pod.Status.Phase == corev1.PodRunning, describePods(pods)
	})
	return pod
}

func describePods(pods []corev1.Pod) string {
	var parts []string
	for _, p := range pods {
		s := fmt.Sprintf("%s on %s phase=%s", p.Name, p.Spec.NodeName, p.Status.Phase)
		if p.DeletionTimestamp != nil {
			s += " deleting"
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func (e *env) pod(ns, name string) (*corev1.Pod, error) {
	return e.client().CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
}

func (e *env) node(name string) *corev1.Node {
	e.t.Helper()
	n, err := e.client().CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func nodeCondition(n *corev1.Node, t corev1.NodeConditionType) corev1.NodeCondition {
	for _, c := range n.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	return corev1.NodeCondition{}
}

func taint(n *corev1.Node, key string, effect corev1.TaintEffect) *corev1.Taint {
	for i := range n.Spec.Taints {
		if n.Spec.Taints[i].Key == key && n.Spec.Taints[i].Effect == effect {
			return &n.Spec.Taints[i]
		}
	}
	return nil
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) corev1.PodCondition {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	return corev1.PodCondition{}
}

// killNode kills node's machine (its kubelet process: it never comes back by
// itself) and waits until the control plane has declared the node lost.
func (e *env) killNode(node string) {
	e.t.Helper()
	if err := e.sb.Kill(node); err != nil {
		e.t.Fatal(err)
	}
	e.waitNodeLost(node)
}

// waitNodeLost waits until the control plane has declared node lost: Ready
// Unknown and the unreachable NoExecute taint.
func (e *env) waitNodeLost(node string) {
	e.t.Helper()
	e.eventually(40*time.Second, "node "+node+" Ready=Unknown and tainted unreachable", func() (bool, string) {
		n := e.node(node)
		ready := nodeCondition(n, corev1.NodeReady)
		ok := ready.Status == corev1.ConditionUnknown && ready.Reason == "NodeStatusUnknown" &&
			taint(n, corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute) != nil
		return ok, fmt.Sprintf("Ready=%s (%s) taints=%v", ready.Status, ready.Reason, n.Spec.Taints)
	})
}

// waitEvicted waits until the taint manager evicted pod: deletion timestamp
// and the DisruptionTarget condition with reason DeletionByTaintManager.
func (e *env) waitEvicted(ns, name string) *corev1.Pod {
	e.t.Helper()
	var pod *corev1.Pod
	e.eventually(40*time.Second, "eviction of "+name, func() (bool, string) {
		var err error
		if pod, err = e.pod(ns, name); err != nil {
			return false, err.Error()
		}
		dt := podCondition(pod, corev1.DisruptionTarget)
		return pod.DeletionTimestamp != nil && dt.Status == corev1.ConditionTrue && dt.Reason == "DeletionByTaintManager",
			fmt.Sprintf("deletionTimestamp=%v DisruptionTarget=%s/%s", pod.DeletionTimestamp, dt.Status, dt.Reason)
	})
	return pod
}

// kubectlStatus is the STATUS column kubectl prints for a pod.
func (e *env) kubectlStatus(ns, pod string) string {
	e.t.Helper()
	out := e.kubectl("get", "pod", pod, "-n", ns, "--no-headers", "-o", "custom-columns=X:.metadata.name")
	if strings.TrimSpace(out) != pod {
		e.t.Fatalf("kubectl get pod %s printed %q", pod, out)
	}
	fields := strings.Fields(e.kubectl("get", "pod", pod, "-n", ns, "--no-headers"))
	if len(fields) < 3 {
		e.t.Fatalf("unexpected kubectl output %v", fields)
	}
	return fields[2]
}

// events returns "Reason: message" of the events about one object.
func (e *env) events(ns, kind, name string) []string {
	e.t.Helper()
	sel := fields.Set{"involvedObject.kind": kind, "involvedObject.name": name}.AsSelector().String()
	list, err := e.client().CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range list.Items {
		out = append(out, ev.Reason+": "+ev.Message)
	}
	return out
}

func hasEvent(events []string, prefix string) bool {
	for _, ev := range events {
		if strings.HasPrefix(ev, prefix) {
			return true
		}
	}
	return false
}

// attachments returns the VolumeAttachments of a PV.
func (e *env) attachments(pv string) []storagev1.VolumeAttachment {
	e.t.Helper()
	list, err := e.client().StorageV1().VolumeAttachments().List(ctx, metav1.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []storagev1.VolumeAttachment
	for _, va := range list.Items {
		if ptr.Deref(va.Spec.Source.PersistentVolumeName, "") == pv {
			out = append(out, va)
		}
	}
	return out
}

func describeAttachments(vas []storagev1.VolumeAttachment) string {
	var parts []string
	for _, va := range vas {
		parts = append(parts, fmt.Sprintf("%s attached=%t deleting=%t", va.Spec.NodeName, va.Status.Attached, va.DeletionTimestamp != nil))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func (e *env) boundPV(ns, claim string) string {
	e.t.Helper()
	var pv string
	e.eventually(30*time.Second, "claim "+claim+" bound", func() (bool, string) {
		pvc, err := e.client().CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		pv = pvc.Spec.VolumeName
		return pvc.Status.Phase == corev1.ClaimBound, string(pvc.Status.Phase)
	})
	return pv
}

// truth returns the ground truth intervals of the pods of one namespace,
// Spark executors aside (see executorTruth).
func (e *env) truth(ns string) []truth.Interval {
	e.t.Helper()
	return truth.Filter(e.allTruth(ns), func(i truth.Interval) bool { return i.Role != "executor" })
}

// executorTruth returns the ground truth intervals of the Spark executors of one namespace.
func (e *env) executorTruth(ns string) []truth.Interval {
	e.t.Helper()
	return truth.Filter(e.allTruth(ns), func(i truth.Interval) bool { return i.Role == "executor" })
}

func (e *env) allTruth(ns string) []truth.Interval {
	e.t.Helper()
	ivs, err := e.sb.Truth()
	if err != nil {
		e.t.Fatal(err)
	}
	return truth.Filter(ivs, func(i truth.Interval) bool { return i.Namespace == ns })
}

func otherNode(nodes []string, node string) string {
	for _, n := range nodes {
		if n != node {
			return n
		}
	}
	return ""
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }
