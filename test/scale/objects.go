package scale

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// The objects of the cluster: nodes, pods with a kubelet-like status, events.

func benchNodeObject(i int, now time.Time) *corev1.Node {
	name := benchNode(i)
	zone := fmt.Sprintf("zone-%c", 'a'+i%3)
	hb := metav1.NewTime(now)
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: hb, LastTransitionTime: hb}
	}
	conds := []corev1.NodeCondition{
		cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
		cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
		cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
		cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"),
	}
	var taints []corev1.Taint
	if !readyNode(i) {
		// Lost: as the node lifecycle controller leaves a node whose kubelet stopped posting.
		for j := range conds {
			conds[j].Status, conds[j].Reason, conds[j].Message = corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status."
		}
		taints = []corev1.Taint{
			{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
			{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute, TimeAdded: &hb},
		}
	}
	var images []corev1.ContainerImage
	for j := 0; j < 8; j++ {
		images = append(images, corev1.ContainerImage{
			Names:     []string{fmt.Sprintf("registry.example.com/base/image-%d@sha256:%064x", j, j*7919+i), fmt.Sprintf("registry.example.com/base/image-%d:1.%d", j, j)},
			SizeBytes: int64(50_000_000 + j*1_000_000),
		})
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
			"node.kubernetes.io/instance-type": "m5.4xlarge", "topology.kubernetes.io/zone": zone, "topology.kubernetes.io/region": "region-1",
		}},
		Spec: corev1.NodeSpec{PodCIDR: fmt.Sprintf("10.%d.%d.0/24", 100+i/256, i%256), Taints: taints},
		Status: corev1.NodeStatus{
			Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("16"), corev1.ResourceMemory: resource.MustParse("64Gi"),
				corev1.ResourcePods: resource.MustParse("110"), corev1.ResourceEphemeralStorage: resource.MustParse("100Gi")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("15800m"), corev1.ResourceMemory: resource.MustParse("62Gi"),
				corev1.ResourcePods: resource.MustParse("110"), corev1.ResourceEphemeralStorage: resource.MustParse("90Gi")},
			Conditions: conds,
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("10.1.%d.%d", i/256, i%256)},
				{Type: corev1.NodeHostName, Address: name}},
			NodeInfo: corev1.NodeSystemInfo{MachineID: fmt.Sprintf("%032x", i), SystemUUID: fmt.Sprintf("%032x", i+1), BootID: fmt.Sprintf("%032x", i+2),
				KernelVersion: "6.1.0", OSImage: "Debian GNU/Linux 12", ContainerRuntimeVersion: "containerd://1.7.20",
				KubeletVersion: "v1.37.2", OperatingSystem: "linux", Architecture: "amd64"},
			Images: images,
		},
	}
}

func benchPod(ns, name, node string, labels map[string]string, image string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels,
			Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "8080"}},
		Spec: corev1.PodSpec{
			NodeName: node,
			Containers: []corev1.Container{{
				Name: "app", Image: image,
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				Env: []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}, {Name: "POD_NAME", Value: name},
					{Name: "JAVA_OPTS", Value: "-Xmx1g -XX:+UseG1GC"}},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
				},
			}},
			// No tolerationSeconds: the taint manager never evicts them from the lost nodes.
			Tolerations: []corev1.Toleration{
				{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
				{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
			},
		},
	}
}

func benchPodStatus(p *corev1.Pod, phase corev1.PodPhase, nodeReady bool) corev1.PodStatus {
	start := metav1.NewTime(p.CreationTimestamp.Time)
	ready := corev1.ConditionTrue
	if !nodeReady || phase != corev1.PodRunning {
		ready = corev1.ConditionFalse
	}
	cs := corev1.ContainerStatus{
		Name: p.Spec.Containers[0].Name, Image: p.Spec.Containers[0].Image, ImageID: p.Spec.Containers[0].Image + "@sha256:" + fmt.Sprintf("%064x", len(p.Name)),
		ContainerID: "containerd://" + fmt.Sprintf("%064x", p.UID[:8]), Ready: ready == corev1.ConditionTrue, Started: ptr.To(phase == corev1.PodRunning),
	}
	switch phase {
	case corev1.PodRunning:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: start}
	case corev1.PodFailed:
		cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", StartedAt: start, FinishedAt: start}
	default:
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		cs.ContainerID, cs.ImageID = "", ""
	}
	cond := func(t corev1.PodConditionType, s corev1.ConditionStatus) corev1.PodCondition {
		return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: start}
	}
	return corev1.PodStatus{
		Phase:  phase,
		HostIP: "10.1.0.1", PodIP: "10.244.0.10", StartTime: &start, QOSClass: corev1.PodQOSBurstable,
		Conditions: []corev1.PodCondition{
			cond(corev1.PodInitialized, corev1.ConditionTrue), cond(corev1.PodReady, ready),
			cond(corev1.ContainersReady, ready), cond(corev1.PodScheduled, corev1.ConditionTrue),
		},
		ContainerStatuses: []corev1.ContainerStatus{cs},
	}
}

var (
	normalEvents = [][2]string{
		{"Scheduled", "Successfully assigned %s/%s to %s"},
		{"Pulled", "Container image \"registry.example.com/svc:1.4.2\" already present on machine"},
		{"Created", "Created container app"},
		{"Started", "Started container app"},
	}
	warningEvents = [][2]string{
		{"BackOff", "Back-off restarting failed container app in pod %s_%s(%s)"},
		{"Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503 (%s/%s on %s)"},
	}
)

func benchEvent(i int, p podRef, now time.Time) *corev1.Event {
	typ, tmpl := corev1.EventTypeNormal, normalEvents[i%len(normalEvents)]
	if i%10 == 0 {
		typ, tmpl = corev1.EventTypeWarning, warningEvents[(i/10)%len(warningEvents)]
	}
	third := p.node
	if tmpl[0] == "BackOff" {
		third = string(p.uid)
	}
	msg := tmpl[1]
	if strings.Count(msg, "%s") == 3 {
		msg = fmt.Sprintf(msg, p.ns, p.name, third)
	}
	t := metav1.NewTime(now.Add(-time.Duration(i%3600) * time.Second))
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%016x", p.name, i), Namespace: p.ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: p.ns, Name: p.name, UID: p.uid, APIVersion: "v1",
			FieldPath: "spec.containers{app}"},
		Reason: tmpl[0], Message: msg, Type: typ, Count: int32(1 + i%5),
		FirstTimestamp: t, LastTimestamp: t,
		Source: corev1.EventSource{Component: "kubelet", Host: p.node}, ReportingController: "kubelet", ReportingInstance: p.node,
	}
}
